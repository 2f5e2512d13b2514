package org.dit4j.diffusion;

/**
 * The arguments of the official {@code create_diffusion}, with its defaults. {@code float32Tables} is MindONE's port
 * ({@code examples/fit/diffusion}): the same process with every table built in float32.
 */
public record DiffusionConfig(String timestepRespacing, String noiseSchedule, boolean useKl, boolean sigmaSmall,
                              boolean predictXstart, boolean learnSigma, boolean rescaleLearnedSigmas, int diffusionSteps,
                              boolean float32Tables) {

    /** {@code create_diffusion(timestep_respacing)} with every other argument at its default. */
    public static DiffusionConfig of(String timestepRespacing) {
        return new DiffusionConfig(timestepRespacing, "linear", false, false, false, true, false, 1000, false);
    }

    public DiffusionConfig withLearnSigma(boolean v) {
        return new DiffusionConfig(timestepRespacing, noiseSchedule, useKl, sigmaSmall, predictXstart, v, rescaleLearnedSigmas, diffusionSteps, float32Tables);
    }

    public DiffusionConfig withRespacing(String v) {
        return new DiffusionConfig(v, noiseSchedule, useKl, sigmaSmall, predictXstart, learnSigma, rescaleLearnedSigmas, diffusionSteps, float32Tables);
    }

    public DiffusionConfig withFloat32Tables(boolean v) {
        return new DiffusionConfig(timestepRespacing, noiseSchedule, useKl, sigmaSmall, predictXstart, learnSigma, rescaleLearnedSigmas, diffusionSteps, v);
    }
}
