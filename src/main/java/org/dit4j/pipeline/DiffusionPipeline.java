package org.dit4j.pipeline;

import org.dit4j.diffusion.NoiseSource;
import org.dit4j.diffusion.Sampler;
import org.dit4j.models.Conditioning;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.StateDicts;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.util.Slices;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Model + sampler + guidance + optional autoencoder, from a request to latents or images — what {@code dit4j sample},
 * the training sample grids and the Java API all run. Class-conditional batches are laid out as {@code sample.py}
 * does: seeded noise per batch, the family's guidance rule, the conditional rows kept.
 */
public final class DiffusionPipeline {
    /** Progress over all batches: {@code done} model evaluations of {@code total}. */
    @FunctionalInterface
    public interface Progress {
        void update(long done, long total);
    }

    private final Denoiser model;
    private final AutoencoderKL vae;

    /** {@code vae} decodes latent models' samples; null for pixel-space models or latents only. */
    public DiffusionPipeline(Denoiser model, AutoencoderKL vae) {
        ModelConfig cfg = model.config();
        if (vae != null && cfg.inChannels() != 3 && vae.config().embedDim() != cfg.inChannels())
            throw new IllegalArgumentException("the autoencoder has " + vae.config().embedDim() + " latent channels, the model takes " + cfg.inChannels());
        this.model = model;
        this.vae = vae;
    }

    public Denoiser model() {
        return model;
    }

    /** The autoencoder, or null. */
    public AutoencoderKL vae() {
        return vae;
    }

    /** A pipeline over copies of this one's weights (model and autoencoder), for another thread to sample with. */
    public DiffusionPipeline replica(String source) {
        ModelConfig cfg = model.config();
        Denoiser m = ModelFamilies.of(cfg).create(cfg, StateDicts.copy(model.stateDict()), source);
        AutoencoderKL v = null;
        if (vae != null) {
            v = AutoencoderKL.create(vae.config());
            v.loadStateDict(vae.stateDict(), source);   // copied there
        }
        return new DiffusionPipeline(m, v);
    }

    /** Whether samples are images as they come (a pixel-space model: 3 input channels). */
    public boolean isPixelSpace() {
        return model.config().inChannels() == 3;
    }

    /** The final samples (N, C, H, W) of the N requested labels (or text contexts), before any VAE scaling. */
    public INDArray latents(SampleRequest r, Progress progress) {
        return latents(r, 0, r.batches(), progress);
    }

    /**
     * The samples of batches [{@code fromBatch}, {@code toBatch}) of the request's batching ({@link SampleRequest#batches}),
     * exactly as {@link #latents(SampleRequest, Progress)} makes them: the noise generator starts where one run over
     * every batch would reach batch {@code fromBatch}, so any cut of the batches into shards gives the same samples.
     */
    public INDArray latents(SampleRequest r, int fromBatch, int toBatch, Progress progress) {
        ModelConfig cfg = model.config();
        int n = r.labels().length;
        if (n == 0) throw new IllegalArgumentException(r.isTextConditioned() ? "no text contexts to sample" : "no class labels to sample");
        checkConditioning(r, cfg);
        // sample.py: using_cfg = cfg_scale > 1.0; U-ViT's eval scripts: scale > 0 (their s is DiT's scale − 1)
        boolean twoPass = cfg.guidanceRule() == ModelConfig.GuidanceRule.TWO_PASS;
        boolean guided = twoPass ? r.cfgScale() > 0 : r.cfgScale() > 1.0;
        if (guided && r.isTextConditioned() && r.nullContext() == null)
            throw new IllegalArgumentException("guidance (scale > 0) needs the empty prompt's context to guide away from");
        if (guided && !r.isTextConditioned() && cfg.nullLabel() < 0)
            throw new IllegalArgumentException("guidance (scale > " + (twoPass ? "0" : "1") + ") needs a null class, but this model was built with "
                    + (twoPass ? cfg.numClasses() == 0 ? "no classes" : "p_uncond 0" : "class_dropout_prob 0"));
        int height = r.height() > 0 ? r.height() : cfg.inputSize(), width = r.width() > 0 ? r.width() : cfg.inputSize();
        cfg.checkSampleSize(height, width);
        long[] shape = {n, cfg.inChannels(), height, width};
        if (r.noise() != null && !Arrays.equals(r.noise().shape(), shape))
            throw new IllegalArgumentException("initial noise has shape " + Arrays.toString(r.noise().shape()) + ", expected " + Arrays.toString(shape)
                    + (r.isTextConditioned() ? " (one row per prompt)" : " (one row per label)"));
        if (r.noise() != null) {
            // one NaN or Inf spreads through attention to its whole sample, and on through every step
            long bad = r.noise().isNaN().castTo(org.nd4j.linalg.api.buffer.DataType.INT).sumNumber().longValue()
                    + r.noise().isInfinite().castTo(org.nd4j.linalg.api.buffer.DataType.INT).sumNumber().longValue();
            if (bad > 0) throw new IllegalArgumentException("the initial noise has " + bad + " non-finite values (NaN or Inf), expected finite numbers");
        }
        Guidance guidance = !guided ? Guidance.NONE : switch (cfg.guidanceRule()) {
            case BATCHED -> Guidance.batched(r.cfgScale(), r.cfgChannels().count(cfg));
            case TWO_PASS -> Guidance.twoPass(r.cfgScale());
        };
        Sampler sampler = Samplers.create(r, cfg);
        int batch = r.effectiveBatchSize();
        if (fromBatch < 0 || toBatch > r.batches() || fromBatch >= toBatch)
            throw new IllegalArgumentException("batches [" + fromBatch + ", " + toBatch + ") are not a run of the request's " + r.batches() + " batches");
        long skip = 0;
        for (int k = 0; k < fromBatch; k++) {
            long b = Math.min(batch, n - (long) k * batch), values = b * shape[1] * shape[2] * shape[3];
            skip += (r.noise() != null ? 0 : values) + sampler.noiseDraws(new long[]{guidance.samplerRows(b), shape[1], shape[2], shape[3]});
        }
        NoiseSource rng = NoiseSource.seeded(r.seed(), skip);
        long total = (long) sampler.steps() * (toBatch - fromBatch), done[] = {0};
        List<INDArray> out = new ArrayList<>();
        for (int start = fromBatch * batch; start < Math.min(n, toBatch * batch); start += batch) {
            int b = Math.min(batch, n - start);
            INDArray z = r.noise() != null ? Slices.range(r.noise(), 0, start, start + b) : rng.next(b, shape[1], shape[2], shape[3]);
            // FORA's cache lives for one batch's run: a fresh one per batch, so shards and replicas never share one
            // (a family without a cached step is refused here, before the first evaluation)
            Denoiser net = r.cacheInterval() > 1 ? new StepCache(model, r.cacheInterval(), sampler.steps()) : model;
            INDArray result = sampler.sample(guidance.denoiser(net, conditional(r, start, b), unconditional(r, cfg, b)),
                    guidance.samplerBatch(z), rng, (k, t, s, p) -> {
                        if (progress != null) progress.update(++done[0], total);
                    });
            out.add(guidance.conditional(result, b));
        }
        return Nd4j.concat(0, out.toArray(new INDArray[0]));
    }

    /** Labels the model has (none for an unconditional one), or contexts of the model's shape for a text-to-image model. */
    private static void checkConditioning(SampleRequest r, ModelConfig cfg) {
        int[] ctx = cfg.contextShape();
        if (ctx != null) {
            if (!r.isTextConditioned()) throw new IllegalArgumentException("a text-to-image model samples from prompts (text contexts), not class labels");
            long[] want = {r.labels().length, ctx[0], ctx[1]};
            if (!Arrays.equals(r.context().shape(), want))
                throw new IllegalArgumentException("text contexts have shape " + Arrays.toString(r.context().shape()) + ", the model takes " + Arrays.toString(want)
                        + " (tokens, clip_dim)");
            if (r.nullContext() != null && r.nullContext().length() != (long) ctx[0] * ctx[1])
                throw new IllegalArgumentException("the empty prompt's context has shape " + Arrays.toString(r.nullContext().shape()) + ", the model takes ("
                        + ctx[0] + ", " + ctx[1] + ")");
            return;
        }
        if (r.isTextConditioned()) throw new IllegalArgumentException("a " + cfg.family() + " model with " + (cfg.numClasses() == 0 ? "no classes" : "class labels")
                + " takes no text prompts");
        for (long l : r.labels()) {
            if (cfg.numClasses() == 0 && l != SampleRequest.NO_CLASS)
                throw new IllegalArgumentException("an unconditional model takes no class labels (got " + l + "); ask for a number of samples instead");
            if (cfg.numClasses() > 0 && (l < 0 || l >= cfg.numClasses()))
                throw new IllegalArgumentException("class label " + l + " is outside [0, " + cfg.numClasses() + ")");
        }
    }

    /** Rows [start, start + b) of the request: their labels, or their contexts. */
    private static Conditioning conditional(SampleRequest r, int start, int b) {
        if (r.isTextConditioned()) return new Conditioning(null, Slices.range(r.context(), 0, start, start + b), null);
        return Conditioning.labels(Arrays.copyOfRange(r.labels(), start, start + b));
    }

    /** Their unconditional twins: the null label, or {@code einops.repeat(empty_context, 'L D -> B L D')}. */
    private static Conditioning unconditional(SampleRequest r, ModelConfig cfg, int b) {
        if (r.isTextConditioned()) {
            if (r.nullContext() == null) return null;
            INDArray one = r.nullContext().reshape(1, r.context().size(1), r.context().size(2));
            return new Conditioning(null, one.repeat(0, b), null);                                     // (B, L, D)
        }
        long[] nulls = new long[b];
        Arrays.fill(nulls, cfg.nullLabel());
        return Conditioning.labels(nulls);
    }

    /** Images (N, 3, H, W) in about [-1, 1]: the samples themselves for a pixel model, else decoded by the autoencoder. */
    public INDArray images(SampleRequest r, Progress progress, int vaeTile) {
        return toImages(latents(r, progress), vaeTile);
    }

    /**
     * {@code sample.py}: {@code vae.decode(latents / 0.18215)} — the model's own scale factor where its family fixes one
     * (U-ViT's {@code config.autoencoder.scale_factor}), else the autoencoder's; {@code tile} > 0 decodes in overlapping tiles.
     */
    public INDArray toImages(INDArray latents, int tile) {
        double own = model.config().latentScaleFactor();
        return toImages(latents, tile, !Double.isNaN(own) ? own : vae == null ? Double.NaN : vae.config().scalingFactor());
    }

    /** With the latents divided by {@code scaleFactor} (MindONE's {@code sd_scale_factor}) rather than the VAE's own. */
    public INDArray toImages(INDArray latents, int tile, double scaleFactor) {
        if (isPixelSpace()) return latents;
        if (vae == null) throw new IllegalStateException("a latent model's samples need an autoencoder to become images");
        return Vaes.decodeLatents(vae, latents, tile, scaleFactor);
    }
}
