package org.dit4j.io;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * MindSpore {@code .ckpt} files: concatenated {@code Checkpoint} protobuf messages ({@code repeated Value value = 1};
 * {@code Value {string tag = 1; TensorProto tensor = 2}}; {@code TensorProto {repeated int64 dims = 1;
 * string tensor_type = 2; bytes tensor_content = 3}}). A tag that repeats carries further slices of the same tensor.
 */
public final class MindSporeCheckpoint {
    private MindSporeCheckpoint() {}

    private record Part(long[] dims, String type, byte[] content) {}

    /** Cheap sniff: the first field is a length-delimited {@code value} whose first field is the {@code tag} string. */
    public static boolean looksLikeCheckpoint(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(16);
            if (head.length < 4 || head[0] != 0x0A) return false;
            int i = 1;
            while (i < head.length && (head[i] & 0x80) != 0) i++;
            return i + 1 < head.length && head[i + 1] == 0x0A;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Writes {@code tensors} as {@code mindspore.save_checkpoint} does (without its optional CRC): one {@code Checkpoint}
     * message per tensor, the tag its name, dims one varint field each (checkpoint.proto is proto2: repeated, not packed), {@code tensor_type} MindSpore's dtype name, the content
     * little-endian; atomically.
     */
    public static void write(Path file, Map<String, INDArray> tensors) throws IOException {
        AtomicFiles.write(file, raw -> {
            CodedOutputStream out = CodedOutputStream.newInstance(raw);
            for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
                INDArray a = e.getValue();
                String type = switch (a.dataType()) {
                    case FLOAT -> "Float32";
                    case DOUBLE -> "Float64";
                    case HALF -> "Float16";
                    case BFLOAT16 -> "BFloat16";
                    case INT -> "Int32";
                    case LONG -> "Int64";
                    default -> throw new IllegalArgumentException("tensor '" + e.getKey() + "' has type " + a.dataType() + ", which MindSpore checkpoints do not hold");
                };
                ByteString content = UnsafeByteOperations.unsafeWrap(TensorShapes.toLittleEndian(a));
                int dimsSize = 0;
                for (long d : a.shape()) dimsSize += CodedOutputStream.computeInt64Size(1, d);
                int tensorSize = dimsSize + CodedOutputStream.computeStringSize(2, type) + CodedOutputStream.computeBytesSize(3, content);
                int valueSize = CodedOutputStream.computeStringSize(1, e.getKey()) + CodedOutputStream.computeTagSize(2)
                        + CodedOutputStream.computeUInt32SizeNoTag(tensorSize) + tensorSize;
                out.writeTag(1, WireFormat.WIRETYPE_LENGTH_DELIMITED);          // Checkpoint.value
                out.writeUInt32NoTag(valueSize);
                out.writeString(1, e.getKey());                                 // Value.tag
                out.writeTag(2, WireFormat.WIRETYPE_LENGTH_DELIMITED);          // Value.tensor
                out.writeUInt32NoTag(tensorSize);
                for (long d : a.shape()) out.writeInt64(1, d);                  // TensorProto.dims: proto2, not packed
                out.writeString(2, type);                                       // TensorProto.tensor_type
                out.writeBytes(3, content);                                     // TensorProto.tensor_content
            }
            out.flush();
        });
    }

    public static Map<String, INDArray> read(Path file) {
        if (!Files.isRegularFile(file)) throw new WeightsFormatException(file, "no such file");
        Map<String, List<Part>> parts = new LinkedHashMap<>();
        try (InputStream raw = Files.newInputStream(file)) {
            CodedInputStream in = CodedInputStream.newInstance(raw);
            in.setSizeLimit(Integer.MAX_VALUE);
            long size = Files.size(file);
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                if (WireFormat.getTagFieldNumber(tag) == 1 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    int limit = in.pushLimit(checkedLength(file, in, size));
                    readValue(file, in, size, parts);
                    in.popLimit(limit);
                } else if (!in.skipField(tag)) {
                    break;
                }
            }
        } catch (WeightsFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new WeightsFormatException(file, "corrupt MindSpore checkpoint (" + e.getMessage() + ")");
        }
        if (parts.isEmpty()) throw new WeightsFormatException(file, "MindSpore checkpoint holds no tensors");
        Map<String, INDArray> out = new LinkedHashMap<>();
        // Each tensor's raw slices are dropped once it is built, so the file is not held twice.
        for (Iterator<Map.Entry<String, List<Part>>> it = parts.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, List<Part>> e = it.next();
            out.put(e.getKey(), assemble(file, e.getKey(), e.getValue()));
            it.remove();
        }
        return out;
    }

    /** A length field, refused if negative or longer than what is left of the file. */
    private static int checkedLength(Path file, CodedInputStream in, long size) throws IOException {
        int len = in.readRawVarint32();
        long left = size - in.getTotalBytesRead();
        if (len < 0 || len > left)
            throw new WeightsFormatException(file, "corrupt MindSpore checkpoint (a field claims " + Integer.toUnsignedString(len)
                    + " bytes, only " + left + " remain)");
        return len;
    }

    private static void readValue(Path file, CodedInputStream in, long size, Map<String, List<Part>> parts) throws IOException {
        String name = null;
        Part part = null;
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> name = in.readString();
                case 2 -> {
                    int limit = in.pushLimit(checkedLength(file, in, size));
                    part = readTensor(file, in, size);
                    in.popLimit(limit);
                }
                default -> in.skipField(tag);
            }
        }
        if (name == null || part == null) throw new WeightsFormatException(file, "checkpoint value without a tag or tensor");
        parts.computeIfAbsent(name, k -> new ArrayList<>()).add(part);
    }

    private static Part readTensor(Path file, CodedInputStream in, long size) throws IOException {
        List<Long> dims = new ArrayList<>();
        String type = null;
        byte[] content = new byte[0];
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == 1 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                addDim(file, dims, in.readInt64());
            } else if (field == 1 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int limit = in.pushLimit(checkedLength(file, in, size));
                while (!in.isAtEnd()) addDim(file, dims, in.readInt64());
                in.popLimit(limit);
            } else if (field == 2) {
                type = in.readString();
            } else if (field == 3) {
                content = in.readRawBytes(checkedLength(file, in, size));
            } else {
                in.skipField(tag);
            }
        }
        if (type == null) throw new WeightsFormatException(file, "tensor without tensor_type");
        return new Part(dims.stream().mapToLong(Long::longValue).toArray(), type, content);
    }

    private static final int MAX_RANK = 64;

    private static void addDim(Path file, List<Long> dims, long d) {
        if (dims.size() == MAX_RANK) throw new WeightsFormatException(file, "tensor with more than " + MAX_RANK + " dims");
        dims.add(d);
    }

    private static INDArray assemble(Path file, String name, List<Part> slices) {
        Part first = slices.get(0);
        DataType type;
        int elem;
        switch (first.type()) {
            case "Float32" -> { type = DataType.FLOAT; elem = 4; }
            case "Float64" -> { type = DataType.DOUBLE; elem = 8; }
            case "Float16" -> { type = DataType.HALF; elem = 2; }
            case "BFloat16" -> { type = DataType.BFLOAT16; elem = 2; }
            case "Int32" -> { type = DataType.INT; elem = 4; }
            case "Int64" -> { type = DataType.LONG; elem = 8; }
            default -> throw new WeightsFormatException(file, "tensor '" + name + "' has unsupported tensor_type '" + first.type() + "'");
        }
        long[] dims = first.dims().length == 0 ? new long[]{1} : first.dims();
        long n = TensorShapes.checkedProduct(file, "tensor '" + name + "' ", dims);
        long bytes = 0;
        for (Part p : slices) {
            if (!p.type().equals(first.type())) throw new WeightsFormatException(file, "slices of tensor '" + name + "' differ in type");
            bytes += p.content().length;
        }
        // Checked before anything of the declared size is allocated: only the bytes present have been read.
        if (bytes != n * elem)
            throw new WeightsFormatException(file, "tensor '" + name + "' has " + bytes + " bytes, shape " + Arrays.toString(dims)
                    + " of " + first.type() + " needs " + n * elem);
        if (bytes > Integer.MAX_VALUE - 8) throw new WeightsFormatException(file, "tensor '" + name + "' is larger than 2 GiB, which is not supported");
        ByteBuffer all = slices.size() == 1 ? ByteBuffer.wrap(first.content()) : ByteBuffer.allocate((int) bytes);
        if (slices.size() > 1) {
            for (Part p : slices) all.put(p.content());
            all.flip();
        }
        return TensorShapes.fromLittleEndian(all, type, dims);
    }
}
