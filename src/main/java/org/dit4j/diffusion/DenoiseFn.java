package org.dit4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The network seen by a sampler: x_t and the model's own timesteps → raw model output. Time is fractional: DiT and FiT
 * see the original (un-respaced) step, an integer for DDPM/DDIM and a real number for DPM-Solver's continuous grid.
 */
@FunctionalInterface
public interface DenoiseFn {
    INDArray apply(INDArray x, double[] timesteps);
}
