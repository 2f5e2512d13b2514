package org.dit4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.dit4j.io.Refusals.refused;
import static org.junit.jupiter.api.Assertions.*;

/** safetensors headers that break the format's rules: refused in one line naming the file and the tensor. */
class StrictSafetensorsTest {
    @TempDir
    Path dir;

    /** 8-byte length, {@code header} as is, then {@code data} bytes of the float sequence 0, 1, 2... */
    private Path file(String name, String header, int data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (int i = 0; i < data / 4; i++) b.putFloat(i);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static String t(String name, String shape, long begin, String end) {
        return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void wellFormedFilesStillRead() throws IOException {
        Path p = file("ok.safetensors", "{\"__metadata__\":{\"format\":\"pt\"}," + t("b", "[2]", 8, "16") + "," + t("a", "[2]", 0, "8")
                + "," + t("empty", "[0,3]", 8, "8") + "}   ", 16);
        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, INDArray> w = Safetensors.read(p, meta);
        assertEquals(Map.of("format", "pt"), meta);
        assertEquals(java.util.List.of("b", "a", "empty"), java.util.List.copyOf(w.keySet()));
        assertArrayEquals(new float[]{2, 3}, w.get("b").toFloatVector());
        assertArrayEquals(new float[]{0, 1}, w.get("a").toFloatVector());
        Path own = dir.resolve("own.safetensors");
        Safetensors.write(own, Map.of("w", Nd4j.createFromArray(new float[]{1, 2, 3})), Map.of("k", "v"));
        assertArrayEquals(new float[]{1, 2, 3}, Safetensors.read(own).get("w").toFloatVector());
    }

    @Test
    void everySafetensorsFixtureStillReads() throws IOException {
        for (Path root : new Path[]{org.dit4j.Fixtures.root(), Path.of("src/test/resources")}) {
            try (var s = Files.walk(root)) {
                for (Path f : s.filter(f -> f.toString().endsWith(".safetensors")).toList())
                    assertFalse(Safetensors.read(f).isEmpty(), f.toString());
            }
        }
    }

    @Test
    void duplicateNamesAreRefused() throws IOException {
        // The last copy used to win: blocks.1's weights loaded into blocks.0.
        Path p = file("dup.safetensors", "{" + t("blocks.0.w", "[2]", 0, "8") + "," + t("blocks.0.w", "[2]", 8, "16") + "}", 16);
        refused(p, "tensor 'blocks.0.w' appears twice in the safetensors header", () -> Safetensors.read(p));
        Path meta = file("dup-meta.safetensors", "{\"__metadata__\":{},\"__metadata__\":{}," + t("a", "[2]", 0, "8") + "}", 8);
        refused(meta, "__metadata__ appears twice", () -> Safetensors.read(meta));
        Path field = file("dup-field.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
        refused(field, "tensor 'a' has an invalid header entry (Duplicate field 'shape'", () -> Safetensors.read(field));
    }

    @Test
    void offsetsDoNotWrapAround() throws IOException {
        // 2^64 + 8 used to be read as 8.
        Path over64 = file("over64.safetensors", "{" + t("a", "[2]", 0, "18446744073709551624") + "}", 8);
        refused(over64, "tensor 'a' data_offsets [0,18446744073709551624] are not unsigned 64-bit integers", () -> Safetensors.read(over64));
        Path over63 = file("over63.safetensors", "{" + t("a", "[2]", 0, "9223372036854775816") + "}", 8);
        refused(over63, "tensor 'a' data_offsets [0,9223372036854775816] point outside the 8-byte data section", () -> Safetensors.read(over63));
        Path negative = file("negative.safetensors", "{" + t("a", "[2]", -8, "0") + "}", 8);
        refused(negative, "are not unsigned 64-bit integers", () -> Safetensors.read(negative));
        Path fraction = file("fraction.safetensors", "{" + t("a", "[2]", 0, "8.0") + "}", 8);
        refused(fraction, "are not unsigned 64-bit integers", () -> Safetensors.read(fraction));
        Path dim = file("dim.safetensors", "{" + t("a", "[18446744073709551618]", 0, "8") + "}", 8);
        refused(dim, "tensor 'a' shape [18446744073709551618] holds 18446744073709551618, not a non-negative integer", () -> Safetensors.read(dim));
    }

    @Test
    void tensorsMustTileTheDataSection() throws IOException {
        Path overlap = file("overlap.safetensors", "{" + t("a", "[2]", 0, "8") + "," + t("b", "[2]", 4, "12") + "}", 12);
        refused(overlap, "tensor 'b' data_offsets [4, 12] overlap tensor 'a' [0, 8]", () -> Safetensors.read(overlap));
        Path same = file("same.safetensors", "{" + t("a", "[2]", 0, "8") + "," + t("b", "[2]", 0, "8") + "}", 8);
        refused(same, "overlap tensor 'a' [0, 8]", () -> Safetensors.read(same));
        Path gap = file("gap.safetensors", "{" + t("a", "[1]", 0, "4") + "," + t("b", "[1]", 8, "12") + "}", 12);
        refused(gap, "tensor 'b' data_offsets [8, 12] leave 4 unused bytes after tensor 'a' [0, 4]", () -> Safetensors.read(gap));
        Path start = file("start.safetensors", "{" + t("a", "[1]", 4, "8") + "}", 8);
        refused(start, "leave 4 unused bytes after the start of the data section", () -> Safetensors.read(start));
        Path trailing = file("trailing.safetensors", "{" + t("a", "[1]", 0, "4") + "}", 12);
        refused(trailing, "8 trailing bytes after the last tensor ('a' ends at 4 of the 12-byte data section)", () -> Safetensors.read(trailing));
        Path none = file("none.safetensors", "{}", 4);
        refused(none, "4 trailing bytes after the last tensor", () -> Safetensors.read(none));
    }

    @Test
    void nothingButSpacesMayFollowTheHeaderObject() throws IOException {
        Path second = file("second.safetensors", "{" + t("a", "[1]", 0, "4") + "}{\"b\":1}", 4);
        refused(second, "safetensors header has bytes after its JSON object (only space padding may follow it)", () -> Safetensors.read(second));
        Path newline = file("newline.safetensors", "{" + t("a", "[1]", 0, "4") + "}\n", 4);
        refused(newline, "bytes after its JSON object", () -> Safetensors.read(newline));
        Path nul = file("nul.safetensors", "{" + t("a", "[1]", 0, "4") + "}\0\0", 4);
        refused(nul, "bytes after its JSON object", () -> Safetensors.read(nul));
        Path lead = file("lead.safetensors", " {" + t("a", "[1]", 0, "4") + "}", 4);
        refused(lead, "does not start with '{'", () -> Safetensors.read(lead));
    }

    @Test
    void byteLengthMustMatchShapeAndDtype() throws IOException {
        Path p = file("len.safetensors", "{" + t("a", "[3]", 0, "8") + "}", 8);
        refused(p, "tensor 'a' has 8 bytes, shape [3] of F32 needs 12", () -> Safetensors.read(p));
        Path meta = file("meta.safetensors", "{\"__metadata__\":{\"n\":1}," + t("a", "[2]", 0, "8") + "}", 8);
        refused(meta, "__metadata__ value 'n' is not a string", () -> Safetensors.read(meta));
        Path deep = file("deep.safetensors", "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", 0);
        refused(deep, "tensor 'a' has an invalid header entry", () -> Safetensors.read(deep));
    }
}
