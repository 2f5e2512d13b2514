package org.dit4j.pipeline;

import org.dit4j.models.GuidanceChannels;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What to sample: class labels, sampler and schedule, guidance, and either a seed or explicit initial latents
 * {@code noise} (N, C, H, W) for cross-framework reproducibility.
 */
public record SampleRequest(long[] labels, SamplerKind sampler, String respacing, double eta, double cfgScale,
                            GuidanceChannels cfgChannels, boolean clipDenoised, long seed, int batchSize, INDArray noise) {

    public enum SamplerKind {
        DDPM, DDIM;

        public static SamplerKind parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "ddpm" -> DDPM;
                case "ddim" -> DDIM;
                default -> throw new IllegalArgumentException("--sampler must be ddpm or ddim, got '" + s + "'");
            };
        }
    }

    /** {@code sample.py}'s defaults: DDPM over 250 respaced steps, guidance 4.0 on three channels, no clipping. */
    public static SampleRequest of(long... labels) {
        return new SampleRequest(labels, SamplerKind.DDPM, "250", 0.0, 4.0, GuidanceChannels.FIRST_THREE, false, 0, 0, null);
    }

    public SampleRequest withSampler(SamplerKind kind, String respacingSpec) {
        return new SampleRequest(labels, kind, respacingSpec, eta, cfgScale, cfgChannels, clipDenoised, seed, batchSize, noise);
    }

    public SampleRequest withGuidance(double scale, GuidanceChannels channels) {
        return new SampleRequest(labels, sampler, respacing, eta, scale, channels, clipDenoised, seed, batchSize, noise);
    }

    public SampleRequest withNoise(INDArray z) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, clipDenoised, seed, batchSize, z);
    }

    public SampleRequest withSeed(long s) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, clipDenoised, s, batchSize, noise);
    }

    public SampleRequest withEta(double e) {
        return new SampleRequest(labels, sampler, respacing, e, cfgScale, cfgChannels, clipDenoised, seed, batchSize, noise);
    }

    public SampleRequest withClipDenoised(boolean c) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, c, seed, batchSize, noise);
    }

    public SampleRequest withBatchSize(int b) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, clipDenoised, seed, b, noise);
    }
}
