package org.dit4j.pipeline;

import org.dit4j.diffusion.DpmSolver;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;


/**
 * What to sample: class labels, sampler and schedule (a respacing for DDPM/DDIM, a step count for DPM-Solver),
 * guidance, and either a seed or explicit initial latents {@code noise} (N, C, H, W) for cross-framework reproducibility;
 * {@code height} × {@code width} is the sample's size in model inputs (latent pixels), 0 for the model's own square size.
 * A text-to-image model samples one image per row of {@code context} (N, tokens, width) instead of per label, guided
 * towards it away from {@code nullContext} (tokens, width), the empty prompt's context; an unconditional model's
 * labels are all {@link #NO_CLASS} and only count the samples. {@code cacheInterval} > 1 reuses the blocks' attention and
 * MLP outputs between refreshes every {@code cacheInterval} model evaluations (FORA; DiT only), 1 computes every step.
 * Serializable (arrays as ND4J serializes them), so a
 * shard of the request travels to Spark executors.
 */
public record SampleRequest(long[] labels, SamplerKind sampler, String respacing, double eta, double cfgScale,
                            GuidanceChannels cfgChannels, boolean clipDenoised, long seed, int batchSize, INDArray noise,
                            Solver solver, int height, int width, INDArray context, INDArray nullContext,
                            int cacheInterval) implements java.io.Serializable {

    public enum SamplerKind {
        DDPM("ddpm"), DDIM("ddim"), DPM_SOLVER("dpm-solver"), DPM_SOLVER_PP("dpm-solver++"),
        /** U-ViT's {@code sde.euler_maruyama} on the reverse VP SDE, and on its probability-flow ODE. */
        EULER_MARUYAMA("euler-maruyama"), EULER_MARUYAMA_ODE("euler-maruyama-ode");

        private final String spelling;

        SamplerKind(String spelling) {
            this.spelling = spelling;
        }

        /** The name users write: ddpm, ddim, dpm-solver, dpm-solver++, euler-maruyama, euler-maruyama-ode. */
        public String spelling() {
            return spelling;
        }

        public static SamplerKind parse(String s) {
            for (SamplerKind k : values()) if (k.spelling.equals(s)) return k;
            throw new IllegalArgumentException("unknown sampler '" + s + "' (expected ddpm, ddim, dpm-solver, dpm-solver++, euler-maruyama or euler-maruyama-ode)");
        }

        public boolean isDpmSolver() {
            return this == DPM_SOLVER || this == DPM_SOLVER_PP;
        }

        public boolean isEulerMaruyama() {
            return this == EULER_MARUYAMA || this == EULER_MARUYAMA_ODE;
        }

        /** {@code sample.py} samples with 250 steps, the DPM-Solver release with 20, U-ViT's Euler–Maruyama with 1000. */
        public int defaultSteps() {
            return isDpmSolver() ? 20 : isEulerMaruyama() ? 1000 : 250;
        }
    }

    /** DPM-Solver's settings, with the defaults of the official {@code DPM_Solver.sample}. */
    public record Solver(int order, DpmSolver.Method method, DpmSolver.SkipType skipType) implements java.io.Serializable {
        public static final Solver DEFAULT = new Solver(2, DpmSolver.Method.MULTISTEP, DpmSolver.SkipType.TIME_UNIFORM);
    }

    /** The label of every sample of an unconditional model. */
    public static final long NO_CLASS = -1;

    /** Labels per batch when none is given: bounded, so a long label list never becomes one giant batch. */
    public static final int DEFAULT_BATCH = 8;

    public SampleRequest {
        if (!Double.isFinite(eta) || eta < 0) throw new IllegalArgumentException("DDIM eta must be a finite number >= 0, got " + eta);
        if (!Double.isFinite(cfgScale)) throw new IllegalArgumentException("the guidance scale must be a finite number, got " + cfgScale);
        if (batchSize < 0) throw new IllegalArgumentException("the batch size must be positive, got " + batchSize);
        if (height < 0 || width < 0 || (height == 0) != (width == 0))
            throw new IllegalArgumentException("give both a sample height and width (or neither), got " + height + " x " + width);
        if (cacheInterval < 1) throw new IllegalArgumentException("the cache interval must be at least 1 (1 = no caching), got " + cacheInterval);
    }

    /** {@code sample.py}'s defaults: DDPM over 250 respaced steps, guidance 4.0 on the official channels, no clipping. */
    public static SampleRequest of(long... labels) {
        return new SampleRequest(labels, SamplerKind.DDPM, "250", 0.0, 4.0, GuidanceChannels.OFFICIAL, false, 0, 0, null, Solver.DEFAULT, 0, 0, null, null, 1);
    }

    /** {@code n} samples of an unconditional model, otherwise as {@link #of}. */
    public static SampleRequest unconditional(int n) {
        long[] none = new long[n];
        Arrays.fill(none, NO_CLASS);
        return of(none);
    }

    /**
     * One sample per row of the text contexts {@code context} (N, tokens, width), guided away from {@code nullContext}
     * (tokens, width) (null: no guidance possible), otherwise as {@link #of}.
     */
    public static SampleRequest ofContexts(INDArray context, INDArray nullContext) {
        if (context == null || context.rank() != 3) throw new IllegalArgumentException("text contexts must be (N, tokens, width)");
        return unconditional((int) context.size(0)).withContext(context, nullContext);
    }

    /** Whether samples are conditioned on text contexts rather than labels. */
    public boolean isTextConditioned() {
        return context != null;
    }

    /** Labels per sampling batch: the given size, or {@link #DEFAULT_BATCH}. */
    public int effectiveBatchSize() {
        return batchSize > 0 ? batchSize : DEFAULT_BATCH;
    }

    /** The number of sampling batches: the labels cut into runs of {@link #effectiveBatchSize}, the last one shorter. */
    public int batches() {
        return (labels.length + effectiveBatchSize() - 1) / effectiveBatchSize();
    }

    public SampleRequest withSampler(SamplerKind kind, String respacingSpec) {
        return new SampleRequest(labels, kind, respacingSpec, eta, cfgScale, cfgChannels, clipDenoised, seed, batchSize, noise, solver, height, width, context, nullContext, cacheInterval);
    }

    public SampleRequest withGuidance(double scale, GuidanceChannels channels) {
        return new SampleRequest(labels, sampler, respacing, eta, scale, channels, clipDenoised, seed, batchSize, noise, solver, height, width, context, nullContext, cacheInterval);
    }

    public SampleRequest withNoise(INDArray z) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, clipDenoised, seed, batchSize, z, solver, height, width, context, nullContext, cacheInterval);
    }

    public SampleRequest withSeed(long s) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, clipDenoised, s, batchSize, noise, solver, height, width, context, nullContext, cacheInterval);
    }

    public SampleRequest withEta(double e) {
        return new SampleRequest(labels, sampler, respacing, e, cfgScale, cfgChannels, clipDenoised, seed, batchSize, noise, solver, height, width, context, nullContext, cacheInterval);
    }

    public SampleRequest withClipDenoised(boolean c) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, c, seed, batchSize, noise, solver, height, width, context, nullContext, cacheInterval);
    }

    public SampleRequest withSolver(Solver s) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, clipDenoised, seed, batchSize, noise, s, height, width, context, nullContext, cacheInterval);
    }

    public SampleRequest withBatchSize(int b) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, clipDenoised, seed, b, noise, solver, height, width, context, nullContext, cacheInterval);
    }

    public SampleRequest withContext(INDArray ctx, INDArray nullCtx) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, clipDenoised, seed, batchSize, noise, solver, height, width, ctx, nullCtx, cacheInterval);
    }

    /** FORA's static caching: a full model evaluation every {@code n} evaluations (and the first), reused between; 1 = off. */
    public SampleRequest withCacheInterval(int n) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, clipDenoised, seed, batchSize, noise, solver, height, width, context, nullContext, n);
    }

    /** Samples of {@code h} × {@code w} model inputs (latent pixels for a latent model); 0, 0 for the model's own size. */
    public SampleRequest withSize(int h, int w) {
        return new SampleRequest(labels, sampler, respacing, eta, cfgScale, cfgChannels, clipDenoised, seed, batchSize, noise, solver, h, w, context, nullContext, cacheInterval);
    }
}
