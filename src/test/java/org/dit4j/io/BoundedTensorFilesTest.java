package org.dit4j.io;

import com.google.protobuf.CodedOutputStream;
import org.dit4j.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.dit4j.io.Refusals.refused;
import static org.junit.jupiter.api.Assertions.*;

/** .npy noise of numpy's default dtype, and MindSpore .ckpt files whose declared sizes exceed what they hold. */
class BoundedTensorFilesTest {
    @TempDir
    Path dir;

    @Test
    void float64NoiseIsConvertedWhereFloat32IsExpected() throws IOException {
        Path p = dir.resolve("noise.npy");
        Npy.write(p, Nd4j.createFromArray(new double[]{0.25, -1.5, 3}).reshape(1, 3));
        assertEquals(DataType.DOUBLE, Npy.read(p).dataType());
        INDArray z = Npy.readFloat32(p);
        assertEquals(DataType.FLOAT, z.dataType());
        assertArrayEquals(new long[]{1, 3}, z.shape());
        assertArrayEquals(new float[]{0.25f, -1.5f, 3}, z.reshape(3).toFloatVector());
        Path f32 = dir.resolve("f32.npy");
        Npy.write(f32, Nd4j.createFromArray(new float[]{1, 2}));
        assertArrayEquals(new float[]{1, 2}, Npy.readFloat32(f32).toFloatVector());
        Path ints = dir.resolve("ints.npy");
        Npy.write(ints, Nd4j.createFromArray(new long[]{1, 2}));
        refused(ints, "has dtype int64, expected float32 (float64 and float16 are converted)", () -> Npy.readFloat32(ints));
    }

    @Test
    void npyFromADeviceIsRefusedWithoutReading() {
        Path zero = Path.of("/dev/zero");
        assumeReadable(zero);
        refused(zero, "not a regular file", () -> Npy.read(zero));
        Path missing = dir.resolve("missing.npy");
        refused(missing, "no such file", () -> Npy.read(missing));
    }

    private static void assumeReadable(Path p) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(p), p + " is not available here");
    }

    /** One {@code Checkpoint.value}: {@code Value {tag = 1; TensorProto tensor = 2 {dims = 1; tensor_type = 2; tensor_content = 3}}}. */
    private static byte[] value(String tag, long[] dims, String type, byte[] content) throws IOException {
        ByteArrayOutputStream tensor = new ByteArrayOutputStream();
        CodedOutputStream t = CodedOutputStream.newInstance(tensor);
        for (long d : dims) t.writeInt64(1, d);
        t.writeString(2, type);
        t.writeByteArray(3, content);
        t.flush();
        ByteArrayOutputStream value = new ByteArrayOutputStream();
        CodedOutputStream v = CodedOutputStream.newInstance(value);
        v.writeString(1, tag);
        v.writeByteArray(2, tensor.toByteArray());
        v.flush();
        ByteArrayOutputStream ckpt = new ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(ckpt);
        c.writeByteArray(1, value.toByteArray());
        c.flush();
        return ckpt.toByteArray();
    }

    @Test
    void mindSporeTensorLargerThanItsContentIsRefusedBeforeAllocating() throws IOException {
        Path p = dir.resolve("claims.ckpt");
        Files.write(p, value("w", new long[]{1 << 15, 1 << 16}, "Float32", new byte[4]));
        refused(p, "tensor 'w' has 4 bytes, shape [32768, 65536] of Float32 needs 8589934592", () -> MindSporeCheckpoint.read(p));
    }

    @Test
    void mindSporeLengthBeyondTheFileIsRefused() throws IOException {
        byte[] ok = value("w", new long[]{1}, "Float32", new byte[4]);
        byte[] lying = new byte[ok.length + 5];
        // A value field claiming 2^31 - 1 bytes (varint ff ff ff ff 07) in a file of a few dozen.
        lying[0] = 0x0A;
        System.arraycopy(new byte[]{(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07}, 0, lying, 1, 5);
        System.arraycopy(ok, 2, lying, 6, ok.length - 2);
        Path p = dir.resolve("lying.ckpt");
        Files.write(p, lying);
        refused(p, "corrupt MindSpore checkpoint (a field claims 2147483647 bytes, only", () -> MindSporeCheckpoint.read(p));
        Path rank = dir.resolve("rank.ckpt");
        Files.write(rank, value("w", new long[100], "Float32", new byte[0]));
        refused(rank, "tensor with more than 64 dims", () -> MindSporeCheckpoint.read(rank));
    }

    @Test
    void mindSporeFixturesStillRead() throws IOException {
        try (var s = Files.walk(Fixtures.root())) {
            for (Path f : s.filter(f -> f.toString().endsWith(".ckpt") && MindSporeCheckpoint.looksLikeCheckpoint(f)).toList())
                assertFalse(MindSporeCheckpoint.read(f).isEmpty(), f.toString());
        }
        Path p = dir.resolve("one.ckpt");
        Files.write(p, value("w", new long[]{2}, "Float32", new byte[]{0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40}));
        assertArrayEquals(new float[]{1, 2}, MindSporeCheckpoint.read(p).get("w").toFloatVector());
    }
}
