package org.dit4j.models.uvit;

import org.dit4j.models.nn.Conv2d;
import org.dit4j.models.nn.Embedding;
import org.dit4j.models.nn.LayerNorm;
import org.dit4j.models.nn.Linear;
import org.dit4j.models.nn.Ops;
import org.dit4j.models.nn.Params;
import org.dit4j.models.nn.PatchEmbed;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * U-ViT ({@code libs/uvit.py}, and {@code libs/uvit_t2i.py} for text-to-image): time, condition and patches are all
 * tokens; {@code depth // 2} in-blocks, a mid-block and {@code depth // 2} out-blocks, each out-block taking the output
 * of its mirror in-block (LIFO) through a long skip. Three stages — {@link Stem}, the blocks, {@link Head} — that
 * training can also build one at a time. Every parameter is declared in the official state-dict order.
 */
public final class UViT {
    private final Stem stem;
    private final List<UViTBlock> inBlocks = new ArrayList<>(), outBlocks = new ArrayList<>();
    private final UViTBlock midBlock;
    private final Head head;

    public UViT(Params p, UViTConfig cfg) {
        stem = new Stem(p, cfg);
        for (int i = 0; i < cfg.depth() / 2; i++) inBlocks.add(new UViTBlock(p, "in_blocks." + i, cfg, false));
        midBlock = new UViTBlock(p, "mid_block", cfg, false);
        for (int i = 0; i < cfg.depth() / 2; i++) outBlocks.add(new UViTBlock(p, "out_blocks." + i, cfg, cfg.skip()));
        head = new Head(p, cfg);
    }

    /**
     * Everything before the blocks: {@code pos_embed} (a parameter of the module itself, so first in the state dict),
     * {@code patch_embed}, {@code time_embed} (with {@code mlp_time_embed}), {@code label_emb} or {@code context_embed}.
     */
    public static final class Stem {
        private final UViTConfig cfg;
        private final SDVariable posEmbed;   // (1, extras + L, D), trainable
        private final PatchEmbed patchEmbed;
        private final Linear timeFc1, timeFc2;   // null without mlp_time_embed
        private final Embedding labelEmb;        // class-conditional only
        private final Linear contextEmbed;       // t2i only

        public Stem(Params p, UViTConfig cfg) {
            this.cfg = cfg;
            int d = cfg.embedDim();
            posEmbed = p.weight("pos_embed", 1, cfg.numTokens(), d);
            patchEmbed = new PatchEmbed(p, "patch_embed", cfg.inChans(), cfg.patchSize(), d, cfg.gridSize(), cfg.gridSize());
            timeFc1 = cfg.mlpTimeEmbed() ? new Linear(p, "time_embed.0", d, 4L * d) : null;
            timeFc2 = cfg.mlpTimeEmbed() ? new Linear(p, "time_embed.2", 4L * d, d) : null;
            labelEmb = cfg.hasLabels() ? new Embedding(p, "label_emb", cfg.numClassesArg(), d) : null;
            contextEmbed = cfg.isT2I() ? new Linear(p, "context_embed", cfg.clipDim(), d) : null;
        }

        /**
         * x (N, C, H, W), tEmb (N, D) = {@code timestep_embedding(t, D)}, y (N) int64 (class models) or context
         * (N, num_clip_token, clip_dim) (t2i) → the tokens entering the first block (N, extras + L, D).
         */
        public SDVariable apply(SDVariable x, SDVariable tEmb, SDVariable y, SDVariable context) {
            SameDiff sd = x.getSameDiff();
            long d = cfg.embedDim();
            SDVariable patches = patchEmbed.apply(x).rename("patch_embed_out");                       // (N, L, D)
            SDVariable time = cfg.mlpTimeEmbed() ? timeFc2.apply(Ops.silu(sd, timeFc1.apply(tEmb))) : sd.identity(tEmb);   // (N, D)
            time = sd.reshape(time.rename("time_token"), -1, 1, d);                                  // (N, 1, D)
            SDVariable tokens;
            if (cfg.isT2I()) {
                SDVariable ctx = contextEmbed.applyTokens(context, cfg.numClipToken()).rename("context_token");   // (N, Lc, D)
                tokens = sd.concat(1, time, ctx, patches);                                            // (N, 1 + Lc + L, D)
            } else if (cfg.hasLabels()) {
                SDVariable label = sd.reshape(labelEmb.apply(y).rename("label_emb"), -1, 1, d);        // (N, 1, D)
                tokens = sd.concat(1, label, time, patches);                                          // (N, 2 + L, D)
            } else {
                tokens = sd.concat(1, time, patches);                                                 // (N, 1 + L, D)
            }
            return tokens.add(posEmbed).rename("tokens_in");                                          // (N, T, D)
        }
    }

    /** Everything after the blocks: {@code norm}, {@code decoder_pred}, dropping the extra tokens, unpatchify, {@code final_layer}. */
    public static final class Head {
        private final UViTConfig cfg;
        private final LayerNorm norm;
        private final Linear decoderPred;
        private final Conv2d finalLayer;   // null without conv

        public Head(Params p, UViTConfig cfg) {
            this.cfg = cfg;
            norm = new LayerNorm(p, "norm", cfg.embedDim(), 2, UViTBlock.NORM_EPS);
            decoderPred = new Linear(p, "decoder_pred", cfg.embedDim(), cfg.patchDim());
            int s = cfg.imgSize();
            finalLayer = cfg.conv() ? new Conv2d(p, "final_layer", cfg.inChans(), cfg.inChans(), 3, s, s) : null;
        }

        /** tokens (N, T, D) → ε (N, C, H, W). */
        public SDVariable apply(SDVariable tokens) {
            SameDiff sd = tokens.getSameDiff();
            SDVariable x = norm.apply(tokens).rename("norm_out");                                    // (N, T, D)
            x = decoderPred.applyTokens(x, cfg.numTokens()).rename("decoder_pred_out");              // (N, T, p·p·C)
            x = x.get(SDIndex.all(), SDIndex.interval(cfg.extras(), cfg.numTokens()), SDIndex.all());   // (N, L, p·p·C)
            x = unpatchify(sd, x).rename("unpatchify_out");                                          // (N, C, H, W)
            return finalLayer != null ? finalLayer.apply(x) : x;                                     // (N, C, H, W)
        }

        /** {@code 'B (h w) (p1 p2 C) -> B C (h p1) (w p2)'}. */
        private SDVariable unpatchify(SameDiff sd, SDVariable x) {
            int c = cfg.inChans(), p = cfg.patchSize(), g = cfg.gridSize();
            SDVariable img = sd.reshape(x, -1, g, g, p, p, c);           // (N, h, w, p1, p2, C)
            img = sd.permute(img, 0, 5, 1, 3, 2, 4);                     // (N, C, h, p1, w, p2)
            return sd.reshape(img, -1, c, (long) g * p, (long) g * p);   // (N, C, H, W)
        }
    }

    /**
     * x (N, C, H, W), tEmb (N, D), y (N) int64 or null, context (N, Lc, clip_dim) or null → ε (N, C, H, W). Named
     * intermediates: patch_embed_out, time_token, label_emb / context_token, tokens_in, in_blocks.i.out, mid_block.out,
     * out_blocks.i.skip_linear_out, out_blocks.i.out, norm_out, decoder_pred_out, unpatchify_out.
     */
    public SDVariable forward(SDVariable x, SDVariable tEmb, SDVariable y, SDVariable context) {
        SDVariable tokens = stem.apply(x, tEmb, y, context);                                  // (N, T, D)
        java.util.Deque<SDVariable> skips = new java.util.ArrayDeque<>();
        for (int i = 0; i < inBlocks.size(); i++) {
            tokens = inBlocks.get(i).apply(tokens, null).rename("in_blocks." + i + ".out");   // (N, T, D)
            skips.push(tokens);
        }
        tokens = midBlock.apply(tokens, null).rename("mid_block.out");                        // (N, T, D)
        for (int i = 0; i < outBlocks.size(); i++)
            tokens = outBlocks.get(i).apply(tokens, skips.pop()).rename("out_blocks." + i + ".out");   // (N, T, D)
        return head.apply(tokens);                                                            // (N, C, H, W)
    }

    public Stem stem() {
        return stem;
    }

    public Head head() {
        return head;
    }

    public List<UViTBlock> inBlocks() {
        return Collections.unmodifiableList(inBlocks);
    }

    public UViTBlock midBlock() {
        return midBlock;
    }

    public List<UViTBlock> outBlocks() {
        return Collections.unmodifiableList(outBlocks);
    }
}
