package org.dit4j.io;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * dit4j's own checkpoint: a directory holding {@code config.yaml} (the family and the official constructor arguments)
 * and {@code model.safetensors} with the official PyTorch names and layouts. SameDiff's own format is capped at 2 GB,
 * too small for DiT-XL/2; safetensors also loads directly in PyTorch. A training checkpoint adds the raw (non-EMA)
 * weights as {@link #RAW}.
 */
public final class Checkpoint {
    public static final String CONFIG = "config.yaml", WEIGHTS = "model.safetensors", RAW = "raw.safetensors";

    private Checkpoint() {}

    public static boolean isCheckpointDir(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(CONFIG)) && Files.isRegularFile(dir.resolve(WEIGHTS));
    }

    /** Writes the directory atomically: a crash leaves the previous checkpoint (if any) intact. */
    public static void save(Path dir, ModelConfig config, Map<String, INDArray> weights) throws IOException {
        AtomicFiles.writeDirectory(dir, tmp -> writeInto(tmp, config, weights));
    }

    /** Writes the two files into an existing (temporary) directory. */
    public static void writeInto(Path dir, ModelConfig config, Map<String, INDArray> weights) throws IOException {
        Files.writeString(dir.resolve(CONFIG), "# dit4j checkpoint: the model family and its official constructor arguments\nmodel:\n"
                + config.toYaml().lines().map(l -> "  " + l).reduce("", (a, b) -> a + b + "\n"), StandardCharsets.UTF_8);
        Safetensors.write(dir.resolve(WEIGHTS), weights, Map.of("format", "pt", Weights.CONFIG_METADATA, config.toYaml()));
    }

    public static ModelConfig config(Path dir) {
        return ModelFamilies.load(dir.resolve(CONFIG));
    }

    public static Map<String, INDArray> weights(Path dir) {
        return Safetensors.read(dir.resolve(WEIGHTS));
    }
}
