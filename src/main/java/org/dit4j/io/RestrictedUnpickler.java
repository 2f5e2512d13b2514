package org.dit4j.io;

import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.Unpickler;
import net.razorvine.pickle.objects.ClassDict;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The Java counterpart of {@code torch.load(weights_only=True)}: resolves only the globals a weights file needs and
 * refuses every other one by name before anything is constructed. Tensors come out as {@link TensorRef}s whose data is
 * read afterwards from the checkpoint's storages.
 */
public final class RestrictedUnpickler extends Unpickler {
    private static final int GLOBAL = 'c', STACK_GLOBAL = 0x93, INST = 'i', OBJ = 'o';

    /** A {@code torch.XStorage} class: only ever passed as data inside persistent ids. */
    record StorageType(String name, org.nd4j.linalg.api.buffer.DataType dataType, int elementSize) implements IObjectConstructor {
        public Object construct(Object[] args) {
            throw new PickleException("storage type " + name + " cannot be called");
        }
    }

    /** A storage named by a persistent id: {@code ('storage', type, key, location, numel)}. */
    record StorageRef(StorageType type, String key, long numel) {}

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

    RestrictedUnpickler(Function<Object, Object> persistentLoader) {
        this.persistentLoader = persistentLoader;
    }

    @Override
    protected Object dispatch(short key) throws PickleException, IOException {
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
        return new TensorRef(storage, offset, size, stride);
    }

    static long asLong(Object o) {
        if (o instanceof Number n) return n.longValue();
        throw new PickleException("expected an integer, found " + (o == null ? "None" : o.getClass().getSimpleName()));
    }

    private static long[] asLongs(Object o) {
        if (!(o instanceof Object[] t)) throw new PickleException("expected a tuple of integers");
        long[] r = new long[t.length];
        for (int i = 0; i < t.length; i++) r[i] = asLong(t[i]);
        return r;
    }
}
