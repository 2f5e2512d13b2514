package org.dit4j.io;

import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.Unpickler;
import net.razorvine.pickle.objects.ClassDict;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.math.BigInteger;
import java.util.*;
import java.util.function.Function;

/**
 * The Java counterpart of {@code torch.load(weights_only=True)}: resolves only the globals a weights file needs and
 * refuses every other one by name before anything is constructed. Tensors come out as {@link TensorRef}s whose data is
 * read afterwards from the checkpoint's storages.
 *
 * <p>Hostile pickles are bounded as well: a pickle may hold at most {@link #MAX_OPCODES} opcodes in at most
 * {@link #MAX_PICKLE_BYTES} bytes, no length field may claim more bytes than remain, and the object graph it builds must
 * be acyclic and at most {@link #MAX_DEPTH} containers deep. torch.save spends about 40 opcodes and 120 bytes per tensor
 * (measured on the test fixtures), so a {@code train.py} checkpoint of DiT-XL/2 (model, EMA and AdamW state, about 900
 * tensors) needs some 40,000 opcodes and 110 KB, nested 5 deep: the limits leave a factor of 50 or more.
 */
public final class RestrictedUnpickler extends Unpickler {
    /** Containers nested deeper than this are refused, so that no walk over the result can overflow the stack. */
    static final int MAX_DEPTH = 100;
    /** Every opcode makes at most one object, so this bounds the objects (and memo references) of one pickle. */
    static final int MAX_OPCODES = 1 << 21;
    static final long MAX_PICKLE_BYTES = 64L << 20;
    /** A Python int of more than 8,000 bits has no place in a weights file. */
    static final int MAX_LONG_BYTES = 1024;
    /** Text opcodes holding numbers or memo keys ({@code INT}, {@code LONG}, {@code GET}...) need no longer line. */
    private static final int MAX_LINE = 1024;
    private static final int MAX_RANK = 64;

    private static final int GLOBAL = 'c', STACK_GLOBAL = 0x93, INST = 'i', OBJ = 'o';
    private static final int BINSTRING = 'T', BINBYTES = 'B', BINUNICODE = 'X', LONG4 = 0x8b,
            BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, BYTEARRAY8 = 0x96, FRAME = 0x95;
    private static final int INT = 'I', LONG = 'L', FLOAT = 'F', GET = 'g', PUT = 'p', PERSID = 'P';
    private static final int SETITEM = 's', SETITEMS = 'u', DICT = 'd', ADDITEMS = 0x90, FROZENSET = 0x91;

    /** A {@code torch.XStorage} class: only ever passed as data inside persistent ids. */
    record StorageType(String name, org.nd4j.linalg.api.buffer.DataType dataType, int elementSize) implements IObjectConstructor {
        public Object construct(Object[] args) {
            throw new PickleException("storage type " + name + " cannot be called");
        }
    }

    /** A storage named by a persistent id: {@code ('storage', type, key, location, numel)}. */
    record StorageRef(StorageType type, String key, long numel) {
        long bytes() {
            return numel * type.elementSize();
        }
    }

    /** A {@code _rebuild_tensor_v2} call: a strided view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    /** {@code collections.OrderedDict}; state set by BUILD (a state dict's {@code _metadata}) is kept apart. */
    public static final class OrderedDict extends LinkedHashMap<Object, Object> {
        public void __setstate__(HashMap<?, ?> state) {}
    }

    private static final Map<String, IObjectConstructor> ALLOWED = new HashMap<>();

    static {
        ALLOWED.put("collections.OrderedDict", args -> new OrderedDict());
        ALLOWED.put("argparse.Namespace", args -> new ClassDict("argparse", "Namespace"));
        ALLOWED.put("torch._utils._rebuild_tensor_v2", RestrictedUnpickler::rebuildTensor);
        ALLOWED.put("torch._utils._rebuild_parameter", args -> args[0]);
        Object[][] storages = {
                {"FloatStorage", org.nd4j.linalg.api.buffer.DataType.FLOAT, 4},
                {"DoubleStorage", org.nd4j.linalg.api.buffer.DataType.DOUBLE, 8},
                {"HalfStorage", org.nd4j.linalg.api.buffer.DataType.HALF, 2},
                {"BFloat16Storage", org.nd4j.linalg.api.buffer.DataType.BFLOAT16, 2},
                {"LongStorage", org.nd4j.linalg.api.buffer.DataType.LONG, 8},
                {"IntStorage", org.nd4j.linalg.api.buffer.DataType.INT, 4},
                {"ByteStorage", org.nd4j.linalg.api.buffer.DataType.UBYTE, 1},
                {"BoolStorage", org.nd4j.linalg.api.buffer.DataType.BOOL, 1}};
        for (Object[] s : storages) {
            String name = "torch." + s[0];
            ALLOWED.put(name, new StorageType(name, (org.nd4j.linalg.api.buffer.DataType) s[1], (Integer) s[2]));
        }
    }

    private final Function<Object, Object> persistentLoader;
    private LimitedInputStream counted;
    private PushbackInputStream pushback;
    private int opcodes;

    RestrictedUnpickler(Function<Object, Object> persistentLoader) {
        this.persistentLoader = persistentLoader;
    }

    @Override
    public Object load(InputStream in) throws PickleException, IOException {
        return load(in, MAX_PICKLE_BYTES);
    }

    /**
     * One pickle from {@code in}, which holds at most {@code available} more bytes (the zip member's size, the rest of
     * a legacy file); reads nothing past the pickle's STOP opcode.
     */
    Object load(InputStream in, long available) throws PickleException, IOException {
        counted = new LimitedInputStream(in, Math.min(available, MAX_PICKLE_BYTES), limit -> new PickleException(available >= MAX_PICKLE_BYTES
                ? "pickle longer than " + MAX_PICKLE_BYTES + " bytes: not a weights file"
                : "pickle runs past the " + limit + " bytes its container holds"));
        pushback = new PushbackInputStream(counted, MAX_LINE + 1);
        opcodes = 0;
        Object root;
        try {
            root = super.load(pushback);
        } catch (PickleException | WeightsFormatException e) {
            throw e;
        } catch (ClassCastException | IndexOutOfBoundsException | NoSuchElementException | IllegalArgumentException | ArithmeticException e) {
            // razorvine's opcodes trust their operands: a wrong type, an empty stack or a bad number ends up here.
            throw new PickleException("malformed pickle (" + e.getClass().getSimpleName() + " at opcode " + opcodes + ")");
        }
        checkGraph(root);
        return root;
    }

    @Override
    protected Object dispatch(short key) throws PickleException, IOException {
        if (++opcodes > MAX_OPCODES)
            throw new PickleException("more than " + MAX_OPCODES + " opcodes: not a weights file (the limit is documented in RestrictedUnpickler)");
        bound(key);
        switch (key) {
            case GLOBAL -> {
                String module = readLine(), name = readLine();
                stack.add(resolve(module, name));
                return NO_RETURN_VALUE;
            }
            case STACK_GLOBAL -> {
                Object name = stack.pop(), module = stack.pop();
                if (!(name instanceof String n) || !(module instanceof String m))
                    throw new PickleException("STACK_GLOBAL with non-string operands");
                stack.add(resolve(m, n));
                return NO_RETURN_VALUE;
            }
            case INST, OBJ -> throw new PickleException("refuses the INST/OBJ opcodes: a weights file never needs them");
            default -> {
                return super.dispatch(key);
            }
        }
    }

    /** The checks razorvine's own opcodes lack, made before they run. */
    private void bound(short key) throws IOException {
        switch (key) {
            case BINSTRING, BINBYTES, BINUNICODE, LONG4 -> checkLength(key, 4);
            case BINUNICODE8, BINBYTES8, BYTEARRAY8, FRAME -> checkLength(key, 8);
            case INT, LONG, FLOAT, GET, PUT, PERSID -> checkLine(key);
            case SETITEM -> {
                Object value = stack.pop(), k = stack.pop();
                hashable(k);
                stack.add(k);
                stack.add(value);
            }
            case SETITEMS, DICT, ADDITEMS, FROZENSET -> {
                List<Object> items = stack.pop_all_since_marker();
                boolean dict = key == SETITEMS || key == DICT;
                for (int i = 0; i < items.size(); i += dict ? 2 : 1) hashable(items.get(i));
                stack.add_mark();
                items.forEach(stack::add);
            }
            default -> {}
        }
    }

    /** Reads a length field ahead and refuses it if it claims more bytes than remain, then puts it back. */
    private void checkLength(short op, int width) throws IOException {
        byte[] len = pushback.readNBytes(width);
        if (len.length < width) throw new PickleException("truncated length of opcode 0x" + Integer.toHexString(op));
        long n = 0;
        for (int i = width - 1; i >= 0; i--) n = n << 8 | (len[i] & 0xff);
        long left = counted.remaining();
        if (op == LONG4 && Long.compareUnsigned(n, MAX_LONG_BYTES) > 0)
            throw new PickleException("LONG4 integer of " + Long.toUnsignedString(n) + " bytes (at most " + MAX_LONG_BYTES + ")");
        if (Long.compareUnsigned(n, left) > 0)
            throw new PickleException("opcode 0x" + Integer.toHexString(op) + " claims " + Long.toUnsignedString(n)
                    + " bytes, only " + left + " remain");
        pushback.unread(len);
    }

    /** Reads a text opcode's line ahead and refuses it if it is longer than any number or memo key needs. */
    private void checkLine(short op) throws IOException {
        byte[] line = new byte[MAX_LINE + 1];
        int n = 0, c;
        do {
            c = pushback.read();
            if (c < 0) throw new PickleException("truncated text opcode '" + (char) op + "'");
            line[n++] = (byte) c;
        } while (c != '\n' && n < line.length);
        if (c != '\n') throw new PickleException("text opcode '" + (char) op + "' longer than " + MAX_LINE + " bytes");
        pushback.unread(line, 0, n);
    }

    /** Python refuses lists, dicts and sets as keys; Java would hash them recursively (a deep one overflows the stack). */
    private static void hashable(Object key) {
        if (key instanceof Collection<?> || key instanceof Map<?, ?>)
            throw new PickleException("unhashable " + key.getClass().getSimpleName() + " used as a dict key or set element");
    }

    /** Refuses cycles and nesting deeper than MAX_DEPTH, visiting each container once (shared ones are not re-walked). */
    private static void checkGraph(Object root) {
        if (!isContainer(root)) return;
        final class Frame {
            final Object node;
            final Iterator<?> children;
            int height;

            Frame(Object node) {
                this.node = node;
                this.children = children(node);
            }
        }
        Map<Object, Integer> height = new IdentityHashMap<>();   // -1 while on the current path
        Deque<Frame> path = new ArrayDeque<>();
        path.push(new Frame(root));
        height.put(root, -1);
        while (!path.isEmpty()) {
            Frame f = path.peek();
            if (f.children.hasNext()) {
                Object c = f.children.next();
                if (!isContainer(c)) continue;
                Integer h = height.get(c);
                if (h != null && h < 0) throw new PickleException("a " + c.getClass().getSimpleName() + " contains itself");
                if (path.size() + (h == null ? 1 : h) > MAX_DEPTH)
                    throw new PickleException("containers nested more than " + MAX_DEPTH + " deep");
                if (h != null) {
                    f.height = Math.max(f.height, h);
                } else {
                    height.put(c, -1);
                    path.push(new Frame(c));
                }
            } else {
                path.pop();
                height.put(f.node, f.height + 1);
                if (!path.isEmpty()) path.peek().height = Math.max(path.peek().height, f.height + 1);
            }
        }
    }

    private static boolean isContainer(Object o) {
        return o instanceof Collection<?> || o instanceof Map<?, ?> || o instanceof Object[];
    }

    private static Iterator<?> children(Object o) {
        if (o instanceof Collection<?> c) return c.iterator();
        if (o instanceof Object[] t) return Arrays.asList(t).iterator();
        return ((Map<?, ?>) o).entrySet().stream().flatMap(e -> java.util.stream.Stream.of(e.getKey(), e.getValue())).iterator();
    }

    private static IObjectConstructor resolve(String module, String name) {
        IObjectConstructor c = ALLOWED.get(module + "." + name);
        if (c == null)
            throw new PickleException("refuses the global '" + module + "." + name
                    + "': a weights file needs only torch tensors and storages, OrderedDict and argparse.Namespace");
        return c;
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = input.read()) != '\n') {
            if (c < 0) throw new PickleException("truncated GLOBAL opcode");
            if (b.size() > 1024) throw new PickleException("GLOBAL name too long");
            b.write(c);
        }
        return b.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    protected Object persistentLoad(Object pid) {
        return persistentLoader.apply(pid);
    }

    private static Object rebuildTensor(Object[] args) {
        if (args.length < 4 || !(args[0] instanceof StorageRef storage))
            throw new PickleException("_rebuild_tensor_v2 called without a storage");
        long offset = asLong(args[1]);
        long[] size = asLongs(args[2]), stride = asLongs(args[3]);
        if (size.length != stride.length) throw new PickleException("tensor size and stride differ in rank");
        if (size.length > MAX_RANK) throw new PickleException("tensor of rank " + size.length + " (at most " + MAX_RANK + ")");
        return new TensorRef(storage, offset, size, stride);
    }

    /** A Python int as a long; floats and ints beyond 64 bits are refused rather than truncated. */
    static long asLong(Object o) {
        if (o instanceof Integer || o instanceof Long || o instanceof Short || o instanceof Byte) return ((Number) o).longValue();
        if (o instanceof BigInteger b) {
            if (b.bitLength() < 64) return b.longValue();
            throw new PickleException("integer of " + b.bitLength() + " bits does not fit 64 bits");
        }
        throw new PickleException("expected an integer, found " + (o == null ? "None" : o.getClass().getSimpleName()));
    }

    private static long[] asLongs(Object o) {
        if (!(o instanceof Object[] t)) throw new PickleException("expected a tuple of integers");
        long[] r = new long[t.length];
        for (int i = 0; i < t.length; i++) r[i] = asLong(t[i]);
        return r;
    }
}
