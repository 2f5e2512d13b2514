package org.dit4j.io;

import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.dit4j.models.PosEmbed;
import org.dit4j.models.ShapeParams;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * DiT weights in and out of every layout dit4j knows: reads any container, renames to the official names through the
 * mappings under {@code converters/}, works out or checks the architecture, and writes dit4j, safetensors or diffusers.
 */
public final class DiTWeights {
    /** The safetensors metadata key under which dit4j records the architecture (YAML). */
    public static final String CONFIG_METADATA = "dit4j.model_config";
    /** Official architecture → number of heads (not recoverable from the weights alone). */
    private static final Map<Integer, Integer> OFFICIAL_HEADS = Map.of(384, 6, 768, 12, 1024, 16, 1152, 16);
    private static final Pattern BLOCK = Pattern.compile("^(?:blocks|transformer_blocks)\\.(\\d+)\\.");

    /** Weights under official names, their architecture, and where they came from. */
    public record Imported(DiTConfig config, Map<String, INDArray> weights, WeightsFormat format, String naming) {
        public long values() {
            return weights.values().stream().mapToLong(INDArray::length).sum();
        }
    }

    private DiTWeights() {}

    /**
     * @param from   the container format, or null to sniff it
     * @param config the architecture, or null to take it from the container (dit4j, diffusers) or infer it from the shapes
     */
    public static Imported load(Path in, WeightsFormat from, DiTConfig config, TorchCheckpoint.Pick pick) {
        WeightsFormat format = from != null ? from : WeightsFormat.sniff(in);
        Map<String, String> metadata = new HashMap<>();
        Map<String, INDArray> raw = switch (format) {
            case PYTORCH -> TorchCheckpoint.loadStateDict(in, pick);
            case MINDSPORE -> MindSporeCheckpoint.read(in);
            case SAFETENSORS -> Safetensors.read(in, metadata);
            // A training checkpoint keeps the trained (non-EMA) weights beside the EMA ones.
            case DIT4J -> pick == TorchCheckpoint.Pick.MODEL && Files.isRegularFile(in.resolve("raw.safetensors"))
                    ? Safetensors.read(in.resolve("raw.safetensors")) : DiTCheckpoint.weights(in);
            case DIFFUSERS -> {
                Path w = Diffusers.weightsFile(in);
                if (w == null) throw new WeightsFormatException(in, "not a diffusers model folder (config.json + diffusion_pytorch_model.*)");
                yield w.getFileName().toString().endsWith(".bin") ? TorchCheckpoint.loadStateDict(w, pick) : Safetensors.read(w);
            }
        };
        String source = in.toString();
        String naming = naming(format, raw);
        int depth = depth(raw);
        Map<String, INDArray> official = naming.equals("official") ? new LinkedHashMap<>(raw)
                : KeyMapping.load("dit-" + naming).toOfficial(raw, depth, 0, source);
        DiTConfig cfg = config != null ? config
                : format == WeightsFormat.DIT4J ? DiTCheckpoint.config(in)
                : format == WeightsFormat.DIFFUSERS ? Diffusers.readConfig(in, mlpHidden(official))
                : metadata.containsKey(CONFIG_METADATA) ? DiTConfig.load(new java.io.ByteArrayInputStream(
                        metadata.get(CONFIG_METADATA).getBytes(java.nio.charset.StandardCharsets.UTF_8)), in + " (" + CONFIG_METADATA + ")")
                : infer(official, source);
        if (!official.containsKey("pos_embed"))
            official.put("pos_embed", PosEmbed.sincos2d(cfg.hiddenSize(), cfg.gridSize()));
        Map<String, long[]> shapes = ShapeParams.of(cfg);
        DiTModel.checkStateDict(shapes, official, source);
        Map<String, INDArray> ordered = new LinkedHashMap<>();
        for (String k : shapes.keySet()) ordered.put(k, official.get(k));
        return new Imported(cfg, ordered, format, naming);
    }

    static String naming(WeightsFormat format, Map<String, INDArray> raw) {
        boolean diffusers = raw.keySet().stream().anyMatch(k -> k.startsWith("transformer_blocks.") || k.startsWith("proj_out_1."));
        if (diffusers) return "diffusers";
        boolean mindone = format == WeightsFormat.MINDSPORE || raw.containsKey("y_embedder.embedding_table.embedding_table")
                || raw.keySet().stream().anyMatch(k -> k.startsWith("network."));
        return mindone ? "mindone" : "official";
    }

    static int depth(Map<String, INDArray> raw) {
        int depth = 0;
        for (String k : raw.keySet()) {
            Matcher m = BLOCK.matcher(k.startsWith("network.") ? k.substring(8) : k);
            if (m.find()) depth = Math.max(depth, Integer.parseInt(m.group(1)) + 1);
        }
        return depth;
    }

    private static int mlpHidden(Map<String, INDArray> w) {
        INDArray fc1 = w.get("blocks.0.mlp.fc1.weight");
        return fc1 == null ? 0 : (int) fc1.size(0);
    }

    /** The official constructor arguments recovered from tensor shapes (heads from the official table). */
    static DiTConfig infer(Map<String, INDArray> w, String source) {
        INDArray proj = w.get("x_embedder.proj.weight"), fin = w.get("final_layer.linear.weight"), table = w.get("y_embedder.embedding_table.weight");
        INDArray pos = w.get("pos_embed");
        if (proj == null || proj.rank() != 4 || fin == null || table == null || w.get("blocks.0.mlp.fc1.weight") == null)
            throw new IllegalArgumentException(source + ": not DiT weights (x_embedder, blocks, final_layer and y_embedder expected); give --model or --model-config");
        int hidden = (int) proj.size(0), in = (int) proj.size(1), p = (int) proj.size(2);
        Integer heads = OFFICIAL_HEADS.get(hidden);
        if (heads == null)
            throw new IllegalArgumentException(source + ": hidden size " + hidden + " is not an official DiT width, so the head count is unknown; give --model-config");
        if (pos == null)
            throw new IllegalArgumentException(source + ": no pos_embed to tell the input size; give --model or --model-config with --image-size");
        int grid = (int) Math.round(Math.sqrt(pos.size(1)));
        int out = (int) (fin.size(0) / ((long) p * p));
        int depth = depth(w);
        return new DiTConfig(grid * p, p, in, hidden, depth, heads, (double) mlpHidden(w) / hidden, 0.1,
                (int) table.size(0) - 1, out == 2 * in);
    }

    /** Output layouts of {@code dit4j convert}. */
    public enum Target { DIT4J, SAFETENSORS, DIFFUSERS }

    public static void export(Path out, Target target, DiTConfig cfg, Map<String, INDArray> official) throws IOException {
        switch (target) {
            case DIT4J -> DiTCheckpoint.save(out, cfg, official);
            case SAFETENSORS -> Safetensors.write(out, official, Map.of("format", "pt", CONFIG_METADATA, cfg.toYaml()));
            case DIFFUSERS -> {
                Map<String, INDArray> d = KeyMapping.load("dit-diffusers").fromOfficial(official, cfg.depth(), 0);
                AtomicFiles.writeDirectory(out, tmp -> {
                    Safetensors.write(tmp.resolve(Diffusers.SAFETENSORS), d, Map.of("format", "pt"));
                    Diffusers.writeConfig(tmp.resolve(Diffusers.CONFIG), cfg);
                });
            }
        }
    }
}
