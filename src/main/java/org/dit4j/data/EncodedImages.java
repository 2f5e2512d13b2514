package org.dit4j.data;

import org.dit4j.diffusion.NoiseSource;
import org.dit4j.models.vae.AutoencoderKL;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An image folder encoded through the VAE as each batch is drawn, as the official {@code train.py} does:
 * z = a posterior sample × 0.18215, a fresh sample every step. The posterior noise of micro-batch k is a function of
 * (seed, k), so a resumed run draws the same latents. Slower than training on {@code dit4j extract-features} output
 * (the encoder runs on every example of every step), but needs no extraction pass and sees a new z each epoch.
 */
public final class EncodedImages implements TrainingData {
    private final ImageFolderData images;
    private final AutoencoderKL vae;
    private final long seed;

    public EncodedImages(ImageFolderData images, AutoencoderKL vae, long seed) {
        if (images.exampleShape()[1] % vae.config().downFactor() != 0)
            throw new IllegalArgumentException("image size " + images.exampleShape()[1] + " is not a multiple of the VAE's factor " + vae.config().downFactor());
        this.images = images;
        this.vae = vae;
        this.seed = seed;
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public long label(int i) {
        return images.label(i);
    }

    @Override
    public void requireLabels(int numClasses) {
        images.requireLabels(numClasses);
    }

    @Override
    public long[] exampleShape() {
        long side = images.exampleShape()[1] / vae.config().downFactor();
        return new long[]{vae.config().embedDim(), side, side};
    }

    @Override
    public Batch batch(long[] indices, boolean[] flips) {
        return batch(indices, flips, 0);
    }

    @Override
    public Batch batch(long[] indices, boolean[] flips, long draw) {
        Batch pixels = images.batch(indices, flips);
        AutoencoderKL.Posterior p = vae.encode(pixels.x());
        INDArray eps = NoiseSource.seeded(DataOrder.stream(seed, draw, "vae-posterior").nextLong()).next(p.mean().shape());
        return new Batch(vae.scale(p.sample(eps)), pixels.labels());
    }

    @Override
    public String describe() {
        return images.describe() + ", encoded by the VAE on the fly";
    }
}
