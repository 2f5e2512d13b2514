package org.dit4j.diffusion;

/**
 * The timestep a network is given for DPM-Solver's continuous time t ({@code model_wrapper}'s
 * {@code get_model_input_time}). Fractional for every choice: DiT's and U-ViT's sinusoids take real timesteps.
 */
@FunctionalInterface
public interface ModelTime {
    double of(double t);

    /** A discrete-time model trained on n = 0..N−1 (DiT, FiT): (t − 1/N)·1000, so t = 1/N is step 0 and t = 1 is 999. */
    static ModelTime discrete(int totalN) {
        return t -> (t - 1.0 / totalN) * 1000;
    }

    /** A continuous-time model: t itself (a U-ViT continuous model scales it by 999 inside its own wrapper). */
    static ModelTime continuous() {
        return t -> t;
    }

    /** t·factor: U-ViT's discrete-time scripts feed {@code nnet(x, t·1000)} (its models were trained on n = 1..1000). */
    static ModelTime scaled(double factor) {
        return t -> t * factor;
    }
}
