package org.dit4j.models.fitmindone;

import org.dit4j.io.KeyMapping;
import org.dit4j.io.WeightsFormat;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamily;
import org.dit4j.models.UnknownArchitectureException;
import org.dit4j.models.nn.AdaLnZeroInit;
import org.dit4j.models.nn.ShapeParams;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.*;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MindONE's FiT ({@code mindone/models/fit.py}, {@code examples/fit}): its twelve named sizes, parameters under the
 * MindSpore names, initialisation, and weight files (MindSpore {@code .ckpt}, {@code network.} prefix too, and torch or
 * safetensors files of the same names or of a PyTorch port's). Not weight-compatible with FiTv1 (family {@code fit}).
 */
public final class MindOneFiTFamily implements ModelFamily {
    public static final String NAME = "fit-mindone";
    /** dit4j's names for MindONE's {@code FiT_models} ({@code FiT-XL/2} there); the prefix keeps them apart from FiTv1's. */
    public static final String PREFIX = "MindONE-";
    private static final String[] SIZES = {"XL", "L", "B", "S"};
    private static final int[][] DEPTH_WIDTH_HEADS = {{28, 1152, 16}, {24, 1024, 16}, {12, 768, 12}, {12, 384, 6}};
    public static final List<String> NAMES = names();
    /** Official widths → heads (not recoverable from the weights alone). */
    private static final Map<Integer, Integer> OFFICIAL_HEADS = Map.of(384, 6, 768, 12, 1024, 16, 1152, 16);
    private static final Pattern BLOCK = Pattern.compile("^blocks\\.(\\d+)\\.");
    static final String TABLE = "y_embedder.embedding_table.embedding_table";

    private static List<String> names() {
        List<String> n = new ArrayList<>();
        for (String s : SIZES) for (int p : new int[]{2, 4, 8}) n.add(PREFIX + "FiT-" + s + "/" + p);
        return List.copyOf(n);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ModelConfig parseConfig(Map<?, ?> m, String source) {
        return MindOneFiTConfig.fromMap(m, source);
    }

    @Override
    public List<String> modelNames() {
        return NAMES;
    }

    /** {@code FiT_models[name](num_classes=1000)} at {@code sample.py}'s defaults: SwiGLU, RoPE, 256×256 images (input_size 32). */
    @Override
    public MindOneFiTConfig named(String name) {
        int i = NAMES.indexOf(name);
        if (i < 0) throw new IllegalArgumentException("unknown MindONE FiT model '" + name + "' (expected one of " + NAMES + ")");
        int[] s = DEPTH_WIDTH_HEADS[i / 3];
        int p = new int[]{2, 4, 8}[i % 3];
        return new MindOneFiTConfig(p, 4, s[1], s[0], s[2], 4.0, 0.1, 1000, true, "swiglu", "rotate", 32);
    }

    /** dit4j's name of MindONE's {@code model_name} ({@code FiT-XL/2} → {@code MindONE-FiT-XL/2}). */
    public static String fromMindOneName(String modelName) {
        String name = modelName.startsWith(PREFIX) ? modelName : PREFIX + modelName;
        if (!NAMES.contains(name))
            throw new IllegalArgumentException("unknown MindONE FiT model_name '" + modelName + "' (expected one of FiT-XL/2, FiT-XL/4, ..., FiT-S/8)");
        return name;
    }

    static ShapeParams declared(MindOneFiTConfig cfg) {
        ShapeParams p = new ShapeParams();
        new MindOneFiT(p, cfg, 1);
        return p;
    }

    @Override
    public Map<String, long[]> shapes(ModelConfig cfg) {
        return declared(fit(cfg)).shapes();
    }

    @Override
    public Set<String> buffers(ModelConfig cfg) {
        return Set.of();
    }

    /** {@code FiT.initialize_weights}: DiT's (Xavier linears, zero biases, N(0, 0.02) table and timestep MLP, adaLN-Zero). */
    @Override
    public Map<String, INDArray> initialWeights(ModelConfig cfg, long seed) {
        return AdaLnZeroInit.weights(declared(fit(cfg)), Map.of(), seed);
    }

    @Override
    public Denoiser create(ModelConfig cfg, Map<String, INDArray> weights, String source) {
        return MindOneFiTModel.fromStateDict(fit(cfg), weights, source);
    }

    private static String bare(String key) {
        return key.startsWith("network.") ? key.substring(8) : key;
    }

    /** A token {@code Dense} named {@code x_embedder.weight} (DiT and FiTv1 have {@code x_embedder.proj.*}) and FiT blocks. */
    @Override
    public boolean recognizes(Map<String, INDArray> raw) {
        boolean embedder = false, blocks = false;
        for (Map.Entry<String, INDArray> e : raw.entrySet()) {
            String k = bare(e.getKey());
            if (k.equals("x_embedder.weight") && e.getValue().rank() == 2) embedder = true;
            if (k.startsWith("blocks.0.ffn.")) blocks = true;
        }
        return embedder && blocks;
    }

    /** {@code official} for files under exactly dit4j's (MindSpore) names; {@code mindspore} for prefixed, optimizer-laden or torch-named ones. */
    @Override
    public String naming(WeightsFormat format, Map<String, INDArray> raw) {
        boolean foreign = format == WeightsFormat.MINDSPORE || raw.containsKey("y_embedder.embedding_table.weight")
                || raw.keySet().stream().anyMatch(k -> k.startsWith("network."));
        return foreign ? "mindspore" : "official";
    }

    @Override
    public Map<String, INDArray> toOfficial(Map<String, INDArray> raw, String naming, String source) {
        return KeyMapping.load("fit-mindone-" + naming).toOfficial(raw, depth(raw), 0, source);
    }

    @Override
    public void addMissingBuffers(ModelConfig cfg, Map<String, INDArray> official) {}

    private static int depth(Map<String, INDArray> w) {
        int depth = 0;
        for (String k : w.keySet()) {
            Matcher m = BLOCK.matcher(bare(k));
            if (m.find()) depth = Math.max(depth, Integer.parseInt(m.group(1)) + 1);
        }
        return depth;
    }

    /**
     * The constructor arguments recovered from tensor shapes: heads from the official widths, 4 latent channels, the SwiGLU
     * or MLP ratio from the hidden width. {@code pos} and {@code input_size} are not in the weights: MindONE's defaults
     * ({@code rotate}, 256×256 images) unless a config or the inference YAML's {@code embed_method}/{@code image_size} say otherwise.
     */
    @Override
    public ModelConfig infer(Map<String, INDArray> w, String source) {
        INDArray x = w.get("x_embedder.weight"), fin = w.get("final_layer.linear.weight"), table = w.get(TABLE);
        INDArray fc1g = w.get("blocks.0.ffn.fc1_g.weight"), fc1 = w.get("blocks.0.ffn.fc1.weight");
        if (x == null || x.rank() != 2 || fin == null || table == null || (fc1g == null && fc1 == null))
            throw new UnknownArchitectureException(source + ": not MindONE FiT weights (x_embedder, blocks, final_layer and y_embedder expected), so the architecture must be named");
        int hidden = (int) x.size(0), tokenChannels = (int) x.size(1);
        Integer heads = OFFICIAL_HEADS.get(hidden);
        if (heads == null)
            throw new UnknownArchitectureException(source + ": hidden size " + hidden + " is not an official FiT width, so the head count is unknown and a model config must give it");
        int in = 4, p = (int) Math.round(Math.sqrt(tokenChannels / (double) in));
        if (p * p * in != tokenChannels)
            throw new UnknownArchitectureException(source + ": " + tokenChannels + " channels per token is not p·p·4, so the patch size and channels must be named");
        int out = (int) (fin.size(0) / ((long) p * p));
        boolean swiglu = fc1g != null;
        int mlpHidden = (int) (swiglu ? fc1g : fc1).size(0);
        double ratio = swiglu ? swigluRatio(hidden, mlpHidden, source) : (double) mlpHidden / hidden;
        return new MindOneFiTConfig(p, in, hidden, depth(w), heads, ratio, 0.1, (int) table.size(0) - 1, out == 2 * in,
                swiglu ? "swiglu" : "mlp", "rotate", 32);
    }

    /** The mlp_ratio r with int(D·r·2/3) = the SwiGLU width: 4 (MindONE's only value) when it fits, else 1.5·width/D. */
    private static double swigluRatio(int hidden, int width, String source) {
        for (double r : new double[]{4.0, 1.5 * width / hidden, 1.5 * (width + 0.5) / hidden})
            if ((int) (hidden * r * 2 / 3) == width) return r;
        throw new UnknownArchitectureException(source + ": SwiGLU width " + width + " is no int(D·mlp_ratio·2/3), so mlp_ratio must be named");
    }

    @Override
    public ModelConfig readDiffusersConfig(Path dir, Map<String, INDArray> official) {
        throw new IllegalArgumentException(dir + ": diffusers has no FiT model");
    }

    @Override
    public void writeDiffusers(Path dir, ModelConfig cfg, Map<String, INDArray> official) {
        throw new IllegalArgumentException("diffusers has no FiT model; convert MindONE's FiT to mindspore, dit4j or safetensors");
    }

    static MindOneFiTConfig fit(ModelConfig cfg) {
        if (cfg instanceof MindOneFiTConfig f) return f;
        throw new IllegalArgumentException("a " + cfg.family() + " config given to the MindONE FiT family");
    }
}
