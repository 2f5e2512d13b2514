package org.dit4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.*;

/** The safetensors format: dit4j's own weights container and the Hugging Face interchange format. */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {}

    /** An 8-byte header length followed by '{'. */
    public static boolean looksLikeSafetensors(Path path) {
        try (java.io.InputStream in = Files.newInputStream(path)) {
            byte[] head = in.readNBytes(9);
            return head.length == 9 && head[8] == '{';
        } catch (IOException e) {
            return false;
        }
    }

    public static Map<String, INDArray> read(Path file) {
        return read(file, new LinkedHashMap<>());
    }

    /** Reads every tensor; {@code metadata} receives the {@code __metadata__} strings. Declared sizes are never trusted. */
    public static Map<String, INDArray> read(Path file, Map<String, String> metadata) {
        if (!Files.isRegularFile(file)) throw new WeightsFormatException(file, "no such file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) throw new WeightsFormatException(file, "too short for a safetensors file");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > fileSize)
                throw new WeightsFormatException(file, "safetensors header length " + headerLen + " is invalid for a file of " + fileSize + " bytes");
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            JsonNode header;
            try {
                header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                throw new WeightsFormatException(file, "safetensors header is not valid JSON");
            }
            if (header == null || !header.isObject()) throw new WeightsFormatException(file, "safetensors header is not a JSON object");
            long dataStart = 8 + headerLen, dataLen = fileSize - dataStart;
            Map<String, INDArray> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                JsonNode info = e.getValue();
                if (name.equals("__metadata__")) {
                    info.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                DataType type;
                int elem;
                String dt = info.path("dtype").asText();
                switch (dt) {
                    case "F32" -> { type = DataType.FLOAT; elem = 4; }
                    case "F64" -> { type = DataType.DOUBLE; elem = 8; }
                    case "F16" -> { type = DataType.HALF; elem = 2; }
                    case "BF16" -> { type = DataType.BFLOAT16; elem = 2; }
                    case "I64" -> { type = DataType.LONG; elem = 8; }
                    case "I32" -> { type = DataType.INT; elem = 4; }
                    default -> throw new WeightsFormatException(file, "tensor '" + name + "' has unsupported dtype '" + dt + "'");
                }
                JsonNode shapeNode = info.path("shape"), offs = info.path("data_offsets");
                if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2)
                    throw new WeightsFormatException(file, "tensor '" + name + "' lacks a shape or data_offsets");
                long[] shape = new long[shapeNode.size()];
                for (int i = 0; i < shape.length; i++) shape[i] = shapeNode.get(i).asLong(-1);
                long n = TensorShapes.checkedProduct(file, "tensor '" + name + "' ", shape);
                long begin = offs.get(0).asLong(-1), end = offs.get(1).asLong(-1);
                if (begin < 0 || end < begin || end > dataLen)
                    throw new WeightsFormatException(file, "tensor '" + name + "' data_offsets [" + begin + ", " + end + "] point outside the " + dataLen + "-byte data section");
                if (end - begin != n * elem)
                    throw new WeightsFormatException(file, "tensor '" + name + "' has " + (end - begin) + " bytes, shape " + Arrays.toString(shape) + " needs " + n * elem);
                ByteBuffer buf = ByteBuffer.allocate((int) (end - begin));
                readFully(ch, buf, dataStart + begin);
                out.put(name, TensorShapes.fromLittleEndian(buf.flip(), type, shape));
            }
            return out;
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) throw new IOException("unexpected end of file");
        }
    }

    /** Writes float32 tensors in the given order, atomically. */
    public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        List<byte[]> blobs = new ArrayList<>();
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            INDArray a = e.getValue();
            String dt = switch (a.dataType()) {
                case FLOAT -> "F32";
                case DOUBLE -> "F64";
                case LONG -> "I64";
                case INT -> "I32";
                default -> throw new IllegalArgumentException("cannot write tensor '" + e.getKey() + "' of type " + a.dataType());
            };
            byte[] data = TensorShapes.toLittleEndian(a);
            ObjectNode info = header.putObject(e.getKey());
            info.put("dtype", dt);
            var shape = info.putArray("shape");
            for (long d : a.shape()) shape.add(d);
            info.putArray("data_offsets").add(offset).add(offset + data.length);
            offset += data.length;
            blobs.add(data);
        }
        byte[] h = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - h.length % 8) % 8;
        byte[] hp = Arrays.copyOf(h, h.length + pad);
        Arrays.fill(hp, h.length, hp.length, (byte) ' ');
        AtomicFiles.write(file, out -> {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hp.length).array());
            out.write(hp);
            for (byte[] b : blobs) out.write(b);
        });
    }
}
