package org.dit4j.evaluation;

import org.dit4j.io.Images;
import org.dit4j.io.Npz;
import org.dit4j.io.WeightsFormatException;

import java.awt.image.BufferedImage;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.stream.Stream;

/**
 * The 8-bit RGB images to evaluate, one at a time: an ADM/DiT sample batch ({@code arr_0}, (N, H, W, 3) uint8, streamed)
 * or an image folder (pytorch-fid's extensions, in sorted file-name order, as {@code Image.open(p).convert('RGB')}).
 */
public interface ImageSource extends Closeable {
    /** HWC uint8 pixels. */
    record Image(byte[] hwc, int height, int width, String name) {}

    int count();

    Image next() throws IOException;

    @Override
    default void close() throws IOException {}

    /** pytorch-fid's {@code IMAGE_EXTENSIONS} that ImageIO reads (not pgm, ppm, webp), matched case-sensitively as its glob. */
    List<String> EXTENSIONS = List.of("bmp", "jpg", "jpeg", "png", "tif", "tiff");

    static ImageSource open(Path path) {
        return Files.isDirectory(path) ? folder(path) : npz(path);
    }

    /** {@code arr_0} of a sample batch, checked to be (N, H, W, 3) uint8 before any pixel is read. */
    static ImageSource npz(Path file) {
        Npz.ArrayStream s = Npz.stream(file, "arr_0");
        if (!s.dtype.equals("u1") || s.shape.length != 4 || s.shape[3] != 3 || s.shape[0] < 1 || s.shape[1] < 1 || s.shape[2] < 1) {
            try {
                s.close();
            } catch (IOException ignored) {
                // read only
            }
            throw new WeightsFormatException(file, "'arr_0' is " + s.dtype + " " + Arrays.toString(s.shape) + ", expected uint8 images (N, H, W, 3)");
        }
        int n = Math.toIntExact(s.shape[0]), h = Math.toIntExact(s.shape[1]), w = Math.toIntExact(s.shape[2]);
        if ((long) h * w > Images.MAX_PIXELS) throw new WeightsFormatException(file, "'arr_0' images of " + h + "x" + w + " are above the pixel limit");
        return new ImageSource() {
            int read;

            @Override
            public int count() {
                return n;
            }

            @Override
            public Image next() throws IOException {
                byte[] b = new byte[h * w * 3];
                try {
                    s.readFully(b, b.length);
                } catch (IOException e) {
                    throw new WeightsFormatException(file, "'arr_0' is truncated after " + read + " of " + n + " images");
                }
                return new Image(b, h, w, String.format(Locale.ROOT, "%06d", read++));
            }

            @Override
            public void close() throws IOException {
                s.close();
            }
        };
    }

    static ImageSource folder(Path dir) {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                return EXTENSIONS.stream().anyMatch(e -> n.endsWith("." + e));
            }).sorted().toList();
        } catch (IOException e) {
            throw new WeightsFormatException(dir, "cannot list: " + e.getMessage(), e);
        }
        if (files.isEmpty()) throw new WeightsFormatException(dir, "holds no images (" + String.join(", ", EXTENSIONS) + ")");
        return new ImageSource() {
            int read;

            @Override
            public int count() {
                return files.size();
            }

            @Override
            public Image next() {
                Path f = files.get(read++);
                Images.Decoded d = Images.decode(f);
                if (!d.warnings().isEmpty()) throw new WeightsFormatException(f, "damaged image (" + d.warnings().get(0) + ")");
                BufferedImage img = d.image();
                return new Image(Images.rgbBytes(img), img.getHeight(), img.getWidth(), f.getFileName().toString());
            }
        };
    }
}
