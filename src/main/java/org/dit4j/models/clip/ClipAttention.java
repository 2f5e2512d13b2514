package org.dit4j.models.clip;

import org.dit4j.models.nn.Linear;
import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * transformers' {@code CLIPAttention}: separate q, k, v projections (with biases), {@code softmax(q·kᵀ·hd^-½ + mask)·v}
 * over heads split as (N, T, H, hd), {@code out_proj}.
 */
final class ClipAttention {
    private final Linear q, k, v, out;
    private final int heads, headDim, hidden;

    ClipAttention(Params p, String name, ClipTextConfig cfg) {
        this.hidden = cfg.hiddenSize();
        this.heads = cfg.numAttentionHeads();
        this.headDim = cfg.headDim();
        // the official module order: k, v, q, out
        this.k = new Linear(p, name + ".k_proj", hidden, hidden);
        this.v = new Linear(p, name + ".v_proj", hidden, hidden);
        this.q = new Linear(p, name + ".q_proj", hidden, hidden);
        this.out = new Linear(p, name + ".out_proj", hidden, hidden);
    }

    /** (N·T, D) → (N, H, T, hd). */
    private SDVariable heads(SDVariable x, int tokens) {
        SameDiff sd = x.getSameDiff();
        return sd.permute(sd.reshape(x, -1, tokens, heads, headDim), 0, 2, 1, 3);   // (N, H, T, hd)
    }

    /** x (N·T, D), mask (T, T) additive → (N·T, D). */
    SDVariable apply(SDVariable x, SDVariable mask, int tokens) {
        SameDiff sd = x.getSameDiff();
        SDVariable qh = heads(q.apply(x), tokens);                                        // (N, H, T, hd)
        SDVariable kh = heads(k.apply(x), tokens);                                        // (N, H, T, hd)
        SDVariable vh = heads(v.apply(x), tokens);                                        // (N, H, T, hd)
        SDVariable scores = sd.mmul(qh, kh, false, true, false).mul(Math.pow(headDim, -0.5));   // (N, H, T, T)
        SDVariable attn = sd.nn.softmax(scores.add(mask), 3);                             // (N, H, T, T)
        SDVariable o = sd.permute(sd.mmul(attn, vh), 0, 2, 1, 3);                         // (N, T, H, hd)
        return out.apply(sd.reshape(o, -1, hidden));                                      // (N·T, D)
    }
}
