package org.dit4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/** A reverse-process loop from x_T to x_0. A new sampler (DPM-Solver, ...) is one new implementation. */
public interface Sampler {
    /** Called after each step with its index, the model timestep it evaluated, the new sample and the x0 prediction. */
    @FunctionalInterface
    interface StepListener {
        void onStep(int stepIndex, double modelT, INDArray sample, INDArray predXstart);
    }

    INDArray sample(DenoiseFn model, INDArray noise, NoiseSource rng, StepListener listener);

    int steps();

    /**
     * How many noise values {@link #sample} draws from its {@link NoiseSource} for a batch of {@code shape} (the
     * sampler's batch): where a shard of a multi-batch run starts in the one generator that one machine draws from.
     */
    long noiseDraws(long[] shape);

    /** The number of elements of {@code shape}. */
    static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }
}
