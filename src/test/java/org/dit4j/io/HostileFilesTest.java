package org.dit4j.io;

import org.dit4j.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/** Truncated, corrupt and malicious files are refused with a message naming the file, never executed or over-allocated. */
class HostileFilesTest {
    @TempDir
    Path dir;

    private static WeightsFormatException refused(Path file, Runnable r) {
        WeightsFormatException e = assertThrows(WeightsFormatException.class, r::run);
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        return e;
    }

    /** A torch-style zip holding the given pickle and storages. */
    private Path zip(String name, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Path p = dir.resolve(name);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(p))) {
            z.putNextEntry(new ZipEntry("archive/data.pkl"));
            z.write(pickle);
            for (var e : storages.entrySet()) {
                z.putNextEntry(new ZipEntry("archive/data/" + e.getKey()));
                z.write(e.getValue());
            }
        }
        return p;
    }

    /** Protocol-2 pickle: GLOBAL module name, then REDUCE with args tuple (given as raw opcodes), STOP. */
    private static byte[] pickleCall(String module, String name, byte[] argsOps) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.writeBytes(("c" + module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(argsOps);
        b.write('R');
        b.write('.');
        return b.toByteArray();
    }

    private static byte[] tupleOfString(String s) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write('(');
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        b.write('X');
        b.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(u.length).array());
        b.writeBytes(u);
        b.write('t');
        return b.toByteArray();
    }

    @Test
    void codeExecutingGlobalsAreRefusedByName() throws IOException {
        for (String[] g : new String[][]{{"os", "system"}, {"builtins", "eval"}, {"subprocess", "Popen"}, {"posix", "system"}}) {
            Path p = zip(g[0] + ".pt", pickleCall(g[0], g[1], tupleOfString("touch " + dir.resolve("pwned"))), Map.of());
            var e = refused(p, () -> TorchCheckpoint.load(p));
            assertTrue(e.getMessage().contains("refuses the global '" + g[0] + "." + g[1] + "'"), e.getMessage());
        }
        assertFalse(Files.exists(dir.resolve("pwned")));
    }

    @Test
    void truncatedZipIsRefused() throws IOException {
        byte[] pt = Files.readAllBytes(Fixtures.tiny("weights/DiT-tiny.pt"));
        for (int len : new int[]{10, 1000, pt.length / 2, pt.length - 30}) {
            Path p = dir.resolve("trunc" + len + ".pt");
            Files.write(p, Arrays.copyOf(pt, len));
            refused(p, () -> TorchCheckpoint.loadStateDict(p, TorchCheckpoint.Pick.EMA));
        }
    }

    @Test
    void legacyNonZipFormatGetsAnExplanation() throws IOException {
        Path p = dir.resolve("legacy.pt");
        Files.write(p, new byte[]{(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19});
        var e = refused(p, () -> TorchCheckpoint.load(p));
        assertTrue(e.getMessage().contains("legacy"), e.getMessage());
    }

    @Test
    void storageShorterThanItsTensorIsRefused() throws IOException {
        byte[] pkl;
        try (var z = new java.util.zip.ZipFile(Fixtures.tiny("weights/DiT-tiny.pt").toFile())) {
            pkl = z.getInputStream(z.getEntry("DiT-tiny/data.pkl")).readAllBytes();
        }
        // Every storage present but 8 bytes long.
        Map<String, byte[]> storages = new LinkedHashMap<>();
        for (int i = 0; i < 40; i++) storages.put(String.valueOf(i), new byte[8]);
        Path p = zip("short.pt", pkl, storages);
        var e = refused(p, () -> TorchCheckpoint.load(p));
        assertTrue(e.getMessage().contains("bytes") || e.getMessage().contains("past the end"), e.getMessage());
    }

    @Test
    void hugeShapesAreRefusedBeforeAllocation() throws IOException {
        // _rebuild_tensor_v2(storage, 0, (1<<40, 1<<40), (1<<40, 1), False, OrderedDict()) over a 1-element storage.
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.writeBytes("ctorch._utils\n_rebuild_tensor_v2\n(".getBytes(StandardCharsets.US_ASCII));
        b.writeBytes("(X\u0007\0\0\0storagectorch\nFloatStorage\nX\u0001\0\0\u00000X\u0003\0\0\0cpuK\u0001tQ".getBytes(StandardCharsets.ISO_8859_1));
        b.writeBytes(new byte[]{'K', 0});
        b.write('(');
        for (int i = 0; i < 2; i++) longOp(b, 1L << 40);
        b.write('t');
        b.write('(');
        longOp(b, 1L << 40);
        b.writeBytes(new byte[]{'K', 1});
        b.write('t');
        b.write(0x89);   // NEWFALSE
        b.writeBytes("ccollections\nOrderedDict\n)R".getBytes(StandardCharsets.US_ASCII));
        b.writeBytes("tR.".getBytes(StandardCharsets.US_ASCII));
        Path p = zip("huge.pt", b.toByteArray(), Map.of("0", new byte[4]));
        var e = refused(p, () -> TorchCheckpoint.load(p));
        assertTrue(e.getMessage().contains("overflows") || e.getMessage().contains("more than"), e.getMessage());
    }

    private static void longOp(ByteArrayOutputStream b, long v) {
        b.write(0x8a);   // LONG1
        b.write(8);
        b.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    @Test
    void safetensorsWithBadHeadersAreRefused() throws IOException {
        INDArray a = Nd4j.createFromArray(new float[]{1, 2, 3, 4}).reshape(2, 2);
        Path good = dir.resolve("good.safetensors");
        Safetensors.write(good, Map.of("w", a), Map.of());
        assertEquals(a, Safetensors.read(good).get("w"));
        byte[] bytes = Files.readAllBytes(good);

        Path pastEnd = dir.resolve("past-end.safetensors");
        Files.write(pastEnd, Arrays.copyOf(bytes, bytes.length - 4));
        assertTrue(refused(pastEnd, () -> Safetensors.read(pastEnd)).getMessage().contains("outside"));

        Path hugeHeader = dir.resolve("huge-header.safetensors");
        byte[] h = bytes.clone();
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
        Files.write(hugeHeader, h);
        assertTrue(refused(hugeHeader, () -> Safetensors.read(hugeHeader)).getMessage().contains("header length"));

        Path hugeShape = dir.resolve("huge-shape.safetensors");
        String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,16]}}";
        byte[] jb = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + jb.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(jb.length).put(jb);
        Files.write(hugeShape, buf.array());
        assertTrue(refused(hugeShape, () -> Safetensors.read(hugeShape)).getMessage().contains("tensor 'w' shape"));

        Path notJson = dir.resolve("not-json.safetensors");
        Files.write(notJson, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(8).put("{{{{{{{{".getBytes()).array());
        refused(notJson, () -> Safetensors.read(notJson));
    }

    @Test
    void npyWithWrongSizeIsRefused() throws IOException {
        Path p = dir.resolve("x.npy");
        Npy.write(p, Nd4j.createFromArray(new float[]{1, 2, 3}));
        byte[] b = Files.readAllBytes(p);
        Path cut = dir.resolve("cut.npy");
        Files.write(cut, Arrays.copyOf(b, b.length - 2));
        assertTrue(refused(cut, () -> Npy.read(cut)).getMessage().contains("does not match"));
        Path garbage = dir.resolve("garbage.npy");
        Files.writeString(garbage, "hello");
        refused(garbage, () -> Npy.read(garbage));
    }
}
