package org.dit4j.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files (format 1.0-3.0, little-endian, C order): the exchange format with PyTorch for
 * noise, latents and test vectors. Written here rather than through ND4J's reader to get errors that name the file.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<>|=])([a-z])(\\d+)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    private Npy() {}

    /** The array as stored: float64 stays float64 (see {@link #readFloat32} for noise and latents). */
    public static INDArray read(Path file) {
        byte[] bytes;
        try {
            // A device or FIFO (--noise /dev/zero) would be read forever; a regular file is read only up to its size.
            if (!Files.isRegularFile(file)) throw new WeightsFormatException(file, Files.exists(file) ? "not a regular file" : "no such file");
            if (Files.size(file) > Integer.MAX_VALUE - 8) throw new WeightsFormatException(file, ".npy files over 2 GiB are not supported");
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read: " + e.getMessage(), e);
        }
        return parse(file, bytes);
    }

    /**
     * A float32 array, for noise and latents: float64 files (numpy's default dtype) and float16 ones are converted,
     * any other dtype is refused with the file and its dtype named.
     */
    public static INDArray readFloat32(Path file) {
        INDArray a = read(file);
        return switch (a.dataType()) {
            case FLOAT -> a;
            case DOUBLE -> a.castTo(DataType.FLOAT);
            default -> throw new WeightsFormatException(file, "has dtype " + switch (a.dataType()) {
                case LONG -> "int64";
                case INT -> "int32";
                case UBYTE -> "uint8";
                default -> a.dataType().name().toLowerCase(java.util.Locale.ROOT);
            } + ", expected float32 (float64 and float16 are converted)");
        };
    }

    static INDArray parse(Path file, byte[] bytes) {
        if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, 6), MAGIC))
            throw new WeightsFormatException(file, "not a .npy file (missing \\x93NUMPY magic)");
        int major = bytes[6];
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int headerStart;
        if (major == 1) {
            headerLen = Short.toUnsignedInt(bb.getShort(8));
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) throw new WeightsFormatException(file, "truncated .npy header");
            headerLen = Integer.toUnsignedLong(bb.getInt(8));
            headerStart = 12;
        } else {
            throw new WeightsFormatException(file, "unsupported .npy format version " + major);
        }
        if (headerStart + headerLen > bytes.length) throw new WeightsFormatException(file, "truncated .npy header");
        String header = new String(bytes, headerStart, (int) headerLen, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), o = ORDER.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !o.find() || !s.find()) throw new WeightsFormatException(file, "malformed .npy header: " + header.trim());
        if (o.group(1).equals("True")) throw new WeightsFormatException(file, "Fortran-order arrays are not supported; save with np.ascontiguousarray");
        if (d.group(1).equals(">")) throw new WeightsFormatException(file, "big-endian arrays are not supported");
        String kind = d.group(2) + d.group(3);
        DataType type = switch (kind) {
            case "f4" -> DataType.FLOAT;
            case "f8" -> DataType.DOUBLE;
            case "f2" -> DataType.HALF;
            case "i8" -> DataType.LONG;
            case "i4" -> DataType.INT;
            case "u1" -> DataType.UBYTE;
            case "b1" -> DataType.BOOL;
            default -> throw new WeightsFormatException(file, "unsupported dtype '" + kind + "' (expected float32, float64, float16, int64, int32, uint8 or bool)");
        };
        long[] shape = parseShape(file, "", s.group(1));
        long count = TensorShapes.checkedProduct(file, shape);
        int elem = Integer.parseInt(d.group(3));
        long dataStart = headerStart + headerLen;
        if (dataStart + count * elem != bytes.length)
            throw new WeightsFormatException(file, "data size " + (bytes.length - dataStart) + " bytes does not match shape "
                    + Arrays.toString(shape) + " of " + kind + " (" + count * elem + " bytes)");
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) dataStart, (int) (count * elem)).slice().order(ByteOrder.LITTLE_ENDIAN);
        return TensorShapes.fromLittleEndian(data, type, shape);
    }

    /** The array in {@code bytes}, read from {@code source} (a path or a URI, which errors name). */
    public static INDArray read(String source, byte[] bytes) {
        try {
            return parse(PLACEHOLDER, bytes);
        } catch (WeightsFormatException e) {
            throw new IllegalArgumentException(source + e.getMessage().substring(PLACEHOLDER.toString().length()), e);
        }
    }

    private static final Path PLACEHOLDER = Path.of("npy");

    /** Where an array's data starts in a .npy file and what it holds: for reading rows without the whole file. */
    public record Layout(DataType type, long[] shape, long dataOffset, int elementBytes) {}

    /** The layout from the first bytes of a .npy file ({@code prefix}: at least its header). */
    public static Layout layout(String source, byte[] prefix) {
        if (prefix.length < 10 || !Arrays.equals(Arrays.copyOf(prefix, 6), MAGIC))
            throw new IllegalArgumentException(source + ": not a .npy file (missing \\x93NUMPY magic)");
        ByteBuffer bb = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN);
        int major = prefix[6], headerStart = major == 1 ? 10 : 12;
        if (major < 1 || major > 3) throw new IllegalArgumentException(source + ": unsupported .npy format version " + major);
        long headerLen = major == 1 ? Short.toUnsignedInt(bb.getShort(8)) : Integer.toUnsignedLong(bb.getInt(8));
        if (headerStart + headerLen > prefix.length) throw new IllegalArgumentException(source + ": .npy header longer than " + prefix.length + " bytes");
        String header = new String(prefix, headerStart, (int) headerLen, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), o = ORDER.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !o.find() || !s.find()) throw new IllegalArgumentException(source + ": malformed .npy header: " + header.trim());
        if (o.group(1).equals("True") || d.group(1).equals(">"))
            throw new IllegalArgumentException(source + ": only C-order little-endian arrays can be read by rows");
        DataType type = switch (d.group(2) + d.group(3)) {
            case "f4" -> DataType.FLOAT;
            case "f8" -> DataType.DOUBLE;
            case "f2" -> DataType.HALF;
            default -> throw new IllegalArgumentException(source + ": dtype '" + d.group(2) + d.group(3) + "', expected float32, float64 or float16");
        };
        long[] shape;
        try {
            shape = parseShape(PLACEHOLDER, "", s.group(1));
        } catch (WeightsFormatException e) {
            throw new IllegalArgumentException(source + e.getMessage().substring(PLACEHOLDER.toString().length()), e);
        }
        return new Layout(type, shape, headerStart + headerLen, Integer.parseInt(d.group(3)));
    }

    /** A header's shape tuple; {@code where} prefixes the messages (an archive member's name). */
    static long[] parseShape(Path file, String where, String s) {
        String t = s.trim();
        if (t.isEmpty()) return new long[0];
        String[] parts = t.split(",");
        int n = parts[parts.length - 1].isBlank() ? parts.length - 1 : parts.length;
        long[] shape = new long[n];
        for (int i = 0; i < n; i++) {
            try {
                shape[i] = Long.parseLong(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new WeightsFormatException(file, where + "malformed shape (" + s + ")");
            }
            if (shape[i] < 0) throw new WeightsFormatException(file, where + "negative dimension in shape (" + s + ")");
        }
        return shape;
    }

    public static void write(Path file, INDArray array) throws IOException {
        AtomicFiles.write(file, out -> out.write(toBytes(array)));
    }

    /** A format 1.0 header (magic, length, dict padded with spaces to a multiple of 64 bytes and a newline), as numpy writes. */
    static byte[] header(String descr, long[] shape) {
        StringBuilder sh = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) sh.append(shape[i]).append(shape.length == 1 ? "," : (i < shape.length - 1 ? ", " : ""));
        sh.append(")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + sh + ", }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        bos.writeBytes(MAGIC);
        bos.write(1);
        bos.write(0);
        bos.write(header.length() & 0xff);
        bos.write((header.length() >> 8) & 0xff);
        bos.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        return bos.toByteArray();
    }

    static byte[] toBytes(INDArray array) {
        String descr = switch (array.dataType()) {
            case FLOAT -> "<f4";
            case DOUBLE -> "<f8";
            case LONG -> "<i8";
            case INT -> "<i4";
            case UBYTE -> "|u1";
            default -> throw new IllegalArgumentException("cannot write " + array.dataType() + " as .npy");
        };
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        bos.writeBytes(header(descr, array.shape()));
        bos.writeBytes(TensorShapes.toLittleEndian(array));
        return bos.toByteArray();
    }
}
