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
