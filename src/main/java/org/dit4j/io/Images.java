package org.dit4j.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import org.w3c.dom.Element;
import org.w3c.dom.Node;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.function.IntFunction;

/** Image input (bounded, damage reported) and PNG output with {@code torchvision.utils.save_image(normalize=True, value_range=(-1, 1))} quantisation. */
public final class Images {
    private Images() {}

    /** [-1, 1] → 8-bit: clamp, map to [0, 1], ×255 + 0.5, truncate. */
    static int toByte(float v) {
        float c = Math.max(-1f, Math.min(1f, v));
        float unit = (c + 1f) / 2f;
        return (int) Math.max(0f, Math.min(255f, unit * 255f + 0.5f));
    }

    /** One image (3, H, W) in [-1, 1]. */
    public static BufferedImage toImage(INDArray chw) {
        if (chw.rank() != 3 || chw.size(0) != 3) throw new IllegalArgumentException("expected an image of shape (3, H, W), got " + java.util.Arrays.toString(chw.shape()));
        int h = (int) chw.size(1), w = (int) chw.size(2);
        float[] v = chw.castTo(DataType.FLOAT).dup('c').data().asFloat();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                img.setRGB(x, y, toByte(v[i]) << 16 | toByte(v[h * w + i]) << 8 | toByte(v[2 * h * w + i]));
            }
        return img;
    }

    /** {@code make_grid}: images (N, 3, H, W) in rows of {@code nrow}, 2-pixel black padding. */
    public static BufferedImage grid(INDArray batch, int nrow) {
        if (nrow < 1) throw new IllegalArgumentException("a grid needs at least 1 image per row, got " + nrow);
        if (batch.rank() != 4 || batch.size(0) == 0) throw new IllegalArgumentException("a grid needs images (N >= 1, 3, H, W), got " + java.util.Arrays.toString(batch.shape()));
        int n = (int) batch.size(0), h = (int) batch.size(2), w = (int) batch.size(3), pad = 2;
        int cols = Math.min(nrow, n), rows = (n + cols - 1) / cols;
        BufferedImage grid = new BufferedImage(cols * (w + pad) + pad, rows * (h + pad) + pad, BufferedImage.TYPE_INT_RGB);
        for (int k = 0; k < n; k++) {
            BufferedImage img = toImage(batch.slice(k));
            int ox = pad + (k % cols) * (w + pad), oy = pad + (k / cols) * (h + pad);
            grid.getGraphics().drawImage(img, ox, oy, null);
        }
        return grid;
    }

    /**
     * The most pixels an input image may have: 64 megapixels (8192×8192; decoding one takes about 1 GB of heap). The
     * size is read from the header before any pixel is, so a small file declaring a huge image costs nothing.
     */
    public static final long MAX_PIXELS = 64L << 20;

    /** A decoded image and what the decoder warned about (a truncated JPEG, for one). */
    public record Decoded(BufferedImage image, List<String> warnings) {}

    /** The most bytes read of an image behind a Hadoop URI: an uncompressed 32-bit BMP at {@link #MAX_PIXELS}, and its header. */
    public static final long MAX_FILE_BYTES = 4 * MAX_PIXELS + (1 << 20);

    /** Decodes a regular image file with ImageIO, refusing anything above {@link #MAX_PIXELS} before decoding it. */
    public static Decoded decode(Path file) {
        if (!Files.isRegularFile(file)) throw new WeightsFormatException(file, Files.exists(file) ? "not a regular file" : "no such file");
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            return decode(in, file.toString());
        } catch (IOException e) {
            throw new WeightsFormatException(file, "unreadable image (" + e.getMessage() + ")");
        }
    }

    /**
     * {@link #decode(Path)} of a path or a Hadoop URI: a URI is read through Hadoop's FileSystem, at most
     * {@link #MAX_FILE_BYTES} of it, into memory (no cache file).
     */
    public static Decoded decode(String location) {
        if (!HadoopFiles.isUri(location)) return decode(Path.of(location));
        try (ImageInputStream in = new javax.imageio.stream.MemoryCacheImageInputStream(HadoopFiles.openStream(location, MAX_FILE_BYTES))) {
            return decode(in, location);
        } catch (IOException | IllegalArgumentException e) {
            if (e instanceof WeightsFormatException w) throw w;
            String m = String.valueOf(e.getMessage());
            // HadoopFiles' messages already start with the location
            throw new WeightsFormatException(location, "unreadable image (" + (m.startsWith(location + ": ") ? m.substring(location.length() + 2) : m) + ")");
        }
    }

    private static Decoded decode(ImageInputStream in, String name) {
        try {
            Iterator<ImageReader> readers = in == null ? Collections.emptyIterator() : ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new WeightsFormatException(name, "not an image ImageIO can read (PNG, JPEG, BMP, GIF)");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0), h = reader.getHeight(0);
                if (w * h > MAX_PIXELS)
                    throw new WeightsFormatException(name, w + "x" + h + " pixels is above the " + (MAX_PIXELS >> 20) + "-megapixel limit for input images");
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                return new Decoded(reader.read(0), List.copyOf(warnings));
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof WeightsFormatException w) throw w;
            throw new WeightsFormatException(name, "unreadable image (" + e.getMessage() + ")");
        }
    }

    /**
     * An RGB image file as (3, H, W) in [-1, 1]: torchvision's ToTensor then Normalize(0.5, 0.5), in float32. A damaged
     * file that still decodes (a truncated JPEG) is refused: see {@link #decode} to accept it.
     */
    public static INDArray readRgb(Path file) {
        Decoded d = decode(file);
        if (!d.warnings().isEmpty()) throw new WeightsFormatException(file, "damaged image (" + d.warnings().get(0) + ")");
        return toRgb(d.image());
    }

    /** (3, H, W) in [-1, 1], float32. */
    public static INDArray toRgb(BufferedImage img) {
        int h = img.getHeight(), w = img.getWidth();
        float[] v = new float[3 * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                for (int c = 0; c < 3; c++) {
                    int b = (rgb >> (16 - 8 * c)) & 0xff;
                    v[c * h * w + y * w + x] = ((float) b / 255f - 0.5f) / 0.5f;
                }
            }
        return org.nd4j.linalg.factory.Nd4j.create(v, new long[]{3, h, w}, 'c');
    }

    /**
     * Writes each image of a batch as {@code {index:06d}{suffix}.png} with the text chunks {@code text(i)} and, if
     * {@code grid} is set, their grid with {@code gridText}.
     */
    public static void writeAll(Path dir, INDArray images, IntFunction<String> suffix, IntFunction<Map<String, String>> text,
                                Path grid, int nrow, Map<String, String> gridText) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new IOException(dir + " exists and is not a folder; images need a folder");
        Files.createDirectories(dir);
        for (int i = 0; i < images.size(0); i++)
            writePng(dir.resolve(String.format("%06d%s.png", i, suffix.apply(i))), toImage(images.slice(i)), text.apply(i));
        if (grid != null) writePng(grid, grid(images, nrow), gridText);
    }

    public static void writePng(Path file, BufferedImage image) throws IOException {
        writePng(file, image, Map.of());
    }

    /** A PNG with {@code text} as tEXt chunks (keyword → value, Latin-1 as the format requires), written atomically. */
    public static void writePng(Path file, BufferedImage image, Map<String, String> text) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), param);
        if (!text.isEmpty()) {
            IIOMetadataNode tEXt = new IIOMetadataNode("tEXt");
            text.forEach((k, v) -> {
                IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
                entry.setAttribute("keyword", k);
                entry.setAttribute("value", v);
                tEXt.appendChild(entry);
            });
            IIOMetadataNode root = new IIOMetadataNode(PNG_METADATA);
            root.appendChild(tEXt);
            meta.mergeTree(PNG_METADATA, root);
        }
        try {
            AtomicFiles.write(file, out -> {
                try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
                    writer.setOutput(ios);
                    writer.write(null, new IIOImage(image, null, meta), param);
                }
            });
        } finally {
            writer.dispose();
        }
    }

    /** The tEXt chunks of a PNG file (keyword → value). */
    public static Map<String, String> readPngText(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
            try {
                reader.setInput(in);
                Node root = reader.getImageMetadata(0).getAsTree(PNG_METADATA);
                for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
                    if (!n.getNodeName().equals("tEXt")) continue;
                    for (Node e = n.getFirstChild(); e != null; e = e.getNextSibling())
                        out.put(((Element) e).getAttribute("keyword"), ((Element) e).getAttribute("value"));
                }
            } finally {
                reader.dispose();
            }
        }
        return out;
    }

    private static final String PNG_METADATA = "javax_imageio_png_1.0";

    /**
     * PIL's {@code convert('RGB')}: 8-bit RGB(A) samples as stored (alpha dropped), grey replicated to three channels,
     * (H·W·3 bytes, HWC) without Java2D's colour conversion (which would change grey values); palettes and other layouts through getRGB.
     */
    public static byte[] rgbBytes(BufferedImage img) {
        int h = img.getHeight(), w = img.getWidth();
        byte[] out = new byte[h * w * 3];
        Raster r = img.getRaster();
        ColorModel cm = img.getColorModel();
        boolean bytes = !(cm instanceof IndexColorModel) && r.getTransferType() == DataBuffer.TYPE_BYTE;
        int type = cm.getColorSpace().getType(), bands = r.getNumBands();
        if (bytes && type == ColorSpace.TYPE_GRAY && bands <= 2) {
            int[] px = r.getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < px.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = (byte) px[i];
        } else if (bytes && cm.getColorSpace().isCS_sRGB() && bands >= 3) {
            for (int c = 0; c < 3; c++) {
                int[] px = r.getSamples(0, 0, w, h, c, (int[]) null);
                for (int i = 0; i < px.length; i++) out[3 * i + c] = (byte) px[i];
            }
        } else {
            int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < argb.length; i++) {
                out[3 * i] = (byte) (argb[i] >> 16);
                out[3 * i + 1] = (byte) (argb[i] >> 8);
                out[3 * i + 2] = (byte) argb[i];
            }
        }
        return out;
    }
}
