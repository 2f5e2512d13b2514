package org.dit4j.io;

import org.dit4j.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.dit4j.io.Refusals.allocated;
import static org.dit4j.io.Refusals.refused;
import static org.junit.jupiter.api.Assertions.*;

/**
 * torch.save files whose views, storages or pickles claim more than they hold: refused in one line before anything
 * of the claimed size is allocated or inflated, and the pickle bounded in depth, objects and lengths.
 */
class TorchBoundsTest {
    @TempDir
    Path dir;

    /** Protocol-2 pickle opcodes, written the way torch.save writes them. */
    static final class Pickle {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Pickle() {
            op(0x80).op(2);
        }

        Pickle op(int... ops) {
            for (int o : ops) b.write(o);
            return this;
        }

        Pickle raw(byte[] bytes) {
            b.writeBytes(bytes);
            return this;
        }

        Pickle str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            return op('X').raw(le(4, u.length)).raw(u);
        }

        Pickle global(String module, String name) {
            return raw(("c" + module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        }

        /** LONG1 with 8 little-endian bytes: any long, negative ones included. */
        Pickle num(long v) {
            return op(0x8a, 8).raw(le(8, v));
        }

        Pickle tuple(long... vs) {
            op('(');
            for (long v : vs) num(v);
            return op('t');
        }

        /** {@code _rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel[, None]), offset, size, stride, False, OrderedDict())}. */
        Pickle tensor(String key, long numel, long offset, long[] size, long[] stride, boolean legacy) {
            global("torch._utils", "_rebuild_tensor_v2").op('(');
            op('(').str("storage").global("torch", "FloatStorage").str(key).str("cpu").num(numel);
            if (legacy) op('N');
            op('t', 'Q');
            num(offset).tuple(size).tuple(stride).op(0x89);
            global("collections", "OrderedDict").op(')', 'R');
            return op('t', 'R');
        }

        /** A dict {name: tensor}. */
        static Pickle stateDict(String name, String key, long numel, long offset, long[] size, long[] stride) {
            return new Pickle().op('}').str(name).tensor(key, numel, offset, size, stride, false).op('s', '.');
        }

        byte[] bytes() {
            return b.toByteArray();
        }
    }

    static byte[] le(int width, long v) {
        ByteBuffer bb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
        byte[] r = new byte[width];
        System.arraycopy(bb.array(), 0, r, 0, width);
        return r;
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    /** A torch-style zip: archive/data.pkl, then archive/data/KEY members, stored as torch.save stores them. */
    private Path zip(String name, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Map<String, Body> bodies = new LinkedHashMap<>();
        storages.forEach((k, v) -> bodies.put(k, out -> out.write(v)));
        return zip(name, pickle, bodies, false);
    }

    private Path zip(String name, byte[] pickle, Map<String, Body> storages, boolean deflate) throws IOException {
        Path p = dir.resolve(name);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(p))) {
            putStored(z, "archive/data.pkl", pickle);
            for (var e : storages.entrySet()) {
                if (deflate) {
                    z.putNextEntry(new ZipEntry("archive/data/" + e.getKey()));
                    e.getValue().write(z);
                } else {
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    e.getValue().write(b);
                    putStored(z, "archive/data/" + e.getKey(), b.toByteArray());
                }
            }
        }
        return p;
    }

    private static void putStored(ZipOutputStream z, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(data);
    }

    /** {@code mib} MiB of zeros: deflates about a thousandfold. */
    private static Body zeros(long mib) {
        return out -> {
            byte[] chunk = new byte[1 << 20];
            for (long i = 0; i < mib; i++) out.write(chunk);
        };
    }

    private static long[] dims(long... d) {
        return d;
    }

    @Test
    void expandedStrideZeroTensorIsRefusedBeforeAllocating() throws IOException {
        // 2^31 elements (8.6 GB of float32) viewed through stride 0 over a one-float storage: a few hundred bytes on disk.
        Path p = zip("expanded.pt", Pickle.stateDict("w", "0", 1, 0, dims(1 << 15, 1 << 16), dims(0, 0)).bytes(), Map.of("0", new byte[4]));
        assertTrue(Files.size(p) < 1024);
        refused(p, "tensor 'w' of shape [32768, 65536] has 2147483648 elements but storage '0' holds only 1", () -> TorchCheckpoint.load(p));
    }

    @Test
    void negativeStridesAndOffsetsAreRefused() throws IOException {
        Path stride = zip("stride.pt", Pickle.stateDict("w", "0", 4, 3, dims(4), dims(-1)).bytes(), Map.of("0", new byte[16]));
        refused(stride, "tensor 'w' has a negative stride [-1]", () -> TorchCheckpoint.load(stride));
        Path offset = zip("offset.pt", Pickle.stateDict("w", "0", 4, -1, dims(2), dims(1)).bytes(), Map.of("0", new byte[16]));
        refused(offset, "tensor 'w' has a negative storage offset -1", () -> TorchCheckpoint.load(offset));
    }

    @Test
    void viewsPastTheEndOfTheirStorageAreRefused() throws IOException {
        Path past = zip("past.pt", Pickle.stateDict("w", "0", 4, 2, dims(4), dims(1)).bytes(), Map.of("0", new byte[16]));
        refused(past, "tensor 'w' (offset 2, shape [4], stride [1]) reaches past the end of storage '0' of 4 elements", () -> TorchCheckpoint.load(past));
        // An extent that overflows a long must not wrap around into the storage.
        Path wrap = zip("wrap.pt", Pickle.stateDict("w", "0", 4, 0, dims(2, 2), dims(1L << 62, 1L << 62)).bytes(), Map.of("0", new byte[16]));
        refused(wrap, "reaches past the end of storage '0'", () -> TorchCheckpoint.load(wrap));
    }

    @Test
    void storageLargerThanItsMemberIsRefusedBeforeAllocating() throws IOException {
        // The pickle claims 2^28 floats (1 GiB); the member holds 4 bytes.
        Path p = zip("claims.pt", Pickle.stateDict("w", "0", 1 << 28, 0, dims(1), dims(1)).bytes(), Map.of("0", new byte[4]));
        refused(p, "storage 'archive/data/0' holds 4 bytes, 1073741824 declared", () -> TorchCheckpoint.load(p));
        Path huge = zip("huge-storage.pt", Pickle.stateDict("w", "0", 1L << 31, 0, dims(1), dims(1)).bytes(), Map.of("0", new byte[4]));
        refused(huge, "storages over 2 GiB are not supported", () -> TorchCheckpoint.load(huge));
    }

    @Test
    void zipBombIsRefusedWithoutInflating() throws IOException {
        // 64 MiB of zeros deflate to 64 KiB; the pickle declares a 16-byte storage.
        Path p = zip("bomb.pt", Pickle.stateDict("w", "0", 4, 0, dims(4), dims(1)).bytes(), Map.of("0", zeros(64)), true);
        assertTrue(Files.size(p) < 1 << 20);
        refused(p, 8L << 20, "storage 'archive/data/0' holds 67108864 bytes, 16 declared", () -> TorchCheckpoint.load(p));
    }

    @Test
    void memberThatInflatesPastItsDeclaredSizeIsCutOff() throws IOException {
        Path p = zip("liar.pt", Pickle.stateDict("w", "0", 4, 0, dims(4), dims(1)).bytes(), Map.of("0", zeros(64)), true);
        byte[] b = Files.readAllBytes(p);
        // Rewrite the member's uncompressed size in the central directory (offset 24 of its record) to 16 bytes.
        int cd = lastIndexOf(b, new byte[]{'P', 'K', 1, 2});
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(cd + 24, 16);
        Files.write(p, b);
        refused(p, 8L << 20, "storage 'archive/data/0'", () -> TorchCheckpoint.load(p));
    }

    private static int lastIndexOf(byte[] b, byte[] pat) {
        for (int i = b.length - pat.length; i >= 0; i--) {
            int j = 0;
            while (j < pat.length && b[i + j] == pat[j]) j++;
            if (j == pat.length) return i;
        }
        throw new AssertionError("pattern not found");
    }

    @Test
    void smallViewOfALargeCompressibleStorageCostsOnlyTheView() throws IOException {
        // A 64 MiB storage (deflated to 64 KiB) of which the tensor views 4 floats.
        Path p = zip("view.pt", Pickle.stateDict("w", "0", 16L << 20, 1000, dims(4), dims(1)).bytes(), Map.of("0", zeros(64)), true);
        Map<String, INDArray>[] w = new Map[1];
        long heap = allocated(() -> w[0] = TorchCheckpoint.loadStateDict(p, TorchCheckpoint.Pick.EMA));
        assertArrayEquals(new float[4], w[0].get("w").toFloatVector());
        assertTrue(heap < 16L << 20, "allocated " + heap);
    }

    @Test
    void manyOverlappingViewsOfOneStorageAreRefused() throws IOException {
        // 1,000 distinct full views of one 4 KiB storage would be 4 MB of tensors from a 4 KiB member.
        Pickle p = new Pickle().op('}', '(');
        for (int i = 0; i < 1000; i++) p.str("w" + i).tensor("0", 1024, 0, dims(1024), dims(1), false);
        Path f = zip("views.pt", p.op('u', '.').bytes(), Map.of("0", new byte[4096]));
        refused(f, "1000 tensors hold 4096000 bytes, more than twice the 4096 bytes of storage they view", () -> TorchCheckpoint.load(f));
        // A tied pair (two views of the same storage) still loads.
        Pickle tied = new Pickle().op('}', '(').str("a").tensor("0", 4, 0, dims(4), dims(1), false)
                .str("b").tensor("0", 4, 0, dims(2, 2), dims(2, 1), false).op('u', '.');
        Path t = zip("tied.pt", tied.bytes(), Map.of("0", new byte[16]));
        assertEquals(2, TorchCheckpoint.loadStateDict(t, TorchCheckpoint.Pick.EMA).size());
    }

    @Test
    void storageDeclaredTwiceWithDifferentSizesIsRefused() throws IOException {
        byte[] pkl = new Pickle().op('}', '(')
                .str("a").tensor("0", 1, 0, dims(1), dims(1), false)
                .str("b").tensor("0", 1 << 20, 0, dims(1 << 20), dims(1), false).op('u', '.').bytes();
        Path p = zip("twice.pt", pkl, Map.of("0", new byte[4]));
        refused(p, "storage 0 is declared twice, as 1 torch.FloatStorage and 1048576 torch.FloatStorage", () -> TorchCheckpoint.load(p));
    }

    @Test
    void stridedViewsStillReadCorrectly() throws IOException {
        // The transpose of [[0, 1, 2], [3, 4, 5]], stored as torch.save stores a non-contiguous view, at offset 1.
        ByteBuffer data = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = -1; i < 6; i++) data.putFloat(i);
        Path p = zip("t.pt", Pickle.stateDict("w", "0", 7, 1, dims(3, 2), dims(1, 3)).bytes(), Map.of("0", data.array()));
        INDArray w = TorchCheckpoint.loadStateDict(p, TorchCheckpoint.Pick.EMA).get("w");
        assertArrayEquals(new long[]{3, 2}, w.shape());
        assertArrayEquals(new float[]{0, 3, 1, 4, 2, 5}, w.reshape(6).toFloatVector());
    }

    // --- the pickle itself

    private Path pickleFile(String name, Pickle p) throws IOException {
        return zip(name, p.bytes(), Map.of());
    }

    @Test
    void deeplyNestedListIsRefused() throws IOException {
        Pickle p = new Pickle();
        for (int i = 0; i < 20_000; i++) p.op(']');
        for (int i = 1; i < 20_000; i++) p.op('a');
        Path f = pickleFile("deep.pt", p.op('.'));
        refused(f, "data.pkl: containers nested more than 100 deep", () -> TorchCheckpoint.load(f));
    }

    @Test
    void selfContainingListIsRefused() throws IOException {
        Path f = pickleFile("cycle.pt", new Pickle().op(']', 'q', 0, 'h', 0, 'a', '.'));
        refused(f, "data.pkl: a ArrayList contains itself", () -> TorchCheckpoint.load(f));
    }

    @Test
    void sharedReferencesAreWalkedOnce() throws IOException {
        // l0 = [tensor]; l(i+1) = [l(i), l(i)]: 2^60 paths to the one tensor in a few hundred bytes.
        Pickle p = new Pickle().op('}').str("w").op(']').tensor("0", 1, 0, dims(1), dims(1), false).op('a', 'q', 0);
        for (int i = 1; i <= 60; i++) p.op('0', ']', '(', 'h', i - 1, 'h', i - 1, 'e', 'q', i);
        Path f = zip("shared.pt", p.op('s', '.').bytes(), Map.of("0", new byte[4]));
        assertTrue(Files.size(f) < 1024);
        Map<?, ?> root = (Map<?, ?>) TorchCheckpoint.load(f);
        Object l = root.get("w");
        for (int i = 0; i < 60; i++) l = ((List<?>) l).get(1);
        assertInstanceOf(INDArray.class, ((List<?>) l).get(0));
        refused(f, "state dict entry 'w' is not a tensor", () -> TorchCheckpoint.loadStateDict(f, TorchCheckpoint.Pick.EMA));
    }

    @Test
    void objectCountIsBounded() throws IOException {
        Pickle p = new Pickle();
        for (int i = 0; i < RestrictedUnpickler.MAX_OPCODES; i++) p.op('N', '0');
        Path f = pickleFile("many.pt", p.op('N', '.'));
        refused(f, "data.pkl: more than " + RestrictedUnpickler.MAX_OPCODES + " opcodes", () -> TorchCheckpoint.load(f));
    }

    @Test
    void lengthsBeyondTheRemainingInputAreRefused() throws IOException {
        record Case(String name, Pickle pickle, String expected) {}
        for (Case c : List.of(
                new Case("binbytes", new Pickle().op('B').raw(le(4, 0x7fffffff)).raw(new byte[10]), "opcode 0x42 claims 2147483647 bytes, only 10 remain"),
                new Case("binunicode", new Pickle().op('X').raw(le(4, 0xffffffffL)), "opcode 0x58 claims 4294967295 bytes, only 0 remain"),
                new Case("binstring", new Pickle().op('T').raw(le(4, -2)), "opcode 0x54 claims 4294967294 bytes"),
                new Case("binbytes8", new Pickle().op(0x8e).raw(le(8, -1)), "opcode 0x8e claims 18446744073709551615 bytes"),
                new Case("binunicode8", new Pickle().op(0x8d).raw(le(8, 1L << 40)), "opcode 0x8d claims 1099511627776 bytes"),
                new Case("bytearray8", new Pickle().op(0x96).raw(le(8, 1L << 33)), "opcode 0x96 claims 8589934592 bytes"),
                new Case("long4", new Pickle().op(0x8b).raw(le(4, 0x7fffffff)), "LONG4 integer of 2147483647 bytes (at most 1024)"),
                new Case("frame", new Pickle().op(0x95).raw(le(8, 1L << 50)), "opcode 0x95 claims 1125899906842624 bytes"),
                new Case("line", new Pickle().op('I').raw("9".repeat(5000).getBytes(StandardCharsets.US_ASCII)).op('\n', '.'), "text opcode 'I' longer than 1024 bytes"))) {
            Path f = pickleFile(c.name() + ".pt", c.pickle());
            refused(f, "data.pkl: " + c.expected(), () -> TorchCheckpoint.load(f));
        }
    }

    @Test
    void unhashableKeysAndMalformedNumbersAreRefused() throws IOException {
        Path key = pickleFile("key.pt", new Pickle().op('}', ']', 'N', 's', '.'));
        refused(key, "data.pkl: unhashable ArrayList used as a dict key", () -> TorchCheckpoint.load(key));
        Path set = pickleFile("set.pt", new Pickle().op(0x8f, '(', '}', 0x90, '.'));
        refused(set, "data.pkl: unhashable HashMap used as a dict key or set element", () -> TorchCheckpoint.load(set));
        Path empty = pickleFile("empty-stack.pt", new Pickle().op('a', '.'));
        refused(empty, "data.pkl: malformed pickle", () -> TorchCheckpoint.load(empty));
        // An offset of 2^64 + 1 must not be truncated to 1.
        Pickle p = new Pickle().op('}').str("w").global("torch._utils", "_rebuild_tensor_v2").op('(');
        p.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").num(4).op('t', 'Q');
        p.op(0x8a, 9).raw(new byte[]{1, 0, 0, 0, 0, 0, 0, 0, 1}).tuple(1).tuple(1).op(0x89).op('t', 'R', 's', '.');
        Path wide = zip("wide.pt", p.bytes(), Map.of("0", new byte[16]));
        refused(wide, "data.pkl: integer of 65 bits does not fit 64 bits", () -> TorchCheckpoint.load(wide));
    }

    @Test
    void namesWithNewlinesStayOnOneLine() throws IOException {
        Path f = pickleFile("newline.pt", new Pickle().op('}').str("a\nb").op('N', 's', '.'));
        refused(f, "state dict entry 'a\\nb' is not a tensor", () -> TorchCheckpoint.loadStateDict(f, TorchCheckpoint.Pick.EMA));
    }

    // --- the legacy (pre-1.6) format

    /** magic, protocol 1001, sys_info, the object, the storage keys, then each storage as (int64 numel, data). */
    private Path legacy(String name, Pickle root, List<String> keys, byte[] storages) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new Pickle().op(0x8a, 10).raw(new byte[]{0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19}).op('.').bytes());
        b.writeBytes(new Pickle().op('M').raw(le(2, 1001)).op('.').bytes());
        b.writeBytes(new Pickle().op('}').str("little_endian").op(0x88, 's', '.').bytes());
        b.writeBytes(root.bytes());
        Pickle k = new Pickle().op(']', '(');
        keys.forEach(k::str);
        b.writeBytes(k.op('e', '.').bytes());
        b.writeBytes(storages);
        Path p = dir.resolve(name);
        Files.write(p, b.toByteArray());
        return p;
    }

    private static Pickle legacyStateDict(long numel, long[] size, long[] stride) {
        return new Pickle().op('}').str("w").tensor("0", numel, 0, size, stride, true).op('s', '.');
    }

    @Test
    void legacyStorageLargerThanTheFileIsRefusedBeforeAllocating() throws IOException {
        Path p = legacy("legacy-claims.pt", legacyStateDict(1 << 28, dims(1), dims(1)), List.of("0"), le(8, 1 << 28));
        refused(p, "storage '0' declares 1073741824 bytes, only 0 remain in the file", () -> TorchCheckpoint.load(p));
        Path expanded = legacy("legacy-expanded.pt", legacyStateDict(1, dims(1 << 15, 1 << 16), dims(0, 0)), List.of("0"),
                ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(1).putFloat(1).array());
        refused(expanded, "tensor 'w' of shape [32768, 65536] has 2147483648 elements but storage '0' holds only 1", () -> TorchCheckpoint.load(expanded));
    }

    @Test
    void legacyFileStillReads() throws IOException {
        Path p = legacy("legacy.pt", legacyStateDict(2, dims(2), dims(1)), List.of("0"),
                ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(2).putFloat(1.5f).putFloat(-2).array());
        assertArrayEquals(new float[]{1.5f, -2}, TorchCheckpoint.loadStateDict(p, TorchCheckpoint.Pick.EMA).get("w").toFloatVector());
    }

    @Test
    void everyTorchFixtureStillLoads() throws IOException {
        try (Stream<Path> s = Stream.concat(Files.walk(Fixtures.root()), Files.walk(Path.of("src/test/resources")))) {
            List<Path> files = s.filter(f -> f.toString().matches(".*\\.(pt|pth|bin|ckpt)$")
                    && (TorchCheckpoint.looksLikeZip(f) || TorchCheckpoint.looksLikeLegacy(f))).toList();
            assertTrue(files.stream().anyMatch(TorchCheckpoint::looksLikeLegacy) && files.size() >= 9, files.toString());
            for (Path f : files) assertInstanceOf(Map.class, TorchCheckpoint.load(f), f.toString());
        }
    }
}
