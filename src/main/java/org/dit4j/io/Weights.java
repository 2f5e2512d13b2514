package org.dit4j.io;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.ModelFamily;
import org.dit4j.models.StateDicts;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * Model weights in and out of every layout dit4j knows: reads any container, renames to the official names through the
 * family's mappings (under {@code converters/}), works out or checks the architecture, and writes dit4j, safetensors or
 * diffusers.
 */
public final class Weights {
    /** The safetensors metadata key under which dit4j records the architecture (YAML). */
    public static final String CONFIG_METADATA = "dit4j.model_config";

    /** Weights under official names, their architecture, and where they came from. */
    public record Imported(ModelConfig config, Map<String, INDArray> weights, WeightsFormat format, String naming) {
        public long values() {
            return weights.values().stream().mapToLong(INDArray::length).sum();
        }
    }

    private Weights() {}

    /**
     * @param from   the container format, or null to sniff it
     * @param config the architecture, or null to take it from the container (dit4j, diffusers, dit4j metadata) or infer
     *               it from the shapes (a foreign file's family from its keys, DiT by default)
     */
    public static Imported load(Path in, WeightsFormat from, ModelConfig config, TorchCheckpoint.Pick pick) {
        WeightsFormat format = from != null ? from : WeightsFormat.sniff(in);
        Map<String, String> metadata = new HashMap<>();
        Map<String, INDArray> raw = switch (format) {
            case PYTORCH -> TorchCheckpoint.loadStateDict(in, pick);
            case MINDSPORE -> MindSporeCheckpoint.read(in);
            case SAFETENSORS -> Safetensors.read(in, metadata);
            // A training checkpoint keeps the trained (non-EMA) weights beside the EMA ones.
            case DIT4J -> pick == TorchCheckpoint.Pick.MODEL && Files.isRegularFile(in.resolve(Checkpoint.RAW))
                    ? Safetensors.read(in.resolve(Checkpoint.RAW)) : Checkpoint.weights(in);
            case DIFFUSERS -> {
                Path w = Diffusers.weightsFile(in);
                if (w == null) throw new WeightsFormatException(in, "not a diffusers model folder (config.json + diffusion_pytorch_model.*)");
                yield w.getFileName().toString().endsWith(".bin") ? TorchCheckpoint.loadStateDict(w, pick) : Safetensors.read(w);
            }
        };
        String source = in.toString();
        ModelConfig carried = format == WeightsFormat.DIT4J ? Checkpoint.config(in)
                : metadata.containsKey(CONFIG_METADATA) ? ModelFamilies.fromYaml(metadata.get(CONFIG_METADATA), in + " (" + CONFIG_METADATA + ")")
                : null;
        ModelFamily family = config != null ? ModelFamilies.of(config) : carried != null ? ModelFamilies.of(carried) : ModelFamilies.detect(raw);
        String naming = family.naming(format, raw);
        Map<String, INDArray> official = naming.equals("official") ? new LinkedHashMap<>(raw) : family.toOfficial(raw, naming, source);
        ModelConfig cfg = config != null ? config
                : carried != null ? carried
                : format == WeightsFormat.DIFFUSERS ? family.readDiffusersConfig(in, official)
                : family.infer(official, source);
        family.addMissingBuffers(cfg, official);
        Map<String, long[]> shapes = family.shapes(cfg);
        StateDicts.check(shapes, official, source);
        Map<String, INDArray> ordered = new LinkedHashMap<>();
        for (String k : shapes.keySet()) ordered.put(k, official.get(k));
        return new Imported(cfg, ordered, format, naming);
    }

    /** Output layouts of {@code dit4j convert}. */
    public enum Target { DIT4J, SAFETENSORS, DIFFUSERS, MINDSPORE }

    /**
     * {@link Target#MINDSPORE} writes a MindSpore {@code .ckpt} as the family's MindONE converter does (DiT: the official
     * names, as {@code tools/dit_converter.py}, whose {@code load_dit_ckpt_params} maps them onto the MindSpore network).
     */
    public static void export(Path out, Target target, ModelConfig cfg, Map<String, INDArray> official) throws IOException {
        switch (target) {
            case DIT4J -> Checkpoint.save(out, cfg, official);
            case SAFETENSORS -> Safetensors.write(out, official, Map.of("format", "pt", CONFIG_METADATA, cfg.toYaml()));
            case DIFFUSERS -> AtomicFiles.writeDirectory(out, tmp -> ModelFamilies.of(cfg).writeDiffusers(tmp, cfg, official));
            case MINDSPORE -> ModelFamilies.of(cfg).writeMindSpore(out, cfg, official);
        }
    }
}
