package org.dit4j.data;

import org.dit4j.diffusion.NoiseSource;
import org.dit4j.models.vae.AutoencoderKL;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Latents drawn afresh every step from stored VAE posterior moments ({@code dit4j extract-features --moments}, U-ViT's
 * feature files): z = (mean + exp(0.5·clamp(logvar, −30, 20))·ε) × scale factor, U-ViT's
 * {@code FrozenAutoencoderKL.sample}. ε of micro-batch k is a function of (seed, k), so a resumed run draws the same z.
 */
public final class PosteriorSamples implements TrainingData {
    private final TrainingData moments;
    private final double scaleFactor;
    private final long seed;

    /** {@code moments}: examples (2·C, h, w) = [mean | logvar]. */
    public PosteriorSamples(TrainingData moments, double scaleFactor, long seed) {
        long[] s = moments.exampleShape();
        if (s.length != 3 || s[0] % 2 != 0)
            throw new IllegalArgumentException(moments.describe() + ": posterior moments must have an even channel count (mean | logvar), found " + Arrays.toString(s));
        if (!(scaleFactor > 0) || Double.isInfinite(scaleFactor)) throw new IllegalArgumentException("scale_factor must be a positive number, got " + scaleFactor);
        this.moments = moments;
        this.scaleFactor = scaleFactor;
        this.seed = seed;
    }

    /** One posterior sample of each of {@code moments} (N, 2·C, h, w) with noise {@code eps} (N, C, h, w), × {@code scaleFactor}. */
    public static INDArray sample(INDArray moments, INDArray eps, double scaleFactor) {
        return AutoencoderKL.posterior(moments).sample(eps).mul((float) scaleFactor);
    }

    public double scaleFactor() {
        return scaleFactor;
    }

    @Override
    public int size() {
        return moments.size();
    }

    @Override
    public long label(int i) {
        return moments.label(i);
    }

    @Override
    public void requireLabels(int numClasses) {
        moments.requireLabels(numClasses);
    }

    @Override
    public long[] exampleShape() {
        long[] s = moments.exampleShape();
        return new long[]{s[0] / 2, s[1], s[2]};
    }

    @Override
    public Batch batch(long[] indices, boolean[] flips) {
        return batch(indices, flips, 0);
    }

    @Override
    public Batch batch(long[] indices, boolean[] flips, long draw) {
        Batch m = moments.batch(indices, flips);
        long[] shape = m.x().shape().clone();
        shape[1] /= 2;
        INDArray eps = NoiseSource.seeded(DataOrder.stream(seed, draw, "vae-posterior").nextLong()).next(shape);
        return new Batch(sample(m.x(), eps, scaleFactor), m.labels());
    }

    @Override
    public String describe() {
        return moments.describe() + ", posterior moments sampled every step × " + scaleFactor;
    }
}
