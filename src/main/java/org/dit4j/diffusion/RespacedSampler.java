package org.dit4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/** The reverse loop of the official samplers over every step of a (respaced) Gaussian diffusion, from T−1 down to 0. */
abstract class RespacedSampler implements Sampler {
    final GaussianDiffusion diffusion;
    final boolean clipDenoised;

    RespacedSampler(GaussianDiffusion diffusion, boolean clipDenoised) {
        this.diffusion = diffusion;
        this.clipDenoised = clipDenoised;
    }

    /** One update at respaced timesteps {@code t} (every row the same). */
    abstract GaussianDiffusion.Step step(DenoiseFn model, INDArray x, long[] t, NoiseSource rng);

    @Override
    public final INDArray sample(DenoiseFn model, INDArray noise, NoiseSource rng, StepListener listener) {
        INDArray img = noise;
        int[] modelT = diffusion.timestepMap();
        long[] t = new long[(int) noise.size(0)];
        for (int i = diffusion.numTimesteps() - 1, k = 0; i >= 0; i--, k++) {
            Arrays.fill(t, i);
            GaussianDiffusion.Step s = step(model, img, t, rng);
            img = s.sample();
            if (listener != null) listener.onStep(k, modelT[i], img, s.predXstart());
        }
        return img;
    }

    @Override
    public final int steps() {
        return diffusion.numTimesteps();
    }
}
