package org.dit4j.models;

import java.util.Map;

/**
 * A family's constructor arguments (the official names). The pipeline, loaders and trainers read only what is here; a
 * family's own config record adds the rest.
 */
public interface ModelConfig {
    /** The family's registry name: {@code dit}, later {@code fit}, {@code uvit}, ... */
    String family();

    int inChannels();

    /** Output channels: 2·in for a learned-σ model (ε then the variance interpolation), in otherwise. */
    int outChannels();

    boolean learnSigma();

    /** The input's spatial size (latent or pixel side) the model is built for. */
    int inputSize();

    int patchSize();

    /**
     * Refuses, before any work, a sample of {@code height} × {@code width} inputs the model cannot take; by default only its
     * own square {@link #inputSize()}.
     */
    default void checkSampleSize(int height, int width) {
        if (height != inputSize() || width != inputSize())
            throw new IllegalArgumentException("a " + family() + " model samples at its own size only (" + inputSize() + "x" + inputSize()
                    + " inputs), not " + height + "x" + width);
    }

    int numClasses();

    /** A text-to-image model's context (tokens, width) per sample, e.g. CLIP's (77, 768); null for a label-conditioned or unconditional model. */
    default int[] contextShape() {
        return null;
    }

    /** The label of classifier-free guidance's unconditional branch, or -1 when the model has none. */
    int nullLabel();

    /** The probability with which training drops a label to {@link #nullLabel()}. */
    double labelDropout();

    /** Output channels the official code guides by default (DiT: 3, "for exact reproducibility"). */
    int officialGuidedChannels();

    /** How the family's official sampling applies classifier-free guidance. */
    enum GuidanceRule {
        /** One batched call on {@code cat([z, z])}, {@code uncond + s·(cond − uncond)} (DiT, FiT). */
        BATCHED,
        /** Two calls, {@code cond + s·(cond − uncond)} (U-ViT). */
        TWO_PASS
    }

    default GuidanceRule guidanceRule() {
        return GuidanceRule.BATCHED;
    }

    /** Whether the family's sampling code builds its Gaussian-diffusion tables in float32 (MindONE) rather than float64. */
    default boolean float32DiffusionTables() {
        return false;
    }

    /** The diffusion process the model was trained on, which fixes its time convention and its samplers. */
    enum Process {
        /** ADM's discrete linear betas, t = 0..999 (DiT). */
        ADM,
        /** The continuous VP SDE, β 0.1 → 20, network time t·999 (U-ViT's {@code train.py}, {@code train_ldm.py}). */
        VP_CONTINUOUS,
        /** Stable Diffusion's scaled-linear betas, network time n = 1..1000 (U-ViT's discrete-time scripts). */
        SD_DISCRETE
    }

    default Process process() {
        return Process.ADM;
    }

    /**
     * What the family's official sampling script uses for this model when a user names nothing: the sampler (CLI
     * spelling), steps, guidance scale (in the family's own sense), DPM-Solver order, method and skip type (CLI
     * spellings, or null). Null: the CLI's defaults, which are DiT's {@code sample.py}.
     */
    record SamplingDefaults(String sampler, int steps, double scale, int order, String solverMethod, String skipType) {}

    default SamplingDefaults officialSampling() {
        return null;
    }

    /**
     * What a latent model's samples are divided by before the autoencoder decodes them, when the family fixes it (U-ViT's
     * {@code config.autoencoder.scale_factor}); NaN means the autoencoder's own {@code scaling_factor} (DiT's 0.18215).
     */
    default double latentScaleFactor() {
        return Double.NaN;
    }

    ModelConfig withInputSize(int size);

    ModelConfig withNumClasses(int n);

    /** The official constructor arguments, with {@code family} first. */
    Map<String, Object> toMap();

    default String toYaml() {
        StringBuilder sb = new StringBuilder();
        toMap().forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
        return sb.toString();
    }
}
