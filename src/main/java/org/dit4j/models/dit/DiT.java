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
        this.stem = new Stem(p, cfg);
        for (int i = 0; i < cfg.depth(); i++) blocks.add(new DiTBlock(p, "blocks." + i, cfg));
        this.head = new Head(p, cfg);
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
            // nn.Module.state_dict lists a module's own parameters before its submodules': pos_embed comes first.
            this.posEmbed = p.buffer("pos_embed", 1, cfg.numPatches(), cfg.hiddenSize());
            this.xEmbedder = new PatchEmbed(p, "x_embedder", cfg.inChannels(), cfg.patchSize(), cfg.hiddenSize(), cfg.gridSize(), cfg.gridSize());
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

        public Head(Params p, DiTConfig cfg) {
            this.cfg = cfg;
            this.finalLayer = new FinalLayer(p, cfg.hiddenSize(), (long) cfg.patchSize() * cfg.patchSize() * cfg.outChannels(), cfg.numPatches(), true);
        }

        /** tokens (N, T, D), c (N, D) → (N, out_channels, H, W). */
        public SDVariable apply(SDVariable tokens, SDVariable c) {
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

    public List<DiTBlock> blocks() {
        return Collections.unmodifiableList(blocks);
    }
}
