package org.dit4j.pipeline;

import org.dit4j.io.Images;
import org.dit4j.io.Npz;
import org.dit4j.io.WeightsFormatException;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import org.dit4j.pipeline.shards.LocalReplicas;
import org.dit4j.pipeline.shards.ShardExecutor;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * A sample batch for FID, as DiT's {@code sample_ddp.py} makes one: N samples with uniformly random labels, each saved
 * as {@code {index:06d}.png} after {@code clamp(127.5·x + 128, 0, 255)} truncated to uint8, then every PNG read back into
 * one {@code .npz} with {@code arr_0} (N, H, W, 3) uint8 ({@code create_npz_from_sample_folder}). Labels come from the
 * seed alone and batch b is sampled with seed·1000003 + b, so a run that stopped part-way redraws exactly the batches
 * whose PNGs are missing and keeps the rest, and the batches are shards any {@link ShardExecutor} computes to the same
 * pixels (model replicas on threads, Spark executors); the driver writes their PNGs in batch order.
 */
public final class SampleBatch {
    private SampleBatch() {}

    /** Told after each batch: images done (sampled now or found), of how many, and how many were sampled in this run. */
    @FunctionalInterface
    public interface Progress {
        void update(int done, int total, int sampledNow);
    }

    /** A batch's labels → its request (sampler, steps, guidance); serializable, to travel to Spark executors. */
    @FunctionalInterface
    public interface Request extends Function<long[], SampleRequest>, Serializable {}

    /** A batch's images as uint8 HWC bytes, as they come back from whoever sampled it. */
    public static final class Pixels implements Serializable {
        private static final long serialVersionUID = 1L;
        final int height, width;
        final byte[][] images;

        Pixels(int height, int width, byte[][] images) {
            this.height = height;
            this.width = width;
            this.images = images;
        }
    }

    /** N labels uniform in [0, classes), from {@code seed} alone; for an unconditional model ({@code classes} 0) N times {@link SampleRequest#NO_CLASS}. */
    public static long[] labels(long seed, int n, int classes) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] y = new long[n];
        for (int i = 0; i < n; i++) y[i] = classes == 0 ? SampleRequest.NO_CLASS : r.nextInt(classes);
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
        return request.apply(Arrays.copyOfRange(y, from, from + b)).withSeed(seed * 1_000_003L + from / batchSize).withBatchSize(b);
    }

    public static Path png(Path dir, int index) {
        return dir.resolve(String.format(Locale.ROOT, "%06d.png", index));
    }

    /** {@link #run(ShardExecutor, Request, Path, Path, int, int, long, int, Progress)} on one device. */
    public static int run(DiffusionPipeline pipeline, Request request, Path dir, Path npz, int n, int classes,
                          long seed, int batchSize, Progress progress) throws IOException {
        try (LocalReplicas one = new LocalReplicas(pipeline, 1)) {
            return run(one, request, dir, npz, n, classes, seed, batchSize, progress);
        }
    }

    /**
     * Samples what {@code dir} lacks on {@code executor}, then writes {@code npz}. {@code request} turns a batch's labels
     * into the request (sampler, steps, guidance); the seed is set here per batch. Returns the number sampled in this run.
     */
    public static int run(ShardExecutor executor, Request request, Path dir, Path npz, int n, int classes,
                          long seed, int batchSize, Progress progress) throws IOException {
        if (n < 1 || classes < 0 || batchSize < 1)
            throw new IllegalArgumentException("a sample batch needs at least one sample and batch row, and classes >= 0 (got " + n + ", " + classes + ", " + batchSize + ")");
        Files.createDirectories(dir);
        long[] y = labels(seed, n, classes);
        List<Integer> missing = new ArrayList<>();
        int found = 0;
        for (int k = 0, from = 0; from < n; k++, from += batchSize) {
            boolean done = true;
            for (int i = from; i < Math.min(n, from + batchSize); i++) done &= Files.isRegularFile(png(dir, i));
            if (done) found += Math.min(batchSize, n - from);
            else missing.add(k);
        }
        int[] sampled = {0};
        int before = found;
        executor.run(missing, (pipeline, k) -> sample(pipeline, request, y, k, batchSize, seed), (k, pixels) -> {
            int from = k * batchSize;
            for (int i = 0; i < pixels.images.length; i++)
                Images.writePng(png(dir, from + i), image(pixels.images[i], pixels.height, pixels.width), y[from + i] == SampleRequest.NO_CLASS ? Map.of() : Map.of("class", String.valueOf(y[from + i])));
            sampled[0] += pixels.images.length;
            if (progress != null) progress.update(before + sampled[0], n, sampled[0]);
        });
        BufferedImage first = Images.decode(png(dir, 0)).image();
        int h = first.getHeight(), w = first.getWidth();
        Npz.writeImages(npz, n, h, w, i -> {
            BufferedImage img = Images.decode(png(dir, i)).image();
            if (img.getHeight() != h || img.getWidth() != w)
                throw new WeightsFormatException(png(dir, i), img.getWidth() + "x" + img.getHeight() + " pixels, the batch's images are " + w + "x" + h);
            return Images.rgbBytes(img);
        });
        return sampled[0];
    }

    /** Batch {@code k} of the labels {@code y}, seeded by the batch alone. */
    private static Pixels sample(DiffusionPipeline pipeline, Request request, long[] y, int k, int batchSize, long seed) {
        int b = Math.min(batchSize, y.length - k * batchSize);
        INDArray images = pipeline.images(batch(request, y, seed, k * batchSize, batchSize), null, 0);
        byte[][] hwc = new byte[b][];
        for (int i = 0; i < b; i++) hwc[i] = toUint8(images.slice(i));
        return new Pixels((int) images.size(2), (int) images.size(3), hwc);
    }

    private static BufferedImage image(byte[] hwc, int h, int w) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < h * w; i++)
            img.setRGB(i % w, i / w, (hwc[3 * i] & 0xff) << 16 | (hwc[3 * i + 1] & 0xff) << 8 | (hwc[3 * i + 2] & 0xff));
        return img;
    }
}
