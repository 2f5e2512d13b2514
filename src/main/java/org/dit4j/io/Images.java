package org.dit4j.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/** PNG output with {@code torchvision.utils.save_image(normalize=True, value_range=(-1, 1))} quantisation. */
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

    /** An RGB image file as (3, H, W) in [-1, 1]: torchvision's ToTensor then Normalize(0.5, 0.5), in float32. */
    public static org.nd4j.linalg.api.ndarray.INDArray readRgb(Path file) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new WeightsFormatException(file, "unreadable image (" + e.getMessage() + ")");
        }
        if (img == null) throw new WeightsFormatException(file, "not an image ImageIO can read (PNG, JPEG, BMP, GIF)");
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

    /** Writes each image of a batch as {@code {index:06d}{suffix}.png} and, if {@code grid} is set, their grid. */
    public static void writeAll(Path dir, org.nd4j.linalg.api.ndarray.INDArray images, java.util.function.IntFunction<String> suffix,
                                Path grid, int nrow) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        for (int i = 0; i < images.size(0); i++)
            writePng(dir.resolve(String.format("%06d%s.png", i, suffix.apply(i))), toImage(images.slice(i)));
        if (grid != null) writePng(grid, grid(images, nrow));
    }

    public static void writePng(Path file, BufferedImage image) throws IOException {
        AtomicFiles.write(file, out -> {
            if (!ImageIO.write(image, "png", out)) throw new IOException("no PNG writer available");
        });
    }
}
