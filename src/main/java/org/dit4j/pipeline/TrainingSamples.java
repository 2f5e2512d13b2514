package org.dit4j.pipeline;

import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.vae.AutoencoderKL;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * How a model in training is sampled, for its {@link SampleGrids} and its {@link SampleFid} alike: one sampler
 * ({@code sample_sampler}), one step count ({@code sample_steps}), the family's own guidance scale, and one
 * {@link DiffusionPipeline} whose model takes each new set of weights (so grids and FID hold one copy of the model).
 */
public final class TrainingSamples {
    private final ModelConfig cfg;
    private final AutoencoderKL vae;
    private final SampleRequest.SamplerKind sampler;
    private final int steps;
    private DiffusionPipeline pipeline;

    /** {@code vae}: decodes a latent model's samples (ignored for a pixel-space model). */
    public TrainingSamples(ModelConfig cfg, AutoencoderKL vae, SampleRequest.SamplerKind sampler, int steps) {
        if (cfg.inChannels() != 3 && vae == null) throw new IllegalArgumentException("a latent model needs an autoencoder to draw samples during training");
        if (steps <= 0) throw new IllegalArgumentException("sample_steps must be positive, got " + steps);
        if (cfg.process() != ModelConfig.Process.ADM && !sampler.isDpmSolver() && !sampler.isEulerMaruyama())
            throw new IllegalArgumentException("sample_sampler " + sampler.spelling() + " runs ADM's discrete process; this " + cfg.family()
                    + " model's samples need dpm-solver, dpm-solver++ or euler-maruyama");
        this.cfg = cfg;
        this.vae = cfg.inChannels() == 3 ? null : vae;
        this.sampler = sampler;
        this.steps = steps;
    }

    public ModelConfig config() {
        return cfg;
    }

    /**
     * The request for {@code labels} (seed 0 until set): the sampler, its steps and the family's guidance scale when it
     * has one ({@code sample.py}'s 4.0 otherwise); unguided for a model trained without label dropout (no null class).
     */
    public SampleRequest request(long[] labels) {
        SampleRequest r = SampleRequest.of(labels).withSampler(sampler, String.valueOf(steps)).withSeed(0);
        if (cfg.nullLabel() < 0) return r.withGuidance(cfg.guidanceRule() == ModelConfig.GuidanceRule.TWO_PASS ? 0 : 1, GuidanceChannels.OFFICIAL);
        if (cfg.officialSampling() != null) r = r.withGuidance(cfg.officialSampling().scale(), GuidanceChannels.OFFICIAL);
        return r;
    }

    /** The pipeline, its model holding {@code weights} (copied in). */
    public DiffusionPipeline pipeline(Map<String, INDArray> weights) {
        if (pipeline == null) {
            Denoiser model = ModelFamilies.of(cfg).create(cfg, weights, "training weights");
            pipeline = new DiffusionPipeline(model, vae);
        } else {
            pipeline.model().loadStateDict(weights, "training weights");
        }
        return pipeline;
    }
}
