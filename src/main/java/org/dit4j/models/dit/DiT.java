package org.dit4j.models.dit;

import org.dit4j.models.nn.FinalLayer;
import org.dit4j.models.nn.LabelEmbedder;
import org.dit4j.models.nn.Params;
import org.dit4j.models.nn.PatchEmbed;
import org.dit4j.models.nn.TimestepEmbedder;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Diffusion model with a Transformer backbone ({@code models.py}): the one definition used by sampling, training and
 * every runtime. It is three stages — {@link Stem}, the {@link DiTBlock}s, {@link Head} — that training can also build
 * one at a time.
 */
public final class DiT {
    private final Stem stem;
    private final List<DiTBlock> blocks = new ArrayList<>();
    private final Head head;

    /** Declares every parameter through {@code p}, in the official state-dict order. */
    public DiT(Params p, DiTConfig cfg) {
        this(p, cfg, cfg.gridSize(), cfg.gridSize());
    }

    /** The same network over a gridH × gridW grid of patches (its {@code pos_embed} then has gridH·gridW rows). */
    public DiT(Params p, DiTConfig cfg, int gridH, int gridW) {
        this.stem = new Stem(p, cfg, gridH, gridW);
        for (int i = 0; i < cfg.depth(); i++) blocks.add(new DiTBlock(p, "blocks." + i, cfg, gridH * gridW));
        this.head = new Head(p, cfg, gridH, gridW);
    }

    /** The tokens entering the first block and the conditioning vector every block reads. */
    public record Embedded(SDVariable tokens, SDVariable c) {}

    /** Everything before the blocks: {@code pos_embed}, {@code x_embedder}, {@code t_embedder}, {@code y_embedder}. */
    public static final class Stem {
        private final SDVariable posEmbed;   // (1, T, D), frozen
        private final PatchEmbed xEmbedder;
        private final TimestepEmbedder tEmbedder;
        private final LabelEmbedder yEmbedder;

        public Stem(Params p, DiTConfig cfg) {
            this(p, cfg, cfg.gridSize(), cfg.gridSize());
        }

        public Stem(Params p, DiTConfig cfg, int gridH, int gridW) {
            // nn.Module.state_dict lists a module's own parameters before its submodules': pos_embed comes first.
            this.posEmbed = p.buffer("pos_embed", 1, (long) gridH * gridW, cfg.hiddenSize());
            this.xEmbedder = new PatchEmbed(p, "x_embedder", cfg.inChannels(), cfg.patchSize(), cfg.hiddenSize(), gridH, gridW);
            this.tEmbedder = new TimestepEmbedder(p, cfg.hiddenSize());
            this.yEmbedder = new LabelEmbedder(p, "y_embedder", cfg.labelTableRows(), cfg.hiddenSize());
        }

        /** x (N, C, H, W), tFreq (N, 256) = the timestep sinusoid, y (N) int64 or (N, num_classes + 1) one-hot. */
        public Embedded apply(SDVariable x, SDVariable tFreq, SDVariable y, boolean oneHot) {
            SDVariable tokens = xEmbedder.apply(x).rename("patch_embed_out");        // (N, T, D)
            tokens = tokens.add(posEmbed).rename("tokens_in");                      // (N, T, D)
            SDVariable t = tEmbedder.apply(tFreq).rename("t_emb");                  // (N, D)
            SDVariable yEmb = (oneHot ? yEmbedder.applyOneHot(y) : yEmbedder.apply(y)).rename("y_emb");   // (N, D)
            return new Embedded(tokens, t.add(yEmb).rename("c"));                   // (N, T, D), (N, D)
        }
    }

    /** Everything after the blocks: {@code final_layer} and unpatchify. */
    public static final class Head {
        private final FinalLayer finalLayer;
        private final DiTConfig cfg;
        private final int gridH, gridW;

        public Head(Params p, DiTConfig cfg) {
            this(p, cfg, cfg.gridSize(), cfg.gridSize());
        }

        public Head(Params p, DiTConfig cfg, int gridH, int gridW) {
            this.cfg = cfg;
            this.gridH = gridH;
            this.gridW = gridW;
            this.finalLayer = new FinalLayer(p, cfg.hiddenSize(), (long) cfg.patchSize() * cfg.patchSize() * cfg.outChannels(), gridH * gridW, true);
        }

        /** tokens (N, T, D), c (N, D) → (N, out_channels, H, W). */
        public SDVariable apply(SDVariable tokens, SDVariable c) {
            SDVariable out = finalLayer.apply(tokens, c).rename("final_layer_out");  // (N, T, p·p·out)
            return unpatchify(tokens.getSameDiff(), out);                            // (N, out, H, W)
        }

        /** (N, T, p·p·c) → (N, c, H, W), the official einsum 'nhwpqc->nchpwq'. */
        private SDVariable unpatchify(SameDiff sd, SDVariable x) {
            int c = cfg.outChannels(), p = cfg.patchSize();
            SDVariable img = sd.reshape(x, -1, gridH, gridW, p, p, c);            // (N, h, w, p, q, c)
            img = sd.permute(img, 0, 5, 1, 3, 2, 4);                              // (N, c, h, p, w, q)
            return sd.reshape(img, -1, c, (long) gridH * p, (long) gridW * p);    // (N, c, H, W)
        }
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
        Embedded e = stem.apply(x, tFreq, y, oneHot);
        SDVariable tokens = e.tokens();
        for (int i = 0; i < blocks.size(); i++)
            tokens = blocks.get(i).apply(tokens, e.c()).rename("blocks." + i + ".out");   // (N, T, D)
        return head.apply(tokens, e.c());
    }

    /**
     * FORA's step between refreshes ({@code boost_infer_static}): as {@link #forward(SDVariable, SDVariable, SDVariable)},
     * but block i adds {@code cachedAttn.get(i)} and {@code cachedMlp.get(i)} (N, T, D), its attn_out and mlp_out of the
     * last full step, instead of computing attention and MLP.
     */
    public SDVariable forwardCached(SDVariable x, SDVariable tFreq, SDVariable y, List<SDVariable> cachedAttn, List<SDVariable> cachedMlp) {
        Embedded e = stem.apply(x, tFreq, y, false);
        SDVariable tokens = e.tokens();
        for (int i = 0; i < blocks.size(); i++)
            tokens = blocks.get(i).applyCached(tokens, e.c(), cachedAttn.get(i), cachedMlp.get(i)).rename("blocks." + i + ".out");   // (N, T, D)
        return head.apply(tokens, e.c());
    }

    public List<DiTBlock> blocks() {
        return Collections.unmodifiableList(blocks);
    }
}
