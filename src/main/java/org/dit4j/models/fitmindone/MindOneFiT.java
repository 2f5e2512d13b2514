package org.dit4j.models.fitmindone;

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
 * MindONE's {@code FiT} ({@code mindone/models/fit.py}) over a sequence of {@code tokens} patchified tokens, real or
 * padding: {@code x_embedder} (+ the sin-cos table with {@code pos: absolute}), {@code t_embedder}, {@code y_embedder},
 * the blocks, {@code final_layer}. Parameters carry the MindSpore names ({@code ms.save_checkpoint}'s), in Cell order.
 */
public final class MindOneFiT {
    /** Attention logits of masked keys: far below any real logit, so softmax gives exactly 0 there as with −inf. */
    static final double MASKED_LOGIT = -1e9;
    private final Linear xEmbedder;
    private final TimestepEmbedder tEmbedder;
    private final LabelEmbedder yEmbedder;
    private final List<MindOneFiTBlock> blocks = new ArrayList<>();
    private final FinalLayer finalLayer;
    private final MindOneFiTConfig cfg;
    private final int tokens;

    /** Declares every parameter through {@code p}, in MindONE's Cell order. */
    public MindOneFiT(Params p, MindOneFiTConfig cfg, int tokens) {
        this.cfg = cfg;
        this.tokens = tokens;
        this.xEmbedder = new Linear(p, "x_embedder", cfg.tokenChannels(), cfg.hiddenSize());
        this.tEmbedder = new TimestepEmbedder(p, cfg.hiddenSize());
        this.yEmbedder = new LabelEmbedder(p, "y_embedder", cfg.labelTableRows(), cfg.hiddenSize(), "embedding_table");
        for (int i = 0; i < cfg.depth(); i++) blocks.add(new MindOneFiTBlock(p, "blocks." + i, cfg, tokens));
        this.finalLayer = new FinalLayer(p, cfg.hiddenSize(), (long) cfg.tokenChannels() / cfg.inChannels() * cfg.outChannels(), tokens, true);
    }

    /**
     * {@code construct} after {@code patchify} and before {@code unpatchify}: x (N, T, p·p·C) tokens, tFreq (N, 256), y
     * (N) int64, pos (N, T, D) the sin-cos table (absolute; else null), cos/sin (N, T, hd) the RoPE pairs repeated
     * (rotate; else null), mask (N, T) 1 on real tokens → (N, T, p·p·C_out). Intermediates are named x_embedder_out,
     * t_emb, y_emb, c, blocks.i.out (with blocks.i.adaLN_out, .attn.q_rope, .attn.k_rope, .attn_out, .ffn_out), final_layer_out.
     */
    public SDVariable forward(SDVariable x, SDVariable tFreq, SDVariable y, SDVariable pos, SDVariable cos, SDVariable sin, SDVariable mask) {
        SameDiff sd = x.getSameDiff();
        int hd = cfg.headDim();
        SDVariable h = xEmbedder.applyTokens(x, tokens);                                           // (N, T, D)
        if (cfg.pos().equals("absolute")) h = h.add(pos);                                          // (N, T, D)
        h = h.rename("x_embedder_out");
        SDVariable t = tEmbedder.apply(tFreq).rename("t_emb");                                     // (N, D)
        SDVariable c = t.add(yEmbedder.apply(y).rename("y_emb")).rename("c");                      // (N, D)
        SDVariable keyBias = sd.reshape(mask.sub(1.0).mul(-MASKED_LOGIT), -1, 1, 1, tokens);       // (N, 1, 1, T)
        boolean rotate = cfg.pos().equals("rotate");
        SDVariable cos4 = rotate ? sd.reshape(cos, -1, 1, tokens, hd) : null;                      // (N, 1, T, hd)
        SDVariable sin4 = rotate ? sd.reshape(sin, -1, 1, tokens, hd) : null;                      // (N, 1, T, hd)
        for (int i = 0; i < blocks.size(); i++)
            h = blocks.get(i).apply(h, c, cos4, sin4, keyBias).rename("blocks." + i + ".out");     // (N, T, D)
        return finalLayer.apply(h, c).rename("final_layer_out");                                   // (N, T, p·p·C_out)
    }
}
