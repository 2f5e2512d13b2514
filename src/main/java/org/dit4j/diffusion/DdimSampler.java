package org.dit4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code ddim_sample_loop}: deterministic for eta = 0, DDPM-like noise for eta = 1. */
public final class DdimSampler implements Sampler {
    private final GaussianDiffusion diffusion;
    private final boolean clipDenoised;
    private final double eta;

    public DdimSampler(GaussianDiffusion diffusion, boolean clipDenoised, double eta) {
        if (eta < 0) throw new IllegalArgumentException("eta must be >= 0, got " + eta);
        this.diffusion = diffusion;
        this.clipDenoised = clipDenoised;
        this.eta = eta;
    }

    @Override
    public INDArray sample(DenoiseFn model, INDArray noise, NoiseSource rng, StepListener listener) {
        INDArray img = noise;
        int n = (int) noise.size(0), k = 0;
        for (int i = diffusion.numTimesteps() - 1; i >= 0; i--, k++) {
            long[] t = DdpmSampler.filled(n, i);
            INDArray stepNoise = eta == 0 ? null : rng.next(img.shape());
            GaussianDiffusion.Step s = diffusion.ddimSample(model, img, t, clipDenoised, eta, stepNoise);
            img = s.sample();
            if (listener != null) listener.onStep(k, i, img, s.predXstart());
        }
        return img;
    }

    @Override
    public int steps() {
        return diffusion.numTimesteps();
    }
}
