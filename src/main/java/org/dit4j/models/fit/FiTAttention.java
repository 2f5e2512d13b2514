package org.dit4j.models.fit;

import org.dit4j.models.nn.Linear;
import org.dit4j.models.nn.Ops;
import org.dit4j.models.nn.Params;
import org.dit4j.models.nn.RotaryPairs;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * FiT's {@code Attention}: fused qkv, 2-D RoPE on q and k, {@code scaled_dot_product_attention} with the mask
 * {@code m_i == m_j} (real tokens see real tokens, padding sees padding), the output multiplied by the mask before
 * {@code proj}.
 */
public final class FiTAttention {
    private final Linear qkv, proj;
    private final int heads, headDim, tokens;
    private final long hidden;
    private final String name;

    public FiTAttention(Params p, String name, int hidden, int heads, int tokens, boolean qkvBias) {
        this.name = name;
        this.hidden = hidden;
        this.heads = heads;
        this.headDim = hidden / heads;
        this.tokens = tokens;
        this.qkv = new Linear(p, name + ".qkv", hidden, 3L * hidden, qkvBias);
        this.proj = new Linear(p, name + ".proj", hidden, hidden);
    }

    /** One of q, k, v (N·T, D) in heads: (N, H, T, hd). */
    private SDVariable heads(SDVariable part) {
        SameDiff sd = part.getSameDiff();
        return sd.permute(sd.reshape(part, -1, tokens, heads, headDim), 0, 2, 1, 3);   // (N, H, T, hd)
    }

    /**
     * x (N, T, D); cos, sin (N, 1, T, hd); bias (N, 1, T, T) = 0 where the mask allows, −1e9 elsewhere; mask (N, T, 1)
     * → (N, T, D).
     */
    public SDVariable apply(SDVariable x, SDVariable cos, SDVariable sin, SDVariable bias, SDVariable mask) {
        SameDiff sd = x.getSameDiff();
        SDVariable rotation = sd.constant(name + ".rotate_half", RotaryPairs.rotation(headDim));                 // (hd, hd)
        SDVariable qkvOut = qkv.apply(sd.reshape(x, -1, hidden));                                    // (N·T, 3D)
        SDVariable[] parts = Ops.chunks(qkvOut, 3, hidden);                                          // 3 × (N·T, D)
        SDVariable q = RotaryPairs.apply(heads(parts[0]), cos, sin, rotation, heads, tokens, headDim);                                    // (N, H, T, hd)
        SDVariable k = RotaryPairs.apply(heads(parts[1]), cos, sin, rotation, heads, tokens, headDim);                                    // (N, H, T, hd)
        SDVariable v = heads(parts[2]);                                                              // (N, H, T, hd)
        SDVariable scores = sd.mmul(q.mul(Math.pow(headDim, -0.5)), k, false, true, false).add(bias);   // (N, H, T, T)
        SDVariable out = sd.mmul(sd.nn.softmax(scores, 3), v);                                       // (N, H, T, hd)
        out = sd.reshape(sd.permute(out, 0, 2, 1, 3), -1, tokens, hidden);                           // (N, T, D)
        return proj.applyTokens(out.mul(mask), tokens);                                              // (N, T, D)
    }
}
