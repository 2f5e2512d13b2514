package org.dit4j.models.uvit;

import org.dit4j.io.WeightsFormat;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamily;
import org.dit4j.models.UnknownArchitectureException;
import org.dit4j.models.nn.ShapeParams;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * U-ViT (baofff/U-ViT): {@code uvit} is {@code libs/uvit.py} (unconditional or class-conditional, pixel or latent),
 * {@code uvit-t2i} is {@code libs/uvit_t2i.py}. One class, two registry entries. Weights are the official
 * {@code nnet.pth} / {@code nnet_ema.pth} state dicts, loaded strictly under their own names; there is no buffer
 * ({@code pos_embed} is trained) and no diffusers layout.
 */
public final class UViTFamily implements ModelFamily {
    public static final String NAME = "uvit", T2I = "uvit-t2i";
    /** The released widths → heads (the head count is not in the weights). */
    /** The released text-to-image checkpoints are MS-COCO's, trained on latents × 0.23010 ({@code configs/mscoco_uvit_small.py}). */
    static final double MSCOCO_SCALE_FACTOR = 0.23010;
    private static final Map<Integer, Integer> OFFICIAL_HEADS = Map.of(512, 8, 768, 12, 1024, 16, 1152, 16);
    private static final Pattern BLOCK = Pattern.compile("^(in|out)_blocks\\.(\\d+)\\.");
    private final String name;

    public UViTFamily(String name) {
        if (!name.equals(NAME) && !name.equals(T2I)) throw new IllegalArgumentException("not a U-ViT family: " + name);
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ModelConfig parseConfig(Map<?, ?> m, String source) {
        return UViTConfig.fromMap(name, m, source);
    }

    @Override
    public List<String> modelNames() {
        return UViTModels.names(name);
    }

    @Override
    public ModelConfig named(String model) {
        return UViTModels.get(name, model);
    }

    static ShapeParams declared(UViTConfig cfg) {
        ShapeParams p = new ShapeParams();
        new UViT(p, cfg);
        return p;
    }

    @Override
    public Map<String, long[]> shapes(ModelConfig cfg) {
        return declared(uvit(cfg)).shapes();
    }

    @Override
    public Set<String> buffers(ModelConfig cfg) {
        return Set.of();
    }

    @Override
    public Map<String, INDArray> initialWeights(ModelConfig cfg, long seed) {
        return UViTInit.weights(uvit(cfg), seed);
    }

    @Override
    public Denoiser create(ModelConfig cfg, Map<String, INDArray> weights, String source) {
        return UViTModel.fromStateDict(uvit(cfg), weights, source);
    }

    /** U-ViT's own files are the only layout. */
    @Override
    public String naming(WeightsFormat format, Map<String, INDArray> raw) {
        return "official";
    }

    @Override
    public Map<String, INDArray> toOfficial(Map<String, INDArray> raw, String naming, String source) {
        throw new IllegalArgumentException(source + ": U-ViT weights have no '" + naming + "' layout (only U-ViT's own nnet.pth names)");
    }

    @Override
    public void addMissingBuffers(ModelConfig cfg, Map<String, INDArray> official) {}

    /**
     * The constructor arguments recovered from tensor shapes; the head count from the released widths, and for t2i
     * models 77 context tokens (what every release uses); depth 2k and 2k + 1 build the same blocks, and the
     * even one (every release's) is returned. {@code schedule} and {@code p_uncond} are not in the weights:
     * they take the family's defaults, so sampling a released checkpoint wants its {@code configs/models} YAML.
     */
    @Override
    public ModelConfig infer(Map<String, INDArray> w, String source) {
        INDArray proj = w.get("patch_embed.proj.weight"), pos = w.get("pos_embed"), fc1 = w.get("mid_block.mlp.fc1.weight");
        if (proj == null || proj.rank() != 4 || pos == null || pos.rank() != 3 || fc1 == null || w.get("decoder_pred.weight") == null)
            throw new UnknownArchitectureException(source + ": not U-ViT weights (pos_embed, patch_embed, mid_block and decoder_pred expected), so the architecture must be named");
        boolean t2i = name.equals(T2I);
        if (t2i != w.containsKey("context_embed.weight"))
            throw new UnknownArchitectureException(source + ": " + (t2i ? "no context_embed: not a text-to-image U-ViT" : "context_embed found: a text-to-image U-ViT (family uvit-t2i)"));
        int dim = (int) proj.size(0), in = (int) proj.size(1), p = (int) proj.size(2);
        Integer heads = OFFICIAL_HEADS.get(dim);
        if (heads == null)
            throw new UnknownArchitectureException(source + ": embed_dim " + dim + " is not a released U-ViT width, so the head count is unknown and a model config must give it");
        INDArray label = w.get("label_emb.weight"), ctx = w.get("context_embed.weight");
        int clipTokens = 77;
        int extras = t2i ? 1 + clipTokens : label != null ? 2 : 1;
        long patches = pos.size(1) - extras;
        int grid = (int) Math.round(Math.sqrt(Math.max(patches, 0)));
        if (patches <= 0 || (long) grid * grid != patches)
            throw new UnknownArchitectureException(source + ": pos_embed has " + pos.size(1) + " tokens, not " + extras + " extras and a square grid, so a model config must give the architecture");
        int blocks = 0;
        for (String k : w.keySet()) {
            Matcher m = BLOCK.matcher(k);
            if (m.find() && m.group(1).equals("in")) blocks = Math.max(blocks, Integer.parseInt(m.group(2)) + 1);
        }
        return new UViTConfig(name, grid * p, p, in, dim, Math.max(1, 2 * blocks), heads, (double) fc1.size(0) / dim,
                w.containsKey("mid_block.attn.qkv.bias"), w.containsKey("time_embed.0.weight"),
                label == null ? -1 : (int) label.size(0), ctx == null ? 768 : (int) ctx.size(1), clipTokens,
                w.containsKey("final_layer.weight"), blocks == 0 || w.containsKey("out_blocks.0.skip_linear.weight"), false,
                t2i ? UViTConfig.DISCRETE : UViTConfig.CONTINUOUS, 0, t2i ? MSCOCO_SCALE_FACTOR : UViTConfig.DEFAULT_SCALE_FACTOR,
                UViTConfig.Sample.DEFAULT);
    }

    @Override
    public ModelConfig readDiffusersConfig(Path dir, Map<String, INDArray> official) {
        throw new IllegalArgumentException(dir + ": U-ViT has no diffusers layout");
    }

    @Override
    public void writeDiffusers(Path dir, ModelConfig cfg, Map<String, INDArray> official) {
        throw new IllegalArgumentException("U-ViT has no diffusers layout (write dit4j or safetensors)");
    }

    static UViTConfig uvit(ModelConfig cfg) {
        if (cfg instanceof UViTConfig u) return u;
        throw new IllegalArgumentException("a " + cfg.family() + " config given to the U-ViT family");
    }
}
