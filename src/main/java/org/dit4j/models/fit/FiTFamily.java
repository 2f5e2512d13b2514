package org.dit4j.models.fit;

import org.dit4j.io.WeightsFormat;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamily;
import org.dit4j.models.UnknownArchitectureException;
import org.dit4j.models.nn.AdaLnZeroInit;
import org.dit4j.models.nn.ShapeParams;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** FiTv1 (whlzy/FiT {@code fit_model.py}): its configs, parameters, initialisation and weight files. */
public final class FiTFamily implements ModelFamily {
    public static final String NAME = "fit";
    /** The released architecture; its config is {@code configs/fit/config_fit_xl.yaml}'s {@code network_config}. */
    public static final List<String> NAMES = List.of("FiT-XL/2");
    /** Official widths → heads (not recoverable from the weights alone). */
    private static final Map<Integer, Integer> OFFICIAL_HEADS = Map.of(384, 6, 768, 12, 1024, 16, 1152, 16);
    private static final Pattern BLOCK = Pattern.compile("^blocks\\.(\\d+)\\.");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ModelConfig parseConfig(Map<?, ?> m, String source) {
        return FiTConfig.fromMap(m, source);
    }

    @Override
    public List<String> modelNames() {
        return NAMES;
    }

    @Override
    public ModelConfig named(String name) {
        if (!NAMES.contains(name)) throw new IllegalArgumentException("unknown FiT model '" + name + "' (expected one of " + NAMES + ")");
        String resource = "/configs/models/" + name.replace('/', '-') + ".yaml";
        try (InputStream in = FiTFamily.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("model config resource " + resource + " is missing from the build");
            return org.dit4j.models.ModelFamilies.load(in, resource);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static ShapeParams declared(FiTConfig cfg) {
        ShapeParams p = new ShapeParams();
        new FiT(p, cfg, cfg.contextSize());
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

    @Override
    public Map<String, INDArray> initialWeights(ModelConfig cfg, long seed) {
        return AdaLnZeroInit.weights(declared(fit(cfg)), Map.of(), seed);
    }

    @Override
    public Denoiser create(ModelConfig cfg, Map<String, INDArray> weights, String source) {
        return FiTModel.fromStateDict(fit(cfg), weights, source);
    }

    /** A FiTv1 state dict: a token Linear (not DiT's patch conv) and no position table. */
    @Override
    public boolean recognizes(Map<String, INDArray> raw) {
        INDArray proj = raw.get("x_embedder.proj.weight");
        return proj != null && proj.rank() == 2 && !raw.containsKey("pos_embed") && raw.containsKey("blocks.0.attn.qkv.weight");
    }

    /** FiTv1 files (torch, safetensors, dit4j) use the official names; MindONE's FiT is another family. */
    @Override
    public String naming(WeightsFormat format, Map<String, INDArray> raw) {
        if (format == WeightsFormat.MINDSPORE)
            throw new IllegalArgumentException("a MindSpore checkpoint holds MindONE's FiT, which is not weight-compatible with FiTv1 (family fit-mindone)");
        return "official";
    }

    @Override
    public Map<String, INDArray> toOfficial(Map<String, INDArray> raw, String naming, String source) {
        return raw;
    }

    @Override
    public void addMissingBuffers(ModelConfig cfg, Map<String, INDArray> official) {}

    /** The constructor arguments recovered from tensor shapes; {@code context_size} (not in the weights) is the official 256. */
    @Override
    public ModelConfig infer(Map<String, INDArray> w, String source) {
        INDArray proj = w.get("x_embedder.proj.weight"), fin = w.get("final_layer.linear.weight"), table = w.get("y_embedder.embedding_table.weight");
        INDArray fc1g = w.get("blocks.0.mlp.fc1_g.weight"), fc1 = w.get("blocks.0.mlp.fc1.weight");
        if (proj == null || proj.rank() != 2 || fin == null || table == null || (fc1g == null && fc1 == null))
            throw new UnknownArchitectureException(source + ": not FiT weights (x_embedder, blocks, final_layer and y_embedder expected), so the architecture must be named");
        int hidden = (int) proj.size(0), tokenChannels = (int) proj.size(1);
        Integer heads = OFFICIAL_HEADS.get(hidden);
        if (heads == null)
            throw new UnknownArchitectureException(source + ": hidden size " + hidden + " is not an official FiT width, so the head count is unknown and a model config must give it");
        int in = 4, p = (int) Math.round(Math.sqrt(tokenChannels / (double) in));
        if (p * p * in != tokenChannels)
            throw new UnknownArchitectureException(source + ": " + tokenChannels + " channels per token is not p·p·4, so the patch size and channels must be named");
        int out = (int) (fin.size(0) / ((long) p * p));
        boolean swiglu = fc1g != null;
        int mlpHidden = (int) (swiglu ? fc1g : fc1).size(0);
        boolean large = swiglu && mlpHidden == 4 * hidden;
        double ratio = swiglu ? 4.0 : (double) mlpHidden / hidden;
        int depth = 0;
        for (String k : w.keySet()) {
            Matcher m = BLOCK.matcher(k);
            if (m.find()) depth = Math.max(depth, Integer.parseInt(m.group(1)) + 1);
        }
        int rows = (int) table.size(0);
        return new FiTConfig(256, p, in, hidden, depth, heads, ratio, 0.1, rows - 1, out == 2 * in, swiglu, large,
                w.containsKey("blocks.0.attn.qkv.bias"), w.containsKey("blocks.0.mlp." + (swiglu ? "fc1_g" : "fc1") + ".bias"),
                w.containsKey("blocks.0.adaLN_modulation.1.bias"), 10000.0, "normal", false, 0, 0, 0, 1, false);
    }

    @Override
    public void writeMindSpore(Path out, ModelConfig cfg, Map<String, INDArray> official) {
        throw new IllegalArgumentException("MindONE runs its own FiT (family fit-mindone), which cannot hold FiTv1 weights; convert FiTv1 to dit4j or safetensors");
    }

    @Override
    public ModelConfig readDiffusersConfig(Path dir, Map<String, INDArray> official) {
        throw new IllegalArgumentException(dir + ": diffusers has no FiT model");
    }

    @Override
    public void writeDiffusers(Path dir, ModelConfig cfg, Map<String, INDArray> official) {
        throw new IllegalArgumentException("diffusers has no FiT model; convert FiT to dit4j or safetensors");
    }

    static FiTConfig fit(ModelConfig cfg) {
        if (cfg instanceof FiTConfig f) return f;
        throw new IllegalArgumentException("a " + cfg.family() + " config given to the FiT family");
    }
}
