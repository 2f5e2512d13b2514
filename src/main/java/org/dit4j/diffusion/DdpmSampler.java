package org.dit4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code p_sample_loop}: ancestral sampling over every step of the (respaced) process. */
public final class DdpmSampler extends RespacedSampler {
    public DdpmSampler(GaussianDiffusion diffusion, boolean clipDenoised) {
        super(diffusion, clipDenoised);
    }

    @Override
    GaussianDiffusion.Step step(DenoiseFn model, INDArray x, long[] t, NoiseSource rng) {
        return diffusion.pSample(model, x, t, clipDenoised, rng.next(x.shape()));
    }

    /** {@code p_sample} draws noise at every step, the last (masked) one included. */
    @Override
    public long noiseDraws(long[] shape) {
        return steps() * Sampler.elements(shape);
    }
}
