package org.dit4j.pipeline;

import org.dit4j.io.Images;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.vae.AutoencoderKL;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.LongStream;

/**
 * Sample grids of a model in training: the same labels and noise (seed 0) every time, guided sampling (DDIM by default) through the
 * {@link DiffusionPipeline}, so successive grids show progress. Pixel-space models are drawn directly, latent models
 * through the autoencoder.
 */
public final class SampleGrids {
    private final ModelConfig cfg;
    private final AutoencoderKL vae;
    private final long[] labels;
    private final int steps;
    private final SampleRequest.SamplerKind sampler;
    private DiffusionPipeline pipeline;

    /** {@code labelSpec}: comma-separated class ids, or empty for the first classes (up to 8). */
    public SampleGrids(ModelConfig cfg, AutoencoderKL vae, String labelSpec, SampleRequest.SamplerKind sampler, int steps) {
        if (cfg.inChannels() != 3 && vae == null) throw new IllegalArgumentException("a latent model needs an autoencoder to draw sample grids");
        if (steps <= 0) throw new IllegalArgumentException("sample_steps must be positive, got " + steps);
        if (cfg.process() != ModelConfig.Process.ADM && !sampler.isDpmSolver() && !sampler.isEulerMaruyama())
            throw new IllegalArgumentException("sample_sampler " + sampler.spelling() + " runs ADM's discrete process; this " + cfg.family()
                    + " model's grids need dpm-solver, dpm-solver++ or euler-maruyama");
        this.cfg = cfg;
        this.vae = cfg.inChannels() == 3 ? null : vae;
        this.labels = labelSpec == null || labelSpec.isBlank()
                ? LongStream.range(0, Math.min(8, cfg.numClasses())).toArray()
                : Arrays.stream(labelSpec.split(",")).map(String::trim).mapToLong(this::parse).toArray();
        this.steps = steps;
        this.sampler = sampler;
    }

    private long parse(String s) {
        long v;
        try {
            v = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("sample_labels: '" + s + "' is not a class id");
        }
        if (v < 0 || v >= cfg.numClasses()) throw new IllegalArgumentException("sample_labels: class " + v + " is outside [0, " + cfg.numClasses() + ")");
        return v;
    }

    /** Draws the grid from {@code weights} and writes it (atomically) to {@code file}. */
    public void write(Map<String, INDArray> weights, Path file) throws IOException {
        if (pipeline == null) {
            Denoiser model = ModelFamilies.of(cfg).create(cfg, weights, "training weights");
            pipeline = new DiffusionPipeline(model, vae);
        } else {
            pipeline.model().loadStateDict(weights, "training weights");
        }
        SampleRequest r = SampleRequest.of(labels).withSampler(sampler, String.valueOf(steps)).withSeed(0);
        if (cfg.officialSampling() != null) r = r.withGuidance(cfg.officialSampling().scale(), GuidanceChannels.OFFICIAL);   // the family's own scale
        INDArray images = pipeline.images(r, null, 0);
        Files.createDirectories(file.getParent());
        Images.writePng(file, Images.grid(images, Math.min(8, labels.length)));
    }
}
