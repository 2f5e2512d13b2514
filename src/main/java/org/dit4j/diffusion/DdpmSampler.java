package org.dit4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code p_sample_loop}: ancestral sampling over every step of the (respaced) process. */
public final class DdpmSampler implements Sampler {
    private final GaussianDiffusion diffusion;
    private final boolean clipDenoised;

    public DdpmSampler(GaussianDiffusion diffusion, boolean clipDenoised) {
        this.diffusion = diffusion;
        this.clipDenoised = clipDenoised;
    }

    @Override
    public INDArray sample(DenoiseFn model, INDArray noise, NoiseSource rng, StepListener listener) {
        INDArray img = noise;
        int n = (int) noise.size(0), k = 0;
        for (int i = diffusion.numTimesteps() - 1; i >= 0; i--, k++) {
            long[] t = filled(n, i);
            GaussianDiffusion.Step s = diffusion.pSample(model, img, t, clipDenoised, rng.next(img.shape()));
            img = s.sample();
            if (listener != null) listener.onStep(k, i, img, s.predXstart());
        }
        return img;
    }

    @Override
    public int steps() {
        return diffusion.numTimesteps();
    }

    static long[] filled(int n, long v) {
        long[] t = new long[n];
        java.util.Arrays.fill(t, v);
        return t;
    }
}
