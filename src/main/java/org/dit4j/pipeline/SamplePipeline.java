package org.dit4j.pipeline;

import org.dit4j.diffusion.*;
import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.dit4j.util.Slices;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Class-conditional sampling as {@code sample.py} does it: the guidance batch {@code cat([z, z])} with null labels,
 * one batched forward per step, and the conditional half kept.
 */
public final class SamplePipeline {
    /** Progress over all batches: {@code done} model evaluations of {@code total}. */
    @FunctionalInterface
    public interface Progress {
        void update(long done, long total);
    }

    private final DiTModel model;

    public SamplePipeline(DiTModel model) {
        this.model = model;
    }

    /** The final latents (N, C, H, W) of the N requested labels, before any VAE scaling. */
    public INDArray sample(SampleRequest r, Progress progress) {
        DiTConfig cfg = model.config();
        int n = r.labels().length;
        if (n == 0) throw new IllegalArgumentException("no class labels to sample");
        for (long l : r.labels())
            if (l < 0 || l >= cfg.numClasses())
                throw new IllegalArgumentException("class label " + l + " is outside [0, " + cfg.numClasses() + ")");
        boolean guided = r.cfgScale() > 1.0;
        if (guided && cfg.labelTableRows() == cfg.numClasses())
            throw new IllegalArgumentException("--cfg-scale > 1 needs a null class, but this model was built with class_dropout_prob 0");
        long[] shape = {n, cfg.inChannels(), cfg.inputSize(), cfg.inputSize()};
        if (r.noise() != null && !Arrays.equals(r.noise().shape(), shape))
            throw new IllegalArgumentException("initial noise has shape " + Arrays.toString(r.noise().shape()) + ", expected " + Arrays.toString(shape)
                    + " (one row per label)");
        GaussianDiffusion diffusion = GaussianDiffusion.create(DiffusionConfig.of(r.respacing()).withLearnSigma(cfg.learnSigma()));
        Sampler sampler = r.sampler() == SampleRequest.SamplerKind.DDIM
                ? new DdimSampler(diffusion, r.clipDenoised(), r.eta())
                : new DdpmSampler(diffusion, r.clipDenoised());
        NoiseSource rng = NoiseSource.seeded(r.seed());
        int batch = r.batchSize() > 0 ? r.batchSize() : n;
        long total = (long) sampler.steps() * ((n + batch - 1) / batch), done[] = {0};
        List<INDArray> out = new ArrayList<>();
        for (int start = 0; start < n; start += batch) {
            int b = Math.min(batch, n - start);
            long[] labels = Arrays.copyOfRange(r.labels(), start, start + b);
            INDArray z = r.noise() != null ? Slices.range(r.noise(), 0, start, start + b) : rng.next(b, shape[1], shape[2], shape[3]);
            INDArray x;
            DenoiseFn fn;
            if (guided) {
                long[] y = new long[2 * b];
                System.arraycopy(labels, 0, y, 0, b);
                Arrays.fill(y, b, 2 * b, cfg.numClasses());
                x = Nd4j.concat(0, z, z);
                fn = (xt, ts) -> model.forwardWithCfg(xt, ts, y, r.cfgScale(), r.cfgChannels());
            } else {
                x = z;
                fn = (xt, ts) -> model.forward(xt, ts, labels);
            }
            INDArray result = sampler.sample(fn, x, rng, (k, t, s, p) -> {
                if (progress != null) progress.update(++done[0], total);
            });
            out.add(guided ? Slices.range(result, 0, 0, b) : result);
        }
        return Nd4j.concat(0, out.toArray(new INDArray[0]));
    }
}
