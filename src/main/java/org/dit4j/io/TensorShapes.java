package org.dit4j.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/** Raw little-endian tensor data to and from INDArrays, with shapes treated as untrusted input. */
public final class TensorShapes {
    /** No single tensor of a supported model comes near this; anything larger is a corrupt or hostile header. */
    public static final long MAX_ELEMENTS = 1L << 31;

    private TensorShapes() {}

    public static long checkedProduct(Path file, long[] shape) {
        return checkedProduct(file, "", shape);
    }

    /** The element count of {@code shape}; {@code what} (e.g. "tensor 'w' ") prefixes the problem. */
    public static long checkedProduct(Path file, String what, long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new WeightsFormatException(file, what + "negative dimension in shape " + Arrays.toString(shape));
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new WeightsFormatException(file, what + "shape " + Arrays.toString(shape) + " overflows");
            }
            if (n > MAX_ELEMENTS)
                throw new WeightsFormatException(file, what + "shape " + Arrays.toString(shape) + " asks for more than " + MAX_ELEMENTS + " elements");
        }
        return n;
    }

    /** Decodes {@code data} (exactly the tensor's bytes) into a C-order array; half precision is widened to float32. */
    public static INDArray fromLittleEndian(ByteBuffer data, DataType type, long[] shape) {
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) Arrays.stream(shape).reduce(1L, (a, c) -> a * c);
        if (n > 0 && (type == DataType.FLOAT || type == DataType.DOUBLE || type == DataType.LONG || type == DataType.INT)) {
            // Straight into the array's native memory in one bulk copy: Nd4j.create(float[]) stores element by element
            // through an indexer, which took ~6 ns a value (most of reading a checkpoint).
            INDArray a = Nd4j.createUninitialized(type, shape, 'c');
            ByteBuffer dst = a.data().asNio().order(ByteOrder.nativeOrder());
            switch (type) {
                case FLOAT -> dst.asFloatBuffer().put(b.asFloatBuffer().limit(n));
                case DOUBLE -> dst.asDoubleBuffer().put(b.asDoubleBuffer().limit(n));
                case LONG -> dst.asLongBuffer().put(b.asLongBuffer().limit(n));
                default -> dst.asIntBuffer().put(b.asIntBuffer().limit(n));
            }
            return a;
        }
        switch (type) {
            case FLOAT, DOUBLE, LONG, INT -> {
                return Nd4j.create(type, shape, 'c');   // no elements
            }
            case HALF, BFLOAT16 -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    short h = b.getShort(2 * i);
                    v[i] = type == DataType.HALF ? halfToFloat(h) : Float.intBitsToFloat((h & 0xffff) << 16);
                }
                return Nd4j.create(v, shape, 'c');
            }
            case UBYTE, BOOL -> {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) v[i] = Byte.toUnsignedInt(b.get(i));
                return Nd4j.createFromArray(v).reshape('c', shape).castTo(type);
            }
            default -> throw new IllegalArgumentException("unsupported tensor type " + type);
        }
    }

    /** IEEE 754 binary16 → float32 (exact). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff, sign = (bits & 0x8000) << 16, exp = (bits >> 10) & 0x1f, mant = bits & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    public static byte[] toLittleEndian(INDArray array) {
        INDArray a = array.dup('c');
        long n = a.length();
        ByteBuffer b;
        switch (a.dataType()) {
            case FLOAT -> {
                b = ByteBuffer.allocate((int) (4 * n)).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(a.data().asFloat());
            }
            case DOUBLE -> {
                b = ByteBuffer.allocate((int) (8 * n)).order(ByteOrder.LITTLE_ENDIAN);
                b.asDoubleBuffer().put(a.data().asDouble());
            }
            case LONG -> {
                b = ByteBuffer.allocate((int) (8 * n)).order(ByteOrder.LITTLE_ENDIAN);
                b.asLongBuffer().put(a.data().asLong());
            }
            case INT -> {
                b = ByteBuffer.allocate((int) (4 * n)).order(ByteOrder.LITTLE_ENDIAN);
                b.asIntBuffer().put(a.data().asInt());
            }
            case UBYTE -> {
                b = ByteBuffer.allocate((int) n);
                for (int v : a.castTo(org.nd4j.linalg.api.buffer.DataType.INT).data().asInt()) b.put((byte) v);
            }
            default -> throw new IllegalArgumentException("cannot serialise " + a.dataType());
        }
        return b.array();
    }
}
