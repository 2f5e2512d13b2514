package org.dit4j.models;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Diffusion model with a Transformer backbone: the one definition used by sampling, training and every runtime. */
public final class DiT {
    private final DiTConfig cfg;
    private final PatchEmbed xEmbedder;
    private final SDVariable posEmbed;   // (1, T, D), frozen
    private final TimestepEmbedder tEmbedder;
    private final LabelEmbedder yEmbedder;
    private final List<DiTBlock> blocks = new ArrayList<>();
    private final FinalLayer finalLayer;

    /** Declares every parameter through {@code p}, in the official state-dict order. */
    public DiT(Params p, DiTConfig cfg) {
        this.cfg = cfg;
        this.posEmbed = p.buffer("pos_embed", 1, cfg.numPatches(), cfg.hiddenSize());
        this.xEmbedder = new PatchEmbed(p, cfg);
        this.tEmbedder = new TimestepEmbedder(p, cfg.hiddenSize());
        this.yEmbedder = new LabelEmbedder(p, cfg);
        for (int i = 0; i < cfg.depth(); i++) blocks.add(new DiTBlock(p, "blocks." + i, cfg));
        this.finalLayer = new FinalLayer(p, cfg);
    }

    public DiTConfig config() {
        return cfg;
    }

    /**
     * x (N, C, H, W), tFreq (N, 256) = the timestep sinusoid, y (N) int64 → (N, out_channels, H, W).
     * Named intermediates: patch_embed_out, tokens_in, t_emb, y_emb, c, blocks.i.*, final_layer_out.
     */
    public SDVariable forward(SDVariable x, SDVariable tFreq, SDVariable y) {
        return forward(x, tFreq, y, false);
    }

    /** As {@link #forward(SDVariable, SDVariable, SDVariable)} with labels given one-hot: y (N, num_classes + 1) float. */
    public SDVariable forwardOneHot(SDVariable x, SDVariable tFreq, SDVariable yOneHot) {
        return forward(x, tFreq, yOneHot, true);
    }

    private SDVariable forward(SDVariable x, SDVariable tFreq, SDVariable y, boolean oneHot) {
        Embedded e = embed(x, tFreq, y, oneHot);
        SDVariable tokens = e.tokens();
        for (int i = 0; i < blocks.size(); i++)
            tokens = blocks.get(i).apply(tokens, e.c()).rename("blocks." + i + ".out");   // (N, T, D)
        return head(tokens, e.c());
    }

    /** The tokens entering the first block and the conditioning vector every block reads. */
    public record Embedded(SDVariable tokens, SDVariable c) {}

    /** The stage before the blocks: x (N, C, H, W), tFreq (N, 256), y (N) int64 or (N, num_classes + 1) one-hot. */
    public Embedded embed(SDVariable x, SDVariable tFreq, SDVariable y, boolean oneHot) {
        SDVariable tokens = xEmbedder.apply(x).rename("patch_embed_out");        // (N, T, D)
        tokens = tokens.add(posEmbed).rename("tokens_in");                      // (N, T, D)
        SDVariable t = tEmbedder.apply(tFreq).rename("t_emb");                  // (N, D)
        SDVariable yEmb = (oneHot ? yEmbedder.applyOneHot(y) : yEmbedder.apply(y)).rename("y_emb");   // (N, D)
        return new Embedded(tokens, t.add(yEmb).rename("c"));                   // (N, T, D), (N, D)
    }

    public List<DiTBlock> blocks() {
        return Collections.unmodifiableList(blocks);
    }

    /** The stage after the blocks: tokens (N, T, D), c (N, D) → (N, out_channels, H, W). */
    public SDVariable head(SDVariable tokens, SDVariable c) {
        SDVariable out = finalLayer.apply(tokens, c).rename("final_layer_out");  // (N, T, p·p·out)
        return unpatchify(tokens.getSameDiff(), out);                            // (N, out, H, W)
    }

    /** (N, T, p·p·c) → (N, c, H, W), the official einsum 'nhwpqc->nchpwq'. */
    private SDVariable unpatchify(SameDiff sd, SDVariable x) {
        int c = cfg.outChannels(), p = cfg.patchSize(), g = cfg.gridSize();
        SDVariable img = sd.reshape(x, -1, g, g, p, p, c);          // (N, h, w, p, q, c)
        img = sd.permute(img, 0, 5, 1, 3, 2, 4);                    // (N, c, h, p, w, q)
        return sd.reshape(img, -1, c, (long) g * p, (long) g * p);  // (N, c, H, W)
    }
}
