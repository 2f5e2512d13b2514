package org.dit4j.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes a flat float32 state dict as {@code torch.save} does (zip container), for loader tests without Python. */
public final class TorchZipWriter {
    private TorchZipWriter() {}

    public static void write(Path file, Map<String, INDArray> floats) throws IOException {
        TorchBoundsTest.Pickle p = new TorchBoundsTest.Pickle().op('}');
        int i = 0;
        for (Map.Entry<String, INDArray> e : floats.entrySet()) {
            long[] shape = e.getValue().shape(), stride = new long[shape.length];
            for (int d = shape.length - 1, s = 1; d >= 0; s *= (int) shape[d], d--) stride[d] = s;
            p.str(e.getKey()).tensor(String.valueOf(i++), e.getValue().length(), 0, shape, stride, false).op('s');
        }
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            put(z, "archive/data.pkl", p.op('.').bytes());
            put(z, "archive/byteorder", "little".getBytes());
            i = 0;
            for (INDArray a : floats.values()) {
                float[] v = a.castTo(DataType.FLOAT).dup('c').data().asFloat();
                ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                put(z, "archive/data/" + i++, b.array());
            }
        }
    }

    private static void put(ZipOutputStream z, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(data);
    }
}
