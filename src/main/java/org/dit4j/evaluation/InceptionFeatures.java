package org.dit4j.evaluation;

import org.dit4j.models.inception.FidInceptionV3;
import org.dit4j.models.inception.FidInceptionV3.Output;
import org.dit4j.models.inception.InceptionPreprocess;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What ADM's {@code compute_activations} keeps of every image: pool3 (N, 2048) and the spatial sFID feature (N, 2023),
 * plus the class probabilities {@code softmax(pool3 · W)} (N, 1008) its Inception Score uses, all float32, row-major,
 * in source order. Images go through the network {@code batchSize} at a time, so activations never exceed one batch.
 */
public record InceptionFeatures(int count, float[] pool3, float[] spatial, float[] probs, List<String> names) {
    public static final int DEFAULT_BATCH = 16;

    /** Told after each batch how many of how many images are done. */
    @FunctionalInterface
    public interface Progress {
        void done(int done, int total);
    }

    /**
     * Every image of {@code source}; the network is asked for once the first batch has been read (so a bad image is
     * reported before the weights are loaded), {@code progress} is told after each batch.
     */
    public static InceptionFeatures extract(Supplier<FidInceptionV3> net, InceptionPreprocess pre, ImageSource source, int batchSize,
                                            Progress progress) throws IOException {
        if (batchSize < 1) throw new IllegalArgumentException("the batch size must be at least 1, got " + batchSize);
        int n = source.count(), px = 3 * InceptionPreprocess.SIZE * InceptionPreprocess.SIZE;
        float[] pool3 = new float[Math.multiplyExact(n, FidInceptionV3.POOL3_DIM)];
        float[] spatial = new float[Math.multiplyExact(n, FidInceptionV3.SPATIAL_DIM)];
        float[] probs = new float[Math.multiplyExact(n, FidInceptionV3.CLASSES)];
        List<String> names = new ArrayList<>(n);
        for (int from = 0; from < n; from += batchSize) {
            int b = Math.min(batchSize, n - from);
            float[] input = new float[b * px];
            for (int i = 0; i < b; i++) {
                ImageSource.Image im = source.next();
                pre.apply(im.hwc(), 0, im.height(), im.width(), input, i * px);
                names.add(im.name());
            }
            Map<Output, INDArray> y = net.get().forward(Nd4j.create(input, new long[]{b, 3, InceptionPreprocess.SIZE, InceptionPreprocess.SIZE}, 'c'),
                    Output.POOL3, Output.SPATIAL, Output.LOGITS_NOBIAS);
            copy(y.get(Output.POOL3), pool3, from * FidInceptionV3.POOL3_DIM);
            copy(y.get(Output.SPATIAL), spatial, from * FidInceptionV3.SPATIAL_DIM);
            copy(Nd4j.nn().softmax(y.get(Output.LOGITS_NOBIAS), 1), probs, from * FidInceptionV3.CLASSES);
            if (progress != null) progress.done(from + b, n);
        }
        return new InceptionFeatures(n, pool3, spatial, probs, List.copyOf(names));
    }

    private static void copy(INDArray a, float[] to, int at) {
        float[] v = a.dup('c').data().asFloat();
        System.arraycopy(v, 0, to, at, v.length);
    }

    public FidStatistics poolStatistics() {
        return FidStatistics.of(pool3, count, FidInceptionV3.POOL3_DIM);
    }

    public FidStatistics spatialStatistics() {
        return FidStatistics.of(spatial, count, FidInceptionV3.SPATIAL_DIM);
    }
}
