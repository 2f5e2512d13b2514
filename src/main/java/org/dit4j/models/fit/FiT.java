package org.dit4j.models.fit;

import org.dit4j.models.nn.FinalLayer;
import org.dit4j.models.nn.LabelEmbedder;
import org.dit4j.models.nn.Linear;
import org.dit4j.models.nn.Params;
import org.dit4j.models.nn.TimestepEmbedder;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.List;

/**
 * Flexible Vision Transformer for diffusion (FiTv1, {@code fit_model.py}) over a sequence of {@code tokens} tokens, real
 * or padding: {@link Stem}, the {@link FiTBlock}s, {@link Head}. One definition for sampling, {@code forward} and training;
 * the token count is fixed per graph, so a model keeps one graph per sequence length.
 */
public final class FiT {
    /** Attention logits where the mask forbids: far below any real logit, so softmax gives exactly 0 as with −inf. */
    static final double MASKED_LOGIT = -1e9;
    private final Stem stem;
    private final List<FiTBlock> blocks = new ArrayList<>();
    private final Head head;

    /** Declares every parameter through {@code p}, in the official state-dict order. */
    public FiT(Params p, FiTConfig cfg, int tokens) {
        this.stem = new Stem(p, cfg, tokens);
        for (int i = 0; i < cfg.depth(); i++) blocks.add(new FiTBlock(p, "blocks." + i, cfg, tokens));
        this.head = new Head(p, cfg, tokens);
    }

    /** What every block reads: the tokens, c, the RoPE tables, the attention bias and the mask, in broadcastable shapes. */
    public record Embedded(SDVariable tokens, SDVariable c, SDVariable cos, SDVariable sin, SDVariable bias, SDVariable mask) {}

    /** Everything before the blocks: {@code x_embedder}, {@code t_embedder}, {@code y_embedder}, the mask and RoPE layout. */
    public static final class Stem {
        private final Linear xEmbedder;
        private final TimestepEmbedder tEmbedder;
        private final LabelEmbedder yEmbedder;
        private final int tokens, headDim;

        public Stem(Params p, FiTConfig cfg, int tokens) {
            this.tokens = tokens;
            this.headDim = cfg.headDim();
            this.xEmbedder = new Linear(p, "x_embedder.proj", cfg.tokenChannels(), cfg.hiddenSize());
            this.tEmbedder = new TimestepEmbedder(p, cfg.hiddenSize());
            this.yEmbedder = new LabelEmbedder(p, "y_embedder", cfg.labelTableRows(), cfg.hiddenSize());
        }

        /**
         * x (N, p·p·C, T) in (c p1 p2) order, tFreq (N, 256), y (N) int64, mask (N, T) 1 on real tokens, cos/sin
         * (N, T, hd) from {@link VisionRotaryEmbedding#tables}.
         */
        public Embedded apply(SDVariable x, SDVariable tFreq, SDVariable y, SDVariable mask, SDVariable cos, SDVariable sin) {
            SameDiff sd = x.getSameDiff();
            SDVariable seq = sd.permute(x, 0, 2, 1);                                          // (N, T, p·p·C)
            SDVariable h = xEmbedder.applyTokens(seq, tokens).rename("x_embedder_out");       // (N, T, D)
            SDVariable t = tEmbedder.apply(tFreq).rename("t_emb");                            // (N, D)
            SDVariable yEmb = yEmbedder.apply(y).rename("y_emb");                             // (N, D)
            SDVariable column = sd.reshape(mask, -1, tokens, 1);                              // (N, T, 1)
            SDVariable row = sd.reshape(mask, -1, 1, tokens);                                 // (N, 1, T)
            SDVariable bias = sd.math.abs(column.sub(row)).mul(MASKED_LOGIT);                // (N, T, T): 0 where m_i == m_j
            return new Embedded(h, t.add(yEmb).rename("c"),
                    sd.reshape(cos, -1, 1, tokens, headDim), sd.reshape(sin, -1, 1, tokens, headDim),   // (N, 1, T, hd)
                    sd.reshape(bias, -1, 1, tokens, tokens), column);                       // (N, 1, T, T), (N, T, 1)
        }
    }

    /** Everything after the blocks: {@code final_layer}, the output mask, back to (N, p·p·C_out, T). */
    public static final class Head {
        private final FinalLayer finalLayer;

        public Head(Params p, FiTConfig cfg, int tokens) {
            this.finalLayer = new FinalLayer(p, cfg.hiddenSize(), (long) cfg.patchSize() * cfg.patchSize() * cfg.outChannels(),
                    tokens, cfg.adalnBias());
        }

        /** tokens (N, T, D), c (N, D), mask (N, T, 1) → (N, p·p·C_out, T), exactly 0 at padding. */
        public SDVariable apply(SDVariable tokens, SDVariable c, SDVariable mask) {
            SDVariable out = finalLayer.apply(tokens, c).rename("final_layer_out");   // (N, T, p·p·C_out)
            return tokens.getSameDiff().permute(out.mul(mask), 0, 2, 1);             // (N, p·p·C_out, T)
        }
    }

    /** The whole forward pass; intermediates are named x_embedder_out, t_emb, y_emb, c, blocks.i.out, final_layer_out. */
    public SDVariable forward(SDVariable x, SDVariable tFreq, SDVariable y, SDVariable mask, SDVariable cos, SDVariable sin) {
        Embedded e = stem.apply(x, tFreq, y, mask, cos, sin);
        SDVariable h = e.tokens();
        for (int i = 0; i < blocks.size(); i++)
            h = blocks.get(i).apply(h, e.c(), e.cos(), e.sin(), e.bias(), e.mask()).rename("blocks." + i + ".out");   // (N, T, D)
        return head.apply(h, e.c(), e.mask());
    }
}
