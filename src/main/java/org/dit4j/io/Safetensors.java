package org.dit4j.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
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
    /** Duplicate keys inside a tensor's entry are refused too; the top level is checked by hand to name the tensor. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
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

    /** A tensor's header entry: its data is {@code [begin, end)} of the data section. */
    private record Entry(String name, DataType type, long[] shape, long begin, long end) {}

    /**
     * Reads every tensor; {@code metadata} receives the {@code __metadata__} strings. The header is held to the
     * format's rules before any tensor data is read: one JSON object (space padding after it only), no name twice,
     * unsigned 64-bit offsets, each tensor's bytes matching its shape and dtype, and the tensors tiling the data
     * section exactly, without gaps, overlaps or trailing bytes.
     */
    public static Map<String, INDArray> read(Path file, Map<String, String> metadata) {
        return read(file, metadata, name -> true);
    }

    /** As {@link #read(Path, Map)}, the whole header checked, but only the tensors {@code wanted} accepts are read. */
    public static Map<String, INDArray> read(Path file, Map<String, String> metadata, java.util.function.Predicate<String> wanted) {
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
            long dataStart = 8 + headerLen, dataLen = fileSize - dataStart;
            List<Entry> entries = header(file, hb.array(), dataLen, metadata);
            checkTiling(file, entries, dataLen);
            Map<String, INDArray> out = new LinkedHashMap<>();
            for (Entry e : entries) {
                if (!wanted.test(e.name())) continue;
                ByteBuffer buf = ByteBuffer.allocate((int) (e.end() - e.begin()));
                readFully(ch, buf, dataStart + e.begin());
                out.put(e.name(), TensorShapes.fromLittleEndian(buf.flip(), e.type(), e.shape()));
            }
            return out;
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** The header's tensors in file order, each checked on its own; metadata strings go to {@code metadata}. */
    private static List<Entry> header(Path file, byte[] header, long dataLen, Map<String, String> metadata) throws IOException {
        if (header[0] != '{') throw new WeightsFormatException(file, "safetensors header does not start with '{'");
        List<Entry> entries = new ArrayList<>();
        Set<String> names = new HashSet<>();
        try (JsonParser p = JSON.getFactory().createParser(header)) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.getCurrentName();
                String what = name.equals("__metadata__") ? "__metadata__" : "tensor '" + name + "'";
                if (!names.add(name)) throw new WeightsFormatException(file, what + " appears twice in the safetensors header");
                p.nextToken();
                JsonNode info;
                try {
                    info = JSON.readTree(p);
                } catch (JsonProcessingException e) {
                    throw new WeightsFormatException(file, what + " has an invalid header entry (" + e.getOriginalMessage() + ")");
                }
                if (!info.isObject()) throw new WeightsFormatException(file, what + " header entry is not a JSON object");
                if (name.equals("__metadata__")) {
                    for (Iterator<Map.Entry<String, JsonNode>> it = info.fields(); it.hasNext(); ) {
                        Map.Entry<String, JsonNode> m = it.next();
                        if (!m.getValue().isTextual()) throw new WeightsFormatException(file, "__metadata__ value '" + m.getKey() + "' is not a string");
                        metadata.put(m.getKey(), m.getValue().textValue());
                    }
                } else {
                    entries.add(entry(file, name, info, dataLen));
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT) throw new WeightsFormatException(file, "safetensors header is not a JSON object");
            int end = (int) p.getTokenLocation().getByteOffset() + 1;   // just past the object's closing brace
            for (int i = end; i < header.length; i++)
                if (header[i] != ' ')
                    throw new WeightsFormatException(file, "safetensors header has bytes after its JSON object (only space padding may follow it)");
        } catch (JsonProcessingException e) {
            throw new WeightsFormatException(file, "safetensors header is not valid JSON (" + e.getOriginalMessage() + ")");
        }
        return entries;
    }

    private static Entry entry(Path file, String name, JsonNode info, long dataLen) {
        String what = "tensor '" + name + "' ";
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
            default -> throw new WeightsFormatException(file, what + "has unsupported dtype '" + dt + "'");
        }
        JsonNode shapeNode = info.path("shape"), offs = info.path("data_offsets");
        if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2)
            throw new WeightsFormatException(file, what + "lacks a shape or data_offsets");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            // asLong() would wrap 2^64 + 2 to 2 and truncate 2.5 to 2.
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0)
                throw new WeightsFormatException(file, what + "shape " + shapeNode + " holds " + d + ", not a non-negative integer");
            shape[i] = d.longValue();
        }
        long n = TensorShapes.checkedProduct(file, what, shape);
        for (JsonNode o : offs)
            if (!o.isIntegralNumber() || o.bigIntegerValue().signum() < 0 || o.bigIntegerValue().bitLength() > 64)
                throw new WeightsFormatException(file, what + "data_offsets " + offs + " are not unsigned 64-bit integers");
        java.math.BigInteger begin = offs.get(0).bigIntegerValue(), end = offs.get(1).bigIntegerValue();
        if (end.compareTo(begin) < 0 || end.compareTo(java.math.BigInteger.valueOf(dataLen)) > 0)
            throw new WeightsFormatException(file, what + "data_offsets " + offs + " point outside the " + dataLen + "-byte data section");
        long bytes = end.longValue() - begin.longValue();
        if (bytes != n * elem)
            throw new WeightsFormatException(file, what + "has " + bytes + " bytes, shape " + Arrays.toString(shape) + " of " + dt + " needs " + n * elem);
        if (bytes > Integer.MAX_VALUE - 8) throw new WeightsFormatException(file, what + "is larger than 2 GiB, which is not supported");
        return new Entry(name, type, shape, begin.longValue(), end.longValue());
    }

    /** Sorted by offsets, each tensor must start where the previous one ended, and the last end where the data does. */
    private static void checkTiling(Path file, List<Entry> entries, long dataLen) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        Entry prev = null;
        for (Entry e : sorted) {
            String after = prev == null ? "the start of the data section" : "tensor '" + prev.name() + "' [" + prev.begin() + ", " + prev.end() + "]";
            if (e.begin() < at)
                throw new WeightsFormatException(file, "tensor '" + e.name() + "' data_offsets [" + e.begin() + ", " + e.end() + "] overlap " + after);
            if (e.begin() > at)
                throw new WeightsFormatException(file, "tensor '" + e.name() + "' data_offsets [" + e.begin() + ", " + e.end() + "] leave "
                        + (e.begin() - at) + " unused bytes after " + after);
            at = e.end();
            prev = e;
        }
        if (at != dataLen)
            throw new WeightsFormatException(file, (dataLen - at) + " trailing bytes after the last tensor"
                    + (prev == null ? "" : " ('" + prev.name() + "' ends at " + at + " of the " + dataLen + "-byte data section)"));
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
