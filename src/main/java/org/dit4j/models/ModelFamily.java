package org.dit4j.models;

import org.dit4j.io.WeightsFormat;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything dit4j knows about one family of models, behind one name ({@code dit}, ...): its config, its parameters,
 * how it is initialised and built, and how foreign weight files name its tensors. Loaders, {@code convert}, the zoo,
 * sampling and training reach a family only through here ({@link ModelFamilies} is the registry).
 */
public interface ModelFamily {
    String name();

    /** The constructor arguments from a YAML/JSON mapping with the official key names (the {@code family} key excluded). */
    ModelConfig parseConfig(Map<?, ?> m, String source);

    /** The official named architectures, e.g. {@code DiT-XL/2}. */
    List<String> modelNames();

    /** A named architecture at its shipped defaults. */
    ModelConfig named(String name);

    /** Parameter names and shapes in the official state-dict order, without allocating them. */
    Map<String, long[]> shapes(ModelConfig cfg);

    /** The frozen tensors of the state dict (buffers: kept in checkpoints, never trained, not in the EMA's updates). */
    java.util.Set<String> buffers(ModelConfig cfg);

    /** The official initialisation drawn from {@code seed}, in state-dict order. */
    Map<String, INDArray> initialWeights(ModelConfig cfg, long seed);

    /** A model over {@code weights} (checked against {@link #shapes}; taken over, not copied, where they are float32). */
    Denoiser create(ModelConfig cfg, Map<String, INDArray> weights, String source);

    /** Whether a raw state dict of unknown family is this family's (by its characteristic keys). */
    default boolean recognizes(Map<String, INDArray> raw) {
        return false;
    }

    /** Which naming a raw state dict uses: {@code official}, or a converter mapping's suffix ({@code mindone}, {@code diffusers}). */
    String naming(WeightsFormat format, Map<String, INDArray> raw);

    /** The raw tensors under the official names (the mappings under {@code converters/}). */
    Map<String, INDArray> toOfficial(Map<String, INDArray> raw, String naming, String source);

    /** Frozen buffers a file may leave out (recomputed from the architecture), added in place. */
    void addMissingBuffers(ModelConfig cfg, Map<String, INDArray> official);

    /** The architecture recovered from the tensors' shapes; an error that says which flag is missing where it cannot be. */
    ModelConfig infer(Map<String, INDArray> official, String source);

    /** The architecture from a diffusers model folder's {@code config.json}. */
    ModelConfig readDiffusersConfig(Path dir, Map<String, INDArray> official);

    /** Writes a MindSpore {@code .ckpt} of the weights under the names MindONE's converters expect (DiT: the official ones). */
    default void writeMindSpore(Path out, ModelConfig cfg, Map<String, INDArray> official) throws IOException {
        org.dit4j.io.MindSporeCheckpoint.write(out, official);
    }

    /** Writes a diffusers model folder's two files into {@code dir}. */
    void writeDiffusers(Path dir, ModelConfig cfg, Map<String, INDArray> official) throws IOException;
}
