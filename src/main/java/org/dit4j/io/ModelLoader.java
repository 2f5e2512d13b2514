package org.dit4j.io;

import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * "Which architecture, which weights", resolved the way {@code sample.py} does: a model name or config names the
 * architecture; otherwise it comes from the checkpoint (a dit4j or diffusers folder carries it, an official state dict
 * reveals it through its shapes). A training run's folder stands for its newest checkpoint.
 */
public final class ModelLoader {
    private ModelLoader() {}

    /**
     * The model in a weights file or folder ({@link #resolve} first turns a training run's folder into its checkpoint).
     *
     * @param modelName   an official name such as {@code DiT-XL/2}, or null
     * @param modelConfig a YAML model config, or null
     * @param imageSize   image side in pixels (latents are 1/8 of it for latent models), or 0 for the config's own
     * @param numClasses  class count, or 0 for the config's own
     */
    public static Denoiser load(Path ckpt, String modelName, Path modelConfig, int imageSize, int numClasses, TorchCheckpoint.Pick pick) {
        return build(read(ckpt, modelName, modelConfig, imageSize, numClasses, pick), ckpt);
    }

    /** The first half of {@link #load}: the weights and their architecture, read and checked, no model built yet. */
    public static Weights.Imported read(Path ckpt, String modelName, Path modelConfig, int imageSize, int numClasses, TorchCheckpoint.Pick pick) {
        if (ckpt == null || !Files.exists(ckpt)) throw new IllegalArgumentException("checkpoint " + ckpt + ": no such file or directory");
        ModelConfig named = architecture(modelName, modelConfig, imageSize, numClasses);
        Weights.Imported w = Weights.load(ckpt, null, named, pick);
        ModelConfig cfg = w.config();
        if (named == null && (imageSize > 0 && cfg.inputSize() != inputSize(cfg, imageSize) || numClasses > 0 && cfg.numClasses() != numClasses))
            throw new IllegalArgumentException(ckpt + " holds a model for " + cfg.inputSize() + "x" + cfg.inputSize() + " inputs and "
                    + cfg.numClasses() + " classes; an image size or class count cannot change that");
        return w;
    }

    /** The second half of {@link #load}: the model (its graphs) on weights {@link #read} from {@code ckpt}. */
    public static Denoiser build(Weights.Imported w, Path ckpt) {
        return ModelFamilies.of(w.config()).create(w.config(), w.weights(), ckpt.toString());
    }

    /**
     * A training run's folder ({@code RUN/checkpoints/step-*}) stands for its newest whole checkpoint (a damaged newer
     * one is skipped with a warning); anything else for itself.
     */
    public static Path resolve(Path ckpt) {
        Path dir = ckpt.resolve(Checkpoint.RUN_FOLDER);
        if (!Files.isDirectory(ckpt) || Checkpoint.isCheckpointDir(ckpt) || !Files.isDirectory(dir)) return ckpt;
        List<Path> steps = Checkpoint.stepFolders(ckpt);
        if (steps.isEmpty()) throw new IllegalArgumentException(ckpt + " is a training run without complete checkpoints (expected " + dir.resolve("step-*") + ")");
        return Checkpoint.newestWhole(steps, Checkpoint::damage);
    }

    /** The architecture named by a model name or config file, resized; null when neither is given. */
    public static ModelConfig architecture(String modelName, Path modelConfig, int imageSize, int numClasses) {
        if (modelName != null && modelConfig != null) throw new IllegalArgumentException("give a model name or a model config, not both");
        ModelConfig named = modelConfig != null ? ModelFamilies.load(modelConfig) : modelName != null ? ModelFamilies.named(modelName) : null;
        return named == null ? null : resize(named, imageSize, numClasses);
    }

    /** Latent models see the image through the 8× VAE; pixel models (in_channels 3) see it directly. */
    public static int inputSize(ModelConfig cfg, int imageSize) {
        int factor = cfg.inChannels() == 3 ? 1 : 8;
        if (imageSize <= 0 || imageSize % factor != 0) throw new IllegalArgumentException("the image size must be a positive multiple of " + factor + ", got " + imageSize);
        return imageSize / factor;
    }

    static ModelConfig resize(ModelConfig cfg, int imageSize, int numClasses) {
        if (imageSize < 0 || numClasses < 0) throw new IllegalArgumentException("the image size and class count must be positive");
        ModelConfig c = imageSize > 0 ? cfg.withInputSize(inputSize(cfg, imageSize)) : cfg;
        return numClasses > 0 ? c.withNumClasses(numClasses) : c;
    }
}
