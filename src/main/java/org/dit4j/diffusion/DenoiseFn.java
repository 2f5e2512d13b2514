package org.dit4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/** The network seen by the diffusion process: x_t and the original (un-respaced) timesteps → model output. */
@FunctionalInterface
public interface DenoiseFn {
    INDArray apply(INDArray x, long[] timesteps);
}
