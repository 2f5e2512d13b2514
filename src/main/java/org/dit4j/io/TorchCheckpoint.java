package org.dit4j.io;

import net.razorvine.pickle.PickleException;
import org.dit4j.io.RestrictedUnpickler.StorageRef;
import org.dit4j.io.RestrictedUnpickler.StorageType;
import org.dit4j.io.RestrictedUnpickler.TensorRef;
import org.nd4j.linalg.api.buffer.DataType;
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
    /** Which weights of a {@code train.py} checkpoint to take. */
    public enum Pick { EMA, MODEL }

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
        if (!looksLikeZip(file)) {
            throw new WeightsFormatException(file, "not a torch.save zip archive (the legacy pre-1.6 format is not supported;"
                    + " re-save it with torch.save in PyTorch >= 1.6)");
        }
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
            return materialise(root, t -> cache.computeIfAbsent(t, r -> readTensor(file, zip, prefix, r)));
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

    private static INDArray readTensor(Path file, ZipFile zip, String prefix, TensorRef t) {
        StorageRef s = t.storage();
        StorageType type = s.type();
        String entryName = prefix + "data/" + s.key();
        ZipEntry entry = zip.getEntry(entryName);
        if (entry == null) throw new WeightsFormatException(file, "storage '" + entryName + "' is missing from the archive");
        long numel = TensorShapes.checkedProduct(file, t.size());
        long span = 1;
        for (int i = 0; i < t.size().length; i++) if (t.size()[i] > 0) span += (t.size()[i] - 1) * t.stride()[i];
        if (numel == 0) span = 0;
        if (t.offset() < 0 || t.offset() + span > s.numel())
            throw new WeightsFormatException(file, "tensor of shape " + Arrays.toString(t.size()) + " reaches past the end of storage " + s.key());
        long bytes = s.numel() * type.elementSize();
        byte[] raw;
        try (InputStream in = zip.getInputStream(entry)) {
            raw = in.readNBytes((int) Math.min(bytes, Integer.MAX_VALUE - 8));
        } catch (IOException e) {
            throw new WeightsFormatException(file, "storage '" + entryName + "' cannot be read (" + e.getMessage() + ")");
        }
        if (raw.length < bytes)
            throw new WeightsFormatException(file, "storage '" + entryName + "' holds " + raw.length + " bytes, " + bytes + " expected");
        ByteBuffer all = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        long[] cStride = contiguousStrides(t.size());
        if (Arrays.equals(cStride, t.stride()) || numel <= 1) {
            ByteBuffer slice = ByteBuffer.wrap(raw, (int) (t.offset() * type.elementSize()), (int) (numel * type.elementSize())).slice();
            return TensorShapes.fromLittleEndian(slice, type.dataType(), t.size());
        }
        INDArray flat = TensorShapes.fromLittleEndian(all, type.dataType(), new long[]{s.numel()});
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

    private static long[] contiguousStrides(long[] size) {
        long[] st = new long[size.length];
        long acc = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            st[i] = acc;
            acc *= size[i];
        }
        return st;
    }

    static boolean isFloat(DataType t) {
        return t.isFPType();
    }
}
