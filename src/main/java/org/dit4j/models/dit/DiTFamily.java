package org.dit4j.models.dit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dit4j.io.AtomicFiles;
import org.dit4j.io.Diffusers;
import org.dit4j.io.KeyMapping;
import org.dit4j.io.Safetensors;
import org.dit4j.io.WeightsFormat;
import org.dit4j.io.WeightsFormatException;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamily;
import org.dit4j.models.UnknownArchitectureException;
import org.dit4j.models.nn.PosEmbed;
import org.dit4j.models.nn.ShapeParams;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** DiT (facebookresearch/DiT {@code models.py}): its configs, parameters, initialisation and weight layouts. */
public final class DiTFamily implements ModelFamily {
    public static final String NAME = "dit";
    /** Official architecture → number of heads (not recoverable from the weights alone). */
    private static final Map<Integer, Integer> OFFICIAL_HEADS = Map.of(384, 6, 768, 12, 1024, 16, 1152, 16);
    private static final Pattern BLOCK = Pattern.compile("^(?:blocks|transformer_blocks)\\.(\\d+)\\.");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ModelConfig parseConfig(Map<?, ?> m, String source) {
        return DiTConfig.fromMap(m, source);
    }

    @Override
    public List<String> modelNames() {
        return DiTModels.NAMES;
    }

    @Override
    public ModelConfig named(String name) {
        return DiTModels.get(name);
    }

    /** Every parameter DiT declares for {@code cfg}, with its module and whether it is a buffer, nothing allocated. */
    static ShapeParams declared(DiTConfig cfg) {
        ShapeParams p = new ShapeParams();
        new DiT(p, cfg);
        return p;
    }

    @Override
    public Map<String, long[]> shapes(ModelConfig cfg) {
        return declared(dit(cfg)).shapes();
    }

    @Override
    public java.util.Set<String> buffers(ModelConfig cfg) {
        return declared(dit(cfg)).buffers();
    }

    @Override
    public Map<String, INDArray> initialWeights(ModelConfig cfg, long seed) {
        return DiTInit.weights(dit(cfg), seed);
    }

    @Override
    public Denoiser create(ModelConfig cfg, Map<String, INDArray> weights, String source) {
        return DiTModel.fromStateDict(dit(cfg), weights, source);
    }

    @Override
    public String naming(WeightsFormat format, Map<String, INDArray> raw) {
        boolean diffusers = raw.keySet().stream().anyMatch(k -> k.startsWith("transformer_blocks.") || k.startsWith("proj_out_1."));
        if (diffusers) return "diffusers";
        boolean mindone = format == WeightsFormat.MINDSPORE || raw.containsKey("y_embedder.embedding_table.embedding_table")
                || raw.keySet().stream().anyMatch(k -> k.startsWith("network."));
        return mindone ? "mindone" : "official";
    }

    @Override
    public Map<String, INDArray> toOfficial(Map<String, INDArray> raw, String naming, String source) {
        return KeyMapping.load("dit-" + naming).toOfficial(raw, depth(raw), 0, source);
    }

    /** The fixed sin-cos table: official files carry it, diffusers and MindONE files may not. */
    @Override
    public void addMissingBuffers(ModelConfig cfg, Map<String, INDArray> official) {
        DiTConfig c = dit(cfg);
        official.putIfAbsent("pos_embed", PosEmbed.sincos2d(c.hiddenSize(), c.gridSize()));
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
    @Override
    public ModelConfig infer(Map<String, INDArray> w, String source) {
        INDArray proj = w.get("x_embedder.proj.weight"), fin = w.get("final_layer.linear.weight"), table = w.get("y_embedder.embedding_table.weight");
        INDArray pos = w.get("pos_embed");
        if (proj == null || proj.rank() != 4 || fin == null || table == null || w.get("blocks.0.mlp.fc1.weight") == null)
            throw new UnknownArchitectureException(source + ": not DiT weights (x_embedder, blocks, final_layer and y_embedder expected), so the architecture must be named");
        int hidden = (int) proj.size(0), in = (int) proj.size(1), p = (int) proj.size(2);
        Integer heads = OFFICIAL_HEADS.get(hidden);
        if (heads == null)
            throw new UnknownArchitectureException(source + ": hidden size " + hidden + " is not an official DiT width, so the head count is unknown and a model config must give it");
        if (pos == null)
            throw new UnknownArchitectureException(source + ": no pos_embed to tell the input size, so the architecture and image size must be named");
        int grid = (int) Math.round(Math.sqrt(pos.size(1)));
        int out = (int) (fin.size(0) / ((long) p * p));
        return new DiTConfig(grid * p, p, in, hidden, depth(w), heads, (double) mlpHidden(w) / hidden, 0.1,
                (int) table.size(0) - 1, out == 2 * in);
    }

    /** From a {@code DiTTransformer2DModel}/{@code Transformer2DModel} config. */
    @Override
    public ModelConfig readDiffusersConfig(Path dir, Map<String, INDArray> official) {
        Path file = Diffusers.modelDir(dir).resolve(Diffusers.CONFIG);
        int mlpHidden = mlpHidden(official);
        try {
            JsonNode c = JSON.readTree(file.toFile());
            int heads = c.path("num_attention_heads").asInt(16), headDim = c.path("attention_head_dim").asInt(72);
            int in = c.path("in_channels").asInt(4), out = c.path("out_channels").asInt(in);
            int hidden = heads * headDim;
            return new DiTConfig(c.path("sample_size").asInt(32), c.path("patch_size").asInt(2), in, hidden,
                    c.path("num_layers").asInt(28), heads, mlpHidden > 0 ? (double) mlpHidden / hidden : 4.0, 0.1,
                    c.path("num_embeds_ada_norm").asInt(1000), out == 2 * in);
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read diffusers config (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            throw new WeightsFormatException(file, e.getMessage());
        }
    }

    @Override
    public void writeDiffusers(Path dir, ModelConfig config, Map<String, INDArray> official) throws IOException {
        DiTConfig cfg = dit(config);
        Safetensors.write(dir.resolve(Diffusers.SAFETENSORS), KeyMapping.load("dit-diffusers").fromOfficial(official, cfg.depth(), 0),
                Map.of("format", "pt"));
        ObjectNode c = JSON.createObjectNode();
        c.put("_class_name", "DiTTransformer2DModel");
        c.put("activation_fn", "gelu-approximate");
        c.put("attention_bias", true);
        c.put("attention_head_dim", cfg.headDim());
        c.put("in_channels", cfg.inChannels());
        c.put("norm_elementwise_affine", false);
        c.put("norm_eps", 1e-5);
        c.put("norm_type", "ada_norm_zero");
        c.put("num_attention_heads", cfg.numHeads());
        c.put("num_embeds_ada_norm", cfg.numClasses());
        c.put("num_layers", cfg.depth());
        c.put("out_channels", cfg.outChannels());
        c.put("patch_size", cfg.patchSize());
        c.put("sample_size", cfg.inputSize());
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(c);
        AtomicFiles.write(dir.resolve(Diffusers.CONFIG), o -> o.write(bytes));
    }

    static DiTConfig dit(ModelConfig cfg) {
        if (cfg instanceof DiTConfig d) return d;
        throw new IllegalArgumentException("a " + cfg.family() + " config given to the DiT family");
    }
}
