package org.dit4j.pipeline;

import org.dit4j.io.Images;
import org.dit4j.models.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.LongStream;

/**
 * Sample grids of a model in training: the same labels and noise (seed 0) every time, drawn as {@link TrainingSamples}
 * says (guided, DDIM by default) through the {@link DiffusionPipeline}, so successive grids show progress. Pixel-space
 * models are drawn directly, latent models through the autoencoder.
 */
public final class SampleGrids {
    private final TrainingSamples samples;
    private final long[] labels;

    /** {@code labelSpec}: comma-separated class ids, or empty for the first classes (up to 8). */
    public SampleGrids(TrainingSamples samples, String labelSpec) {
        ModelConfig cfg = samples.config();
        this.samples = samples;
        if (cfg.contextShape() != null)
            throw new IllegalArgumentException("sample_every: grids of a text-to-image model would need prompts, which training grids do not take yet; set sample_every 0");
        boolean blank = labelSpec == null || labelSpec.isBlank();
        if (cfg.numClasses() == 0 && !blank) throw new IllegalArgumentException("sample_labels: an unconditional model takes no class labels");
        this.labels = cfg.numClasses() == 0 ? LongStream.generate(() -> SampleRequest.NO_CLASS).limit(8).toArray()   // 8 unconditional samples
                : blank ? LongStream.range(0, Math.min(8, cfg.numClasses())).toArray()
                : Arrays.stream(labelSpec.split(",")).map(String::trim).mapToLong(s -> parse(s, cfg.numClasses())).toArray();
    }

    private static long parse(String s, int classes) {
        long v;
        try {
            v = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("sample_labels: '" + s + "' is not a class id");
        }
        if (v < 0 || v >= classes) throw new IllegalArgumentException("sample_labels: class " + v + " is outside [0, " + classes + ")");
        return v;
    }

    /** Draws the grid from {@code weights} and writes it (atomically) to {@code file}. */
    public void write(Map<String, INDArray> weights, Path file) throws IOException {
        INDArray images = samples.pipeline(weights).images(samples.request(labels), null, 0);
        Files.createDirectories(file.getParent());
        Images.writePng(file, Images.grid(images, Math.min(8, labels.length)));
    }
}
