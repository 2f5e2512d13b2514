package org.dit4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code ddim_sample_loop}: deterministic for eta = 0, DDPM-like noise for eta = 1. */
public final class DdimSampler extends RespacedSampler {
    private final double eta;

    public DdimSampler(GaussianDiffusion diffusion, boolean clipDenoised, double eta) {
        super(diffusion, clipDenoised);
        if (!(eta >= 0) || Double.isInfinite(eta)) throw new IllegalArgumentException("eta must be a finite number >= 0, got " + eta);
        this.eta = eta;
    }

    @Override
    GaussianDiffusion.Step step(DenoiseFn model, INDArray x, long[] t, NoiseSource rng) {
        return diffusion.ddimSample(model, x, t, clipDenoised, eta, eta == 0 ? null : rng.next(x.shape()));
    }

    @Override
    public long noiseDraws(long[] shape) {
        return eta == 0 ? 0 : steps() * Sampler.elements(shape);
    }
}
