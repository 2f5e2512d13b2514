package org.dit4j.io;

import net.razorvine.pickle.PickleException;
import org.dit4j.io.RestrictedUnpickler.StorageRef;
import org.dit4j.io.RestrictedUnpickler.StorageType;
import org.dit4j.io.RestrictedUnpickler.TensorRef;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads {@code torch.save} zip checkpoints without Python: a bare state dict, or a {@code train.py} checkpoint
 * ({@code ema} preferred, {@code model} on request). Any top folder name inside the zip is accepted.
 */
public final class TorchCheckpoint {
    /** Which weights of a training checkpoint to take ({@code ema}/{@code model}, U-ViT's {@code nnet_ema}/{@code nnet}). */
    public enum Pick { EMA, MODEL }

    /** The largest storage a Java byte array holds; no tensor of a supported model comes near it. */
    private static final long MAX_STORAGE_BYTES = Integer.MAX_VALUE - 8;
    private static final int READ_CHUNK = 1 << 20;

    private TorchCheckpoint() {}

    public static boolean looksLikeZip(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The unpickled top-level object with every tensor materialised as a float32 (or integer) INDArray. Every tensor's
     * view is checked against its storage, and every storage against the bytes the archive holds for it, before
     * anything is allocated: a file costs no more memory than the tensors and storages it declares and holds.
     */
    public static Object load(Path file) {
        if (!Files.isRegularFile(file)) throw new WeightsFormatException(file, "no such file");
        if (looksLikeLegacy(file)) return loadLegacy(file);
        if (!looksLikeZip(file)) throw new WeightsFormatException(file, "not a torch.save file (neither a zip archive nor the legacy pickle format)");
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry pkl = null;
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry z = e.nextElement();
                String n = z.getName();
                if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) {
                    if (pkl != null) throw new WeightsFormatException(file, "archive holds more than one data.pkl");
                    pkl = z;
                }
            }
            if (pkl == null) throw new WeightsFormatException(file, "archive has no <folder>/data.pkl: not a torch.save checkpoint");
            String prefix = pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
            ZipEntry order = zip.getEntry(prefix + "byteorder");
            if (order != null) {
                try (InputStream in = zip.getInputStream(order)) {
                    String bo = new String(in.readNBytes(16)).trim();
                    if (!bo.equals("little")) throw new WeightsFormatException(file, "byte order '" + bo + "' is not supported");
                }
            }
            Map<String, StorageRef> declared = new HashMap<>();
            RestrictedUnpickler unpickler = new RestrictedUnpickler(pid -> declare(file, pid, declared));
            Object root;
            try (InputStream in = new java.io.BufferedInputStream(zip.getInputStream(pkl))) {
                root = unpickler.load(in, pkl.getSize() < 0 ? Long.MAX_VALUE : pkl.getSize());
            } catch (PickleException e) {
                throw new WeightsFormatException(file, "data.pkl: " + e.getMessage());
            }
            Map<TensorRef, String> tensors = checkedTensors(file, root);
            Map<String, long[]> windows = windows(tensors);
            checkOverlap(file, tensors, windows);
            for (String key : windows.keySet()) {
                StorageRef s = declared.get(key);
                ZipEntry entry = zip.getEntry(prefix + "data/" + key);
                if (entry == null) throw new WeightsFormatException(file, "storage '" + prefix + "data/" + key + "' is missing from the archive");
                if (entry.getSize() >= 0 && entry.getSize() != s.bytes())
                    throw new WeightsFormatException(file, "storage '" + entry.getName() + "' holds " + entry.getSize() + " bytes, " + s.bytes() + " declared");
            }
            return materialise(root, tensors, windows, s -> zipStorage(file, zip, prefix + "data/" + s.key(), s, windows.get(s.key())));
        } catch (ZipException e) {
            throw new WeightsFormatException(file, "corrupt or truncated zip archive (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** The model weights inside {@code file}: a bare state dict or {@code train.py}'s {@code ema}/{@code model}. */
    public static Map<String, INDArray> loadStateDict(Path file, Pick pick) {
        return stateDictOf(file, load(file), pick);
    }

    static Map<String, INDArray> stateDictOf(Path file, Object root, Pick pick) {
        if (!(root instanceof Map<?, ?> map)) throw new WeightsFormatException(file, "top-level object is not a dict");
        Object sd = root;
        if (map.containsKey("ema") || map.containsKey("model")) {
            String key = pick == Pick.MODEL ? "model" : (map.containsKey("ema") ? "ema" : "model");
            sd = map.get(key);
            if (sd == null) throw new WeightsFormatException(file, "checkpoint has no '" + key + "' entry");
        } else if (map.containsKey("state_dict")) {
            sd = map.get("state_dict");
        } else if (map.containsKey("nnet") || map.containsKey("nnet_ema")) {
            // U-ViT's training state: the network as "nnet", its EMA as "nnet_ema".
            String key = pick == Pick.MODEL ? "nnet" : (map.containsKey("nnet_ema") ? "nnet_ema" : "nnet");
            sd = map.get(key);
        }
        if (!(sd instanceof Map<?, ?> weights)) throw new WeightsFormatException(file, "state dict is not a dict");
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : weights.entrySet()) {
            if (!(e.getKey() instanceof String k) || !(e.getValue() instanceof INDArray v))
                throw new WeightsFormatException(file, "state dict entry '" + e.getKey() + "' is not a tensor");
            out.put(k, v);
        }
        return out;
    }

    private static StorageRef storageRef(Path file, Object pid) {
        if (!(pid instanceof Object[] t) || t.length < 5 || !"storage".equals(t[0]) || !(t[1] instanceof StorageType type)
                || !(t[2] instanceof String key))
            throw new PickleException("unexpected persistent id");
        long numel = RestrictedUnpickler.asLong(t[4]);
        if (numel < 0 || numel > TensorShapes.MAX_ELEMENTS) throw new PickleException("storage " + key + " claims " + numel + " elements");
        StorageRef r = new StorageRef(type, key, numel);
        if (r.bytes() > MAX_STORAGE_BYTES)
            throw new PickleException("storage " + key + " claims " + r.bytes() + " bytes; storages over 2 GiB are not supported");
        return r;
    }

    /** The one StorageRef of each key: a second declaration must agree, or views would be checked against the wrong size. */
    private static StorageRef declare(Path file, Object pid, Map<String, StorageRef> declared) {
        StorageRef r = storageRef(file, pid), first = declared.putIfAbsent(r.key(), r);
        if (first == null) return r;
        if (!first.equals(r)) throw new PickleException("storage " + r.key() + " is declared twice, as " + first.numel() + " "
                + first.type().name() + " and " + r.numel() + " " + r.type().name());
        return first;
    }

    /** Every distinct tensor of {@code root} with the dotted path it is first reached by, each view checked. */
    private static Map<TensorRef, String> checkedTensors(Path file, Object root) {
        Map<TensorRef, String> tensors = new IdentityHashMap<>();
        collect(root, "", tensors, Collections.newSetFromMap(new IdentityHashMap<>()));
        tensors.forEach((t, name) -> checkView(file, name, t));
        return tensors;
    }

    /** RestrictedUnpickler bounds the depth and refuses cycles; {@code seen} keeps shared containers from being re-walked. */
    private static void collect(Object o, String path, Map<TensorRef, String> tensors, Set<Object> seen) {
        if (o instanceof TensorRef t) {
            tensors.putIfAbsent(t, path);
        } else if (o instanceof Map<?, ?> m) {
            if (seen.add(m)) m.forEach((k, v) -> collect(v, child(path, k), tensors, seen));
        } else if (o instanceof List<?> l) {
            if (seen.add(l)) for (int i = 0; i < l.size(); i++) collect(l.get(i), child(path, i), tensors, seen);
        } else if (o instanceof Object[] a) {
            if (seen.add(a)) for (int i = 0; i < a.length; i++) collect(a[i], child(path, i), tensors, seen);
        }
    }

    private static String child(String path, Object key) {
        String k = key instanceof String || key instanceof Number ? key.toString() : "?";
        return path.isEmpty() ? k : path + "." + k;
    }

    /** The view (offset, size, stride) must lie inside its storage and hold no more elements than the storage does. */
    private static void checkView(Path file, String name, TensorRef t) {
        StorageRef s = t.storage();
        long[] size = t.size(), stride = t.stride();
        String what = "tensor '" + name + "' ";
        long numel = TensorShapes.checkedProduct(file, what, size);
        if (t.offset() < 0) throw new WeightsFormatException(file, what + "has a negative storage offset " + t.offset());
        for (long st : stride)
            if (st < 0) throw new WeightsFormatException(file, what + "has a negative stride " + Arrays.toString(stride));
        if (numel > s.numel())
            throw new WeightsFormatException(file, what + "of shape " + Arrays.toString(size) + " has " + numel + " elements but storage '"
                    + s.key() + "' holds only " + s.numel() + " (expanded views with stride 0 are not supported)");
        if (numel == 0) return;
        long last = t.offset();
        try {
            for (int i = 0; i < size.length; i++) last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
        } catch (ArithmeticException e) {
            last = Long.MAX_VALUE;
        }
        if (last >= s.numel())
            throw new WeightsFormatException(file, what + "(offset " + t.offset() + ", shape " + Arrays.toString(size) + ", stride "
                    + Arrays.toString(stride) + ") reaches past the end of storage '" + s.key() + "' of " + s.numel() + " elements");
    }

    /**
     * For each storage its window: the elements {@code [lo, hi)} that its tensors' views reach. Only the window is
     * kept in memory, so a small view of a large (possibly highly compressible) storage costs only the view.
     */
    private static Map<String, long[]> windows(Map<TensorRef, String> tensors) {
        Map<String, long[]> w = new LinkedHashMap<>();
        for (TensorRef t : tensors.keySet()) {
            long[] lohi = w.computeIfAbsent(t.storage().key(), k -> new long[]{Long.MAX_VALUE, Long.MIN_VALUE});
            if (Arrays.stream(t.size()).anyMatch(d -> d == 0)) continue;
            long last = t.offset();
            for (int i = 0; i < t.size().length; i++) last += (t.size()[i] - 1) * t.stride()[i];
            lohi[0] = Math.min(lohi[0], t.offset());
            lohi[1] = Math.max(lohi[1], last + 1);
        }
        for (long[] lohi : w.values()) if (lohi[0] > lohi[1]) lohi[0] = lohi[1] = 0;
        return w;
    }

    /**
     * Views may overlap (tied weights), but a few hundred bytes of pickle must not turn one storage into thousands of
     * full copies: the tensors together may hold at most twice the bytes of the storage windows they view.
     */
    private static void checkOverlap(Path file, Map<TensorRef, String> tensors, Map<String, long[]> windows) {
        long viewed = 0, held = 0;
        Map<String, Integer> elem = new HashMap<>();
        for (TensorRef t : tensors.keySet()) {
            elem.put(t.storage().key(), t.storage().type().elementSize());
            viewed += Arrays.stream(t.size()).reduce(1L, (a, b) -> a * b) * t.storage().type().elementSize();
        }
        for (Map.Entry<String, long[]> w : windows.entrySet()) held += (w.getValue()[1] - w.getValue()[0]) * elem.get(w.getKey());
        if (viewed > 2 * held)
            throw new WeightsFormatException(file, tensors.size() + " tensors hold " + viewed + " bytes, more than twice the " + held
                    + " bytes of storage they view: overlapping views are not supported beyond that");
    }

    /**
     * Reads the declared bytes of storage {@code s} from {@code in}, keeping only those of {@code window}. In reads of
     * {@value #READ_CHUNK} bytes: for a zip entry each read becomes a {@code RandomAccessFile.read}, which mallocs a native
     * buffer as long as the read and copies it over, and one read per storage made that most of reading a large checkpoint.
     */
    private static byte[] readWindow(InputStream in, StorageRef s, long[] window) throws IOException {
        int elem = s.type().elementSize();
        in.skipNBytes(window[0] * elem);
        byte[] raw = new byte[(int) ((window[1] - window[0]) * elem)];
        for (int off = 0; off < raw.length; ) {
            int got = in.read(raw, off, Math.min(READ_CHUNK, raw.length - off));
            if (got < 0) throw new java.io.EOFException();
            off += got;
        }
        in.skipNBytes(s.bytes() - window[1] * elem);
        return raw;
    }

    /**
     * Builds every tensor from its storage's window and puts it where its TensorRef was. A storage is read when its
     * first tensor needs it and dropped after its last, so only the windows of unfinished storages are held at once.
     */
    private static Object materialise(Object root, Map<TensorRef, String> tensors, Map<String, long[]> windows,
                                      java.util.function.Function<StorageRef, byte[]> read) {
        Map<String, Integer> uses = new HashMap<>();
        for (TensorRef t : tensors.keySet()) uses.merge(t.storage().key(), 1, Integer::sum);
        Map<String, byte[]> open = new HashMap<>();
        Map<TensorRef, INDArray> arrays = new IdentityHashMap<>();
        for (TensorRef t : tensors.keySet()) {
            String key = t.storage().key();
            byte[] raw = open.computeIfAbsent(key, k -> read.apply(t.storage()));
            arrays.put(t, tensor(t, raw, windows.get(key)[0]));
            if (uses.merge(key, -1, Integer::sum) == 0) open.remove(key);
        }
        return replace(root, arrays, Collections.newSetFromMap(new IdentityHashMap<>()));
    }

    private static Object replace(Object o, Map<TensorRef, INDArray> arrays, Set<Object> seen) {
        if (o instanceof TensorRef t) return arrays.get(t);
        if (o instanceof Map<?, ?> m) {
            @SuppressWarnings("unchecked") Map<Object, Object> mm = (Map<Object, Object>) m;
            if (seen.add(m)) for (Map.Entry<Object, Object> e : mm.entrySet()) e.setValue(replace(e.getValue(), arrays, seen));
        } else if (o instanceof List<?> l) {
            @SuppressWarnings("unchecked") List<Object> ll = (List<Object>) l;
            if (seen.add(l)) ll.replaceAll(x -> replace(x, arrays, seen));
        } else if (o instanceof Object[] a) {
            if (seen.add(a)) Arrays.setAll(a, i -> replace(a[i], arrays, seen));
        }
        return o;
    }

    /** The window of a storage member, which must inflate to exactly its declared bytes (checked without keeping them). */
    private static byte[] zipStorage(Path file, ZipFile zip, String entryName, StorageRef s, long[] window) {
        try (InputStream in = zip.getInputStream(zip.getEntry(entryName))) {
            byte[] raw = readWindow(in, s, window);
            if (in.read() >= 0)
                throw new WeightsFormatException(file, "storage '" + entryName + "' inflates to more than the " + s.bytes() + " bytes declared");
            return raw;
        } catch (java.io.EOFException e) {
            throw new WeightsFormatException(file, "storage '" + entryName + "' holds fewer than the " + s.bytes() + " bytes declared");
        } catch (IOException e) {
            throw new WeightsFormatException(file, "storage '" + entryName + "' cannot be read (" + e.getMessage() + ")");
        }
    }

    /** The strided view {@code t} (checked by checkView) of its storage's bytes from element {@code base} on, C-ordered. */
    private static INDArray tensor(TensorRef t, byte[] raw, long base) {
        int elem = t.storage().type().elementSize();
        long[] size = t.size(), stride = t.stride();
        int numel = (int) Arrays.stream(size).reduce(1L, (a, b) -> a * b);
        if (Arrays.equals(contiguousStrides(size), stride) || numel == 0) {
            ByteBuffer slice = ByteBuffer.wrap(raw, numel == 0 ? 0 : (int) ((t.offset() - base) * elem), numel * elem).slice();
            return TensorShapes.fromLittleEndian(slice, t.storage().type().dataType(), size);
        }
        byte[] out = new byte[numel * elem];
        long[] idx = new long[size.length];
        long src = t.offset() - base;
        for (int i = 0; i < numel; i++) {
            System.arraycopy(raw, (int) (src * elem), out, i * elem, elem);
            for (int d = size.length - 1; d >= 0; d--) {
                if (++idx[d] < size[d]) {
                    src += stride[d];
                    break;
                }
                src -= (size[d] - 1) * stride[d];
                idx[d] = 0;
            }
        }
        return TensorShapes.fromLittleEndian(ByteBuffer.wrap(out), t.storage().type().dataType(), size);
    }

    private static final java.math.BigInteger LEGACY_MAGIC = new java.math.BigInteger("1950a86a20f9469cfc6c", 16);

    /** Pre-1.6 files start with a protocol-2 pickle of the magic number 0x1950a86a20f9469cfc6c. */
    static boolean looksLikeLegacy(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] h = in.readNBytes(4);
            return h.length == 4 && (h[0] & 0xff) == 0x80 && h[1] == 2 && (h[2] & 0xff) == 0x8a && h[3] == 10;
        } catch (IOException e) {
            return false;
        }
    }

    /** Legacy layout: magic, protocol, sys_info, the object, the storage keys, then each storage as (int64 numel, data). */
    private static Object loadLegacy(Path file) {
        try (LimitedInputStream in = new LimitedInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)), Files.size(file),
                limit -> new WeightsFormatException(file, "grew past its " + limit + " bytes while being read"))) {
            java.util.function.Function<Object, Object> noStorage = pid -> {
                throw new PickleException("unexpected persistent id in a legacy header");
            };
            Object magic = new RestrictedUnpickler(noStorage).load(in, in.remaining());
            if (!(magic instanceof Number m) || !new java.math.BigInteger(m.toString()).equals(LEGACY_MAGIC))
                throw new WeightsFormatException(file, "bad magic number for a legacy torch.save file");
            Object protocol = new RestrictedUnpickler(noStorage).load(in, in.remaining());
            if (!(protocol instanceof Number p) || p.intValue() != 1001)
                throw new WeightsFormatException(file, "unsupported legacy torch.save protocol"
                        + (protocol instanceof Integer ? " " + protocol : ""));
            Object sysInfo = new RestrictedUnpickler(noStorage).load(in, in.remaining());
            if (sysInfo instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian")))
                throw new WeightsFormatException(file, "big-endian checkpoints are not supported");
            Map<String, StorageRef> declared = new HashMap<>();
            Object root = new RestrictedUnpickler(pid -> {
                if (pid instanceof Object[] t && t.length >= 6 && t[5] != null)
                    throw new PickleException("storage views are not supported");
                return declare(file, pid, declared);
            }).load(in, in.remaining());
            Map<TensorRef, String> tensors = checkedTensors(file, root);
            Object keys = new RestrictedUnpickler(noStorage).load(in, in.remaining());
            if (!(keys instanceof List<?> keyList)) throw new WeightsFormatException(file, "missing storage key list");
            Set<String> listed = new HashSet<>();
            for (Object k : keyList) {
                if (!(k instanceof String key) || !declared.containsKey(key))
                    throw new WeightsFormatException(file, "storage key list names " + (k instanceof String ? "storage '" + k + "', which no tensor references" : "a non-string"));
                if (!listed.add(key)) throw new WeightsFormatException(file, "storage '" + key + "' is listed twice");
            }
            Map<String, long[]> windows = windows(tensors);
            checkOverlap(file, tensors, windows);
            for (String key : windows.keySet())
                if (!listed.contains(key)) throw new WeightsFormatException(file, "storage '" + key + "' has no data");
            Map<String, byte[]> data = new HashMap<>();
            for (Object k : keyList) {
                StorageRef r = declared.get((String) k);
                byte[] len = in.readNBytes(8);
                if (len.length < 8) throw new WeightsFormatException(file, "truncated before storage '" + k + "'");
                long numel = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
                if (numel != r.numel()) throw new WeightsFormatException(file, "storage '" + k + "' holds " + numel + " elements, " + r.numel() + " declared");
                if (r.bytes() > in.remaining())
                    throw new WeightsFormatException(file, "storage '" + k + "' declares " + r.bytes() + " bytes, only " + in.remaining() + " remain in the file");
                data.put(r.key(), readWindow(in, r, windows.getOrDefault(r.key(), new long[2])));
            }
            return materialise(root, tensors, windows, s -> data.remove(s.key()));
        } catch (PickleException e) {
            throw new WeightsFormatException(file, "legacy torch.save pickle: " + e.getMessage());
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    private static long[] contiguousStrides(long[] size) {
        long[] st = new long[size.length];
        long acc = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            st[i] = acc;
            acc *= size[i];
        }
        return st;
    }
}
