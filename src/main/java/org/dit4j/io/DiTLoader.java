package org.dit4j.io;

import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.dit4j.models.DiTModels;

import java.nio.file.Path;

/**
 * Resolves "which architecture, which weights" the way {@code sample.py} does: a dit4j checkpoint directory carries
 * its own config; a foreign file (.pt, .safetensors) needs {@code --model} or {@code --model-config}.
 */
public final class DiTLoader {
    private DiTLoader() {}

    /**
     * @param modelName   an official name such as {@code DiT-XL/2}, or null
     * @param modelConfig a YAML model config, or null
     * @param inputSize   latent (or pixel) side length to use with a named model, or 0 for the config's own
     * @param numClasses  class count to use with a named model, or 0 for the config's own
     */
    public static DiTConfig resolveConfig(Path ckpt, String modelName, Path modelConfig, int inputSize, int numClasses) {
        if (modelName != null && modelConfig != null) throw new IllegalArgumentException("give --model or --model-config, not both");
        DiTConfig cfg;
        if (modelConfig != null) cfg = DiTConfig.load(modelConfig);
        else if (modelName != null) cfg = DiTModels.get(modelName);
        else if (ckpt != null && DiTCheckpoint.isCheckpointDir(ckpt)) cfg = DiTCheckpoint.config(ckpt);
        else throw new IllegalArgumentException((ckpt == null ? "no --ckpt given" : ckpt + " is not a dit4j checkpoint directory")
                    + ": name the architecture with --model (e.g. DiT-XL/2) or --model-config FILE");
        if (inputSize > 0) cfg = cfg.withInputSize(inputSize);
        if (numClasses > 0) cfg = cfg.withNumClasses(numClasses);
        return cfg;
    }

    public static DiTModel load(Path ckpt, DiTConfig cfg, TorchCheckpoint.Pick pick) {
        DiTModel model = DiTModel.create(cfg);
        model.loadStateDict(WeightsLoader.load(ckpt, pick), ckpt.toString());
        return model;
    }
}
