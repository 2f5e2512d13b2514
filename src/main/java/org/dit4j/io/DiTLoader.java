package org.dit4j.io;

import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.dit4j.models.DiTModels;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * "Which architecture, which weights", resolved the way {@code sample.py} does: {@code --model} or
 * {@code --model-config} name the architecture; otherwise it comes from the checkpoint (a dit4j or diffusers folder
 * carries it, an official state dict reveals it through its shapes).
 */
public final class DiTLoader {
    private DiTLoader() {}

    /**
     * @param modelName   an official name such as {@code DiT-XL/2}, or null
     * @param modelConfig a YAML model config, or null
     * @param imageSize   image side in pixels (latents are 1/8 of it for latent models), or 0 for the config's own
     * @param numClasses  class count, or 0 for the config's own
     */
    public static DiTModel load(Path ckpt, String modelName, Path modelConfig, int imageSize, int numClasses, TorchCheckpoint.Pick pick) {
        if (ckpt == null || !Files.exists(ckpt)) throw new IllegalArgumentException("--ckpt " + ckpt + ": no such file or directory");
        DiTConfig named = architecture(modelName, modelConfig, imageSize, numClasses);
        DiTWeights.Imported w = DiTWeights.load(ckpt, null, named, pick);
        DiTConfig cfg = w.config();
        if (named == null && (imageSize > 0 && cfg.inputSize() != inputSize(cfg, imageSize) || numClasses > 0 && cfg.numClasses() != numClasses))
            throw new IllegalArgumentException(ckpt + " holds a model for " + cfg.inputSize() + "x" + cfg.inputSize() + " inputs and "
                    + cfg.numClasses() + " classes; --image-size/--num-classes cannot change that");
        return DiTModel.fromStateDict(cfg, w.weights(), ckpt.toString());
    }

    /** The architecture named by {@code --model}/{@code --model-config}, resized; null when neither is given. */
    public static DiTConfig architecture(String modelName, Path modelConfig, int imageSize, int numClasses) {
        DiTConfig named = namedConfig(modelName, modelConfig);
        return named == null ? null : resize(named, imageSize, numClasses);
    }

    static DiTConfig namedConfig(String modelName, Path modelConfig) {
        if (modelName != null && modelConfig != null) throw new IllegalArgumentException("give --model or --model-config, not both");
        if (modelConfig != null) return DiTConfig.load(modelConfig);
        if (modelName != null) return DiTModels.get(modelName);
        return null;
    }

    /** Latent models see the image through the 8× VAE; pixel models (in_channels 3) see it directly. */
    static int inputSize(DiTConfig cfg, int imageSize) {
        int factor = cfg.inChannels() == 3 ? 1 : 8;
        if (imageSize % factor != 0) throw new IllegalArgumentException("--image-size must be a multiple of " + factor);
        return imageSize / factor;
    }

    static DiTConfig resize(DiTConfig cfg, int imageSize, int numClasses) {
        if (imageSize < 0 || numClasses < 0) throw new IllegalArgumentException("--image-size and --num-classes must be positive");
        DiTConfig c = imageSize > 0 ? cfg.withInputSize(inputSize(cfg, imageSize)) : cfg;
        return numClasses > 0 ? c.withNumClasses(numClasses) : c;
    }
}
