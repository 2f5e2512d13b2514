package org.dit4j.models.fitmindone;

import org.dit4j.models.nn.Linear;
import org.dit4j.models.nn.Ops;
import org.dit4j.models.nn.Params;
import org.dit4j.models.nn.RotaryPairs;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * MindONE FiT's {@code SelfAttention}: fused qkv (with bias), RoPE on the complex pairs of q and k ({@code apply_rotary_emb},
 * {@code pos: rotate} only), {@code sim = (q @ kᵀ)·head_dim^−½}, the mask on keys only (a padding query still attends to
 * the real keys, and nothing masks the outputs), softmax, {@code proj}.
 */
public final class MindOneSelfAttention {
    private final Linear qkv, proj;
    private final int heads, headDim, tokens;
    private final long hidden;
    private final boolean rotate;
    private final String name;

    public MindOneSelfAttention(Params p, String name, int hidden, int heads, int tokens, boolean rotate) {
        this.name = name;
        this.hidden = hidden;
        this.heads = heads;
        this.headDim = hidden / heads;
        this.tokens = tokens;
        this.rotate = rotate;
        this.qkv = new Linear(p, name + ".qkv", hidden, 3L * hidden);
        this.proj = new Linear(p, name + ".proj", hidden, hidden);
    }

    /** One of q, k, v (N·T, D) in heads: {@code reshape(B, N, 3, h, −1).permute(2, 0, 3, 1, 4)}'s part, (N, H, T, hd). */
    private SDVariable heads(SDVariable part) {
        SameDiff sd = part.getSameDiff();
        return sd.permute(sd.reshape(part, -1, tokens, heads, headDim), 0, 2, 1, 3);   // (N, H, T, hd)
    }

    /**
     * x (N, T, D); cos, sin (N, 1, T, hd) with each pair's value repeated (unused without RoPE); keyBias (N, 1, 1, T) 0
     * on real keys, {@link MindOneFiT#MASKED_LOGIT} on padding → (N, T, D).
     */
    public SDVariable apply(SDVariable x, SDVariable cos, SDVariable sin, SDVariable keyBias) {
        SameDiff sd = x.getSameDiff();
        SDVariable qkvOut = qkv.apply(sd.reshape(x, -1, hidden));                                    // (N·T, 3D)
        SDVariable[] parts = Ops.chunks(qkvOut, 3, hidden);                                          // 3 × (N·T, D)
        SDVariable q = heads(parts[0]), k = heads(parts[1]), v = heads(parts[2]);                    // (N, H, T, hd)
        if (rotate) {
            SDVariable rotation = sd.constant(name + ".rotate_half", RotaryPairs.rotation(headDim));   // (hd, hd)
            q = RotaryPairs.apply(q, cos, sin, rotation, heads, tokens, headDim).rename(name + ".q_rope");   // (N, H, T, hd)
            k = RotaryPairs.apply(k, cos, sin, rotation, heads, tokens, headDim).rename(name + ".k_rope");   // (N, H, T, hd)
        }
        SDVariable sim = sd.mmul(q, k, false, true, false).mul(Math.pow(headDim, -0.5)).add(keyBias);   // (N, H, T, T)
        SDVariable out = sd.mmul(sd.nn.softmax(sim, 3), v);                                          // (N, H, T, hd)
        out = sd.reshape(sd.permute(out, 0, 2, 1, 3), -1, tokens, hidden);                           // (N, T, D)
        return proj.applyTokens(out, tokens);                                                        // (N, T, D)
    }
}
