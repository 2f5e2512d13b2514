package org.dit4j.io;

import net.razorvine.pickle.PickleException;
import org.dit4j.io.RestrictedUnpickler.StorageRef;
import org.dit4j.io.RestrictedUnpickler.StorageType;
import org.dit4j.io.RestrictedUnpickler.TensorRef;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
    public enum Pick {
        EMA, MODEL;

        /** {@code --weights ema|model}. */
        public static Pick parse(String s) {
            return switch (s) {
                case "ema" -> EMA;
                case "model" -> MODEL;
                default -> throw new IllegalArgumentException("--weights must be ema or model, got '" + s + "'");
            };
        }
    }

    private TorchCheckpoint() {}

    public static boolean looksLikeZip(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
        } catch (IOException e) {
            return false;
        }
    }

    /** The unpickled top-level object with every tensor materialised as a float32 (or integer) INDArray. */
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
            List<TensorRef> tensors = new ArrayList<>();
            RestrictedUnpickler unpickler = new RestrictedUnpickler(pid -> storageRef(file, pid));
            Object root;
            try (InputStream in = zip.getInputStream(pkl)) {
                root = unpickler.load(in);
            } catch (PickleException | ClassCastException | IndexOutOfBoundsException e) {
                throw new WeightsFormatException(file, "data.pkl: " + e.getMessage());
            }
            Map<TensorRef, INDArray> cache = new IdentityHashMap<>();
            Map<String, byte[]> storages = new HashMap<>();
            return materialise(root, t -> cache.computeIfAbsent(t, r -> tensor(file, r,
                    storages.computeIfAbsent(r.storage().key(), k -> zipStorage(file, zip, prefix, r.storage())))));
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
        return new StorageRef(type, key, numel);
    }

    private static Object materialise(Object o, java.util.function.Function<TensorRef, INDArray> read) {
        if (o instanceof TensorRef t) return read.apply(t);
        if (o instanceof Map<?, ?> m) {
            @SuppressWarnings("unchecked") Map<Object, Object> mm = (Map<Object, Object>) m;
            for (Map.Entry<Object, Object> e : mm.entrySet()) e.setValue(materialise(e.getValue(), read));
            return m;
        }
        if (o instanceof List<?> l) {
            @SuppressWarnings("unchecked") List<Object> ll = (List<Object>) l;
            ll.replaceAll(x -> materialise(x, read));
            return l;
        }
        return o;
    }

    private static byte[] zipStorage(Path file, ZipFile zip, String prefix, StorageRef s) {
        String entryName = prefix + "data/" + s.key();
        ZipEntry entry = zip.getEntry(entryName);
        if (entry == null) throw new WeightsFormatException(file, "storage '" + entryName + "' is missing from the archive");
        long bytes = s.numel() * s.type().elementSize();
        try (InputStream in = zip.getInputStream(entry)) {
            byte[] raw = in.readNBytes((int) Math.min(bytes, Integer.MAX_VALUE - 8));
            if (raw.length < bytes)
                throw new WeightsFormatException(file, "storage '" + entryName + "' holds " + raw.length + " bytes, " + bytes + " expected");
            return raw;
        } catch (IOException e) {
            throw new WeightsFormatException(file, "storage '" + entryName + "' cannot be read (" + e.getMessage() + ")");
        }
    }

    /** The strided view {@code t} of its storage's bytes as a C-ordered array. */
    private static INDArray tensor(Path file, TensorRef t, byte[] raw) {
        StorageRef s = t.storage();
        StorageType type = s.type();
        long numel = TensorShapes.checkedProduct(file, t.size());
        long span = 1;
        for (int i = 0; i < t.size().length; i++) if (t.size()[i] > 0) span += (t.size()[i] - 1) * t.stride()[i];
        if (numel == 0) span = 0;
        if (t.offset() < 0 || t.offset() + span > s.numel())
            throw new WeightsFormatException(file, "tensor of shape " + Arrays.toString(t.size()) + " reaches past the end of storage " + s.key());
        long[] cStride = contiguousStrides(t.size());
        if (Arrays.equals(cStride, t.stride()) || numel <= 1) {
            ByteBuffer slice = ByteBuffer.wrap(raw, (int) (t.offset() * type.elementSize()), (int) (numel * type.elementSize())).slice();
            return TensorShapes.fromLittleEndian(slice, type.dataType(), t.size());
        }
        INDArray flat = TensorShapes.fromLittleEndian(ByteBuffer.wrap(raw), type.dataType(), new long[]{s.numel()});
        INDArray out = Nd4j.create(flat.dataType(), t.size());
        long[] idx = new long[t.size().length];
        for (long i = 0; i < numel; i++) {
            long src = t.offset(), rem = i;
            for (int d = idx.length - 1; d >= 0; d--) {
                idx[d] = rem % t.size()[d];
                rem /= t.size()[d];
                src += idx[d] * t.stride()[d];
            }
            out.putScalar(idx, flat.getDouble(src));
        }
        return out;
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
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file))) {
            java.util.function.Function<Object, Object> noStorage = pid -> {
                throw new PickleException("unexpected persistent id in a legacy header");
            };
            Object magic = new RestrictedUnpickler(noStorage).load(in);
            if (!(magic instanceof Number m) || !new java.math.BigInteger(m.toString()).equals(LEGACY_MAGIC))
                throw new WeightsFormatException(file, "bad magic number for a legacy torch.save file");
            Object protocol = new RestrictedUnpickler(noStorage).load(in);
            if (!(protocol instanceof Number p) || p.intValue() != 1001)
                throw new WeightsFormatException(file, "unsupported legacy torch.save protocol " + protocol);
            Object sysInfo = new RestrictedUnpickler(noStorage).load(in);
            if (sysInfo instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian")))
                throw new WeightsFormatException(file, "big-endian checkpoints are not supported");
            Map<String, StorageRef> refs = new LinkedHashMap<>();
            Object root = new RestrictedUnpickler(pid -> {
                if (pid instanceof Object[] t && t.length >= 6 && t[5] != null)
                    throw new PickleException("storage views are not supported");
                StorageRef r = storageRef(file, pid);
                refs.putIfAbsent(r.key(), r);
                return r;
            }).load(in);
            Object keys = new RestrictedUnpickler(noStorage).load(in);
            if (!(keys instanceof List<?> keyList)) throw new WeightsFormatException(file, "missing storage key list");
            Map<String, byte[]> data = new HashMap<>();
            for (Object k : keyList) {
                StorageRef r = refs.get(String.valueOf(k));
                if (r == null) throw new WeightsFormatException(file, "storage '" + k + "' is not referenced by any tensor");
                byte[] len = in.readNBytes(8);
                if (len.length < 8) throw new WeightsFormatException(file, "truncated before storage '" + k + "'");
                long numel = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
                if (numel != r.numel()) throw new WeightsFormatException(file, "storage '" + k + "' holds " + numel + " elements, " + r.numel() + " declared");
                long bytes = numel * r.type().elementSize();
                byte[] raw = in.readNBytes((int) bytes);
                if (raw.length < bytes) throw new WeightsFormatException(file, "storage '" + k + "' is truncated");
                data.put(r.key(), raw);
            }
            Map<TensorRef, INDArray> cache = new IdentityHashMap<>();
            return materialise(root, t -> cache.computeIfAbsent(t, r -> {
                byte[] raw = data.get(r.storage().key());
                if (raw == null) throw new WeightsFormatException(file, "storage '" + r.storage().key() + "' has no data");
                return tensor(file, r, raw);
            }));
        } catch (PickleException | ClassCastException | IndexOutOfBoundsException e) {
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
