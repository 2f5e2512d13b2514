package org.dit4j.io;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.*;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.*;

/**
 * NumPy {@code .npz} archives ({@code np.savez} STORED, {@code np.savez_compressed} DEFLATED): small members are read
 * whole through {@link Npy}; a large image batch ({@code arr_0}, N×H×W×3 uint8) is streamed in batches, as ADM's
 * {@code open_npz_array} does, so it never has to fit in memory. Members are named {@code KEY.npy}.
 */
public final class Npz {
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<>|=])([a-z])(\\d+)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");
    private static final int MAX_HEADER = 1 << 16;

    private Npz() {}

    /** The member keys (file names without {@code .npy}), in archive order. */
    public static List<String> keys(Path file) {
        try (ZipFile zip = open(file)) {
            List<String> keys = new ArrayList<>();
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                String n = e.nextElement().getName();
                keys.add(n.endsWith(".npy") ? n.substring(0, n.length() - 4) : n);
            }
            return keys;
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** One member, whole (at most 2 GiB). */
    public static INDArray read(Path file, String key) {
        try (ZipFile zip = open(file)) {
            ZipEntry entry = entry(file, zip, key);
            if (entry.getSize() > Integer.MAX_VALUE - 8) throw new WeightsFormatException(file, "member '" + key + "' is over 2 GiB; it can only be streamed");
            byte[] bytes;
            try (InputStream in = zip.getInputStream(entry)) {
                // a member inflating past its declared size (or past 2 GiB when it declares none) is refused
                long limit = entry.getSize() >= 0 ? entry.getSize() : Integer.MAX_VALUE - 8L;
                bytes = new LimitedInputStream(in, limit, n -> new WeightsFormatException(file, "member '" + key + "' inflates past " + limit + " bytes")).readAllBytes();
            }
            try {
                return Npy.parse(file, bytes);
            } catch (WeightsFormatException e) {
                throw new WeightsFormatException(file, "member '" + key + "': " + e.getMessage().substring(e.getMessage().indexOf(": ") + 2));
            }
        } catch (ZipException e) {
            throw new WeightsFormatException(file, "corrupt or truncated .npz archive (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** A member's array streamed from its data start: dtype ({@code u1}, {@code f4}, …), shape, bytes in C order. */
    public static final class ArrayStream implements Closeable {
        private final ZipFile zip;
        private final DataInputStream in;
        public final String dtype;
        public final long[] shape;

        private ArrayStream(ZipFile zip, DataInputStream in, String dtype, long[] shape) {
            this.zip = zip;
            this.in = in;
            this.dtype = dtype;
            this.shape = shape;
        }

        /** Fills {@code buf} completely or throws (a truncated member). */
        public void readFully(byte[] buf, int len) throws IOException {
            in.readFully(buf, 0, len);
        }

        @Override
        public void close() throws IOException {
            zip.close();
        }
    }

    public static ArrayStream stream(Path file, String key) {
        ZipFile zip = null;
        try {
            zip = open(file);
            ZipEntry entry = entry(file, zip, key);
            DataInputStream in = new DataInputStream(new BufferedInputStream(zip.getInputStream(entry), 1 << 20));
            byte[] magic = new byte[8];
            in.readFully(magic);
            if (magic[0] != (byte) 0x93 || magic[1] != 'N' || magic[2] != 'U' || magic[3] != 'M' || magic[4] != 'P' || magic[5] != 'Y')
                throw new WeightsFormatException(file, "member '" + key + "' is not a .npy array");
            int headerLen;
            if (magic[6] == 1) headerLen = Short.toUnsignedInt(ByteBuffer.wrap(new byte[]{(byte) in.read(), (byte) in.read()}).order(ByteOrder.LITTLE_ENDIAN).getShort());
            else if (magic[6] == 2 || magic[6] == 3) {
                byte[] b = new byte[4];
                in.readFully(b);
                headerLen = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
            } else throw new WeightsFormatException(file, "member '" + key + "': unsupported .npy format version " + magic[6]);
            if (headerLen < 0 || headerLen > MAX_HEADER) throw new WeightsFormatException(file, "member '" + key + "': .npy header of " + headerLen + " bytes");
            byte[] h = new byte[headerLen];
            in.readFully(h);
            String header = new String(h, StandardCharsets.ISO_8859_1);
            Matcher d = DESCR.matcher(header), o = ORDER.matcher(header), s = SHAPE.matcher(header);
            if (!d.find() || !o.find() || !s.find()) throw new WeightsFormatException(file, "member '" + key + "': malformed .npy header");
            if (o.group(1).equals("True")) throw new WeightsFormatException(file, "member '" + key + "' is in Fortran order; save it with np.ascontiguousarray");
            if (d.group(1).equals(">")) throw new WeightsFormatException(file, "member '" + key + "' is big-endian");
            long[] shape = Npy.parseShape(file, "member '" + key + "': ", s.group(1));
            ArrayStream out = new ArrayStream(zip, in, d.group(2) + d.group(3), shape);
            zip = null;
            return out;
        } catch (ZipException | EOFException e) {
            throw new WeightsFormatException(file, "corrupt or truncated .npz archive (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read: " + e.getMessage(), e);
        } finally {
            if (zip != null) try {
                zip.close();
            } catch (IOException ignored) {
                // the archive was only read
            }
        }
    }

    private static ZipFile open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new WeightsFormatException(file, Files.exists(file) ? "not a regular file" : "no such file");
        try {
            return new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new WeightsFormatException(file, "not a .npz archive (" + e.getMessage() + ")");
        }
    }

    private static ZipEntry entry(Path file, ZipFile zip, String key) {
        ZipEntry e = zip.getEntry(key + ".npy");
        if (e == null) {
            List<String> keys = new ArrayList<>();
            for (Enumeration<? extends ZipEntry> it = zip.entries(); it.hasMoreElements(); ) keys.add(it.nextElement().getName().replaceFirst("\\.npy$", ""));
            throw new WeightsFormatException(file, "has no '" + key + "' array (keys: " + String.join(", ", keys) + ")");
        }
        return e;
    }

    /** Gives the next image's HWC bytes. */
    @FunctionalInterface
    public interface ImageBytes {
        byte[] next(int index) throws IOException;
    }

    /**
     * {@code np.savez(file, arr_0=images)} for (n, h, w, 3) uint8 images produced one at a time, never all in memory:
     * one STORED {@code arr_0.npy} member (ZIP64 past 4 GiB), like numpy's. STORED needs the CRC before the data, so
     * the images are produced twice. The entry is dated 1980-01-01 so the bytes depend on the pixels only.
     */
    public static void writeImages(Path file, int n, int h, int w, ImageBytes images) throws IOException {
        long[] shape = {n, h, w, 3};
        byte[] header = Npy.header("|u1", shape);
        long size = header.length + (long) n * h * w * 3;
        CRC32 crc = new CRC32();
        crc.update(header);
        for (int i = 0; i < n; i++) crc.update(checked(images.next(i), h * w * 3, i));
        AtomicFiles.write(file, out -> {
            ZipOutputStream z = new ZipOutputStream(new BufferedOutputStream(out, 1 << 20));
            ZipEntry e = new ZipEntry("arr_0.npy");
            e.setMethod(ZipEntry.STORED);
            e.setSize(size);
            e.setCompressedSize(size);
            e.setCrc(crc.getValue());
            e.setTimeLocal(java.time.LocalDateTime.of(1980, 1, 1, 0, 0));
            z.putNextEntry(e);
            z.write(header);
            for (int i = 0; i < n; i++) z.write(checked(images.next(i), h * w * 3, i));
            z.closeEntry();
            z.finish();
            z.flush();
        });
    }

    private static byte[] checked(byte[] b, int len, int i) throws IOException {
        if (b.length != len) throw new IOException("image " + i + " has " + b.length + " bytes, expected " + len);
        return b;
    }

    /** {@code np.savez}: one STORED {@code KEY.npy} member per array, written to a temporary name and renamed. */
    public static void write(Path file, Map<String, INDArray> arrays) throws IOException {
        AtomicFiles.write(file, out -> {
            ZipOutputStream z = new ZipOutputStream(out);
            for (Map.Entry<String, INDArray> a : arrays.entrySet()) {
                byte[] data = Npy.toBytes(a.getValue());
                ZipEntry e = new ZipEntry(a.getKey() + ".npy");
                e.setMethod(ZipEntry.STORED);
                e.setSize(data.length);
                CRC32 crc = new CRC32();
                crc.update(data);
                e.setCrc(crc.getValue());
                z.putNextEntry(e);
                z.write(data);
                z.closeEntry();
            }
            z.finish();
        });
    }
}
