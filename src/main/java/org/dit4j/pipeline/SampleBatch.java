package org.dit4j.pipeline;

import org.dit4j.io.Images;
import org.dit4j.io.Npz;
import org.dit4j.io.WeightsFormatException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * A sample batch for FID, as DiT's {@code sample_ddp.py} makes one: N samples with uniformly random labels, each saved
 * as {@code {index:06d}.png} after {@code clamp(127.5·x + 128, 0, 255)} truncated to uint8, then every PNG read back into
 * one {@code .npz} with {@code arr_0} (N, H, W, 3) uint8 ({@code create_npz_from_sample_folder}). Labels come from the
 * seed alone and batch b is sampled with seed·1000003 + b, so a run that stopped part-way redraws exactly the batches
 * whose PNGs are missing and keeps the rest.
 */
public final class SampleBatch {
    private SampleBatch() {}

    /** Told after each batch: images done (sampled now or found), of how many, and how many were sampled in this run. */
    @FunctionalInterface
    public interface Progress {
        void update(int done, int total, int sampledNow);
    }

    /** N labels uniform in [0, classes), from {@code seed} alone. */
    public static long[] labels(long seed, int n, int classes) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] y = new long[n];
        for (int i = 0; i < n; i++) y[i] = r.nextInt(classes);
        return y;
    }

    /** DiT's {@code torch.clamp(127.5 * x + 128.0, 0, 255).to(torch.uint8)} (float32, truncation): (3, H, W) → HWC bytes. */
    public static byte[] toUint8(INDArray chw) {
        int h = (int) chw.size(1), w = (int) chw.size(2);
        float[] v = chw.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
        byte[] out = new byte[h * w * 3];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < h * w; i++) {
                float s = 127.5f * v[c * h * w + i];
                s = s + 128.0f;
                out[3 * i + c] = (byte) (int) Math.min(255f, Math.max(0f, s));
            }
        return out;
    }

    /** The request of the batch starting at sample {@code from}: its labels of {@code y}, seeded {@code seed·1000003 + from / batchSize}. */
    public static SampleRequest batch(Function<long[], SampleRequest> request, long[] y, long seed, int from, int batchSize) {
        int b = Math.min(batchSize, y.length - from);
        return request.apply(java.util.Arrays.copyOfRange(y, from, from + b)).withSeed(seed * 1_000_003L + from / batchSize).withBatchSize(b);
    }

    public static Path png(Path dir, int index) {
        return dir.resolve(String.format(Locale.ROOT, "%06d.png", index));
    }

    /**
     * Samples what {@code dir} lacks, then writes {@code npz}. {@code request} turns a batch's labels into the
     * request (sampler, steps, guidance); the seed is set here per batch. Returns the number sampled in this run.
     */
    public static int run(DiffusionPipeline pipeline, Function<long[], SampleRequest> request, Path dir, Path npz, int n, int classes,
                          long seed, int batchSize, Progress progress) throws IOException {
        if (n < 1 || classes < 1 || batchSize < 1)
            throw new IllegalArgumentException("a sample batch needs at least one sample, class and batch row (got " + n + ", " + classes + ", " + batchSize + ")");
        Files.createDirectories(dir);
        long[] y = labels(seed, n, classes);
        int sampled = 0;
        for (int from = 0; from < n; from += batchSize) {
            int b = Math.min(batchSize, n - from);
            boolean done = true;
            for (int i = from; i < from + b; i++) done &= Files.isRegularFile(png(dir, i));
            if (!done) {
                SampleRequest r = batch(request, y, seed, from, batchSize);
                long[] labels = r.labels();
                INDArray images = pipeline.images(r, null, 0);
                for (int i = 0; i < b; i++) {
                    INDArray img = images.slice(i);
                    Images.writePng(png(dir, from + i), image(toUint8(img), (int) img.size(1), (int) img.size(2)),
                            java.util.Map.of("class", String.valueOf(labels[i])));
                }
                sampled += b;
            }
            if (progress != null) progress.update(from + b, n, sampled);
        }
        BufferedImage first = Images.decode(png(dir, 0)).image();
        int h = first.getHeight(), w = first.getWidth();
        Npz.writeImages(npz, n, h, w, i -> {
            BufferedImage img = Images.decode(png(dir, i)).image();
            if (img.getHeight() != h || img.getWidth() != w)
                throw new WeightsFormatException(png(dir, i), img.getWidth() + "x" + img.getHeight() + " pixels, the batch's images are " + w + "x" + h);
            return Images.rgbBytes(img);
        });
        return sampled;
    }

    private static BufferedImage image(byte[] hwc, int h, int w) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < h * w; i++)
            img.setRGB(i % w, i / w, (hwc[3 * i] & 0xff) << 16 | (hwc[3 * i + 1] & 0xff) << 8 | (hwc[3 * i + 2] & 0xff));
        return img;
    }
}
