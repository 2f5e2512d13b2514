package org.dit4j.data;

import org.dit4j.io.HadoopFiles;
import org.dit4j.io.Npy;
import org.dit4j.io.TensorShapes;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/** The rows of one .npy file of shape (n, ...), read one at a time with positioned reads (local path or Hadoop URI). */
final class NpyRows {
    final String location;
    final Npy.Layout layout;
    private final HadoopFiles.Reader reader;
    private final int rowBytes;

    /** {@code rank}: the rank the file must have; {@code what}: the word for its rows in messages. */
    NpyRows(String location, int rank, String what) {
        this.location = location;
        this.reader = HadoopFiles.open(location);
        byte[] head = new byte[(int) Math.min(reader.length(), 4096)];
        reader.readFully(0, head, 0, head.length);
        this.layout = Npy.layout(location, head);
        if (layout.shape().length != rank)
            throw new IllegalArgumentException(location + ": " + Arrays.toString(layout.shape()) + " " + what + ", expected rank " + rank);
        long row = layout.elementBytes();
        for (int i = 1; i < rank; i++) row *= layout.shape()[i];
        if (layout.dataOffset() + row * layout.shape()[0] != reader.length())
            throw new IllegalArgumentException(location + ": " + reader.length() + " bytes, the header's shape " + Arrays.toString(layout.shape())
                    + " needs " + (layout.dataOffset() + row * layout.shape()[0]));
        this.rowBytes = Math.toIntExact(row);
    }

    long count() {
        return layout.shape()[0];
    }

    /** The shape of one row. */
    long[] rowShape() {
        return Arrays.copyOfRange(layout.shape(), 1, layout.shape().length);
    }

    /** Row {@code i} as float32, with a leading axis of 1. */
    INDArray row(long i) {
        byte[] b = new byte[rowBytes];
        reader.readFully(layout.dataOffset() + i * rowBytes, b, 0, rowBytes);
        long[] shape = layout.shape().clone();
        shape[0] = 1;
        return TensorShapes.fromLittleEndian(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN), layout.type(), shape).castTo(DataType.FLOAT);
    }
}
