package org.dit4j.pipeline;

import org.dit4j.io.Images;
import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.dit4j.models.vae.AutoencoderKL;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Sample grids of a model in training: the same labels and noise (seed 0) every time, guided DDIM, so successive
 * grids show progress. Pixel-space models are drawn directly, latent models through the autoencoder.
 */
public final class SampleGrids {
    private final DiTModel model;
    private final AutoencoderKL vae;
    private final long[] labels;
    private final int steps;

    /** {@code labelSpec}: comma-separated class ids, or empty for the first classes (up to 8). */
    public SampleGrids(DiTConfig cfg, AutoencoderKL vae, String labelSpec, int steps) {
        if (cfg.inChannels() != 3 && vae == null) throw new IllegalArgumentException("a latent model needs a VAE to draw sample grids");
        this.model = DiTModel.create(cfg);
        this.vae = cfg.inChannels() == 3 ? null : vae;
        this.labels = labelSpec == null || labelSpec.isBlank()
                ? java.util.stream.LongStream.range(0, Math.min(8, cfg.numClasses())).toArray()
                : Arrays.stream(labelSpec.split(",")).map(String::trim).mapToLong(s -> parse(s, cfg)).toArray();
        this.steps = steps;
    }

    private static long parse(String s, DiTConfig cfg) {
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
        model.loadStateDict(weights, "training weights");
        SampleRequest r = SampleRequest.of(labels).withSampler(SampleRequest.SamplerKind.DDIM, String.valueOf(steps)).withSeed(0);
        INDArray out = new SamplePipeline(model).sample(r, null);
        INDArray images = vae == null ? out : Vaes.decodeLatents(vae, out);
        java.nio.file.Files.createDirectories(file.getParent());
        Images.writePng(file, Images.grid(images, Math.min(8, labels.length)));
    }
}
