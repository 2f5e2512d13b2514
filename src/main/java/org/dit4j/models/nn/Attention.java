package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * timm's {@code Attention}: fused qkv, softmax(q·hd^-½ @ kᵀ) @ v, output projection. q, k and v are point slices of
 * the (N·T, 3, D) view of the fused projection: slicing the permuted (3, N, H, T, hd) tensor as timm does breaks
 * M2.1's strided-slice backprop for a batch of 2, and slicing the weight instead copies it on every call.
 */
public final class Attention {
    private final Linear qkv, proj;
    private final int heads, headDim, tokens;
    private final long hidden;

    public Attention(Params p, String name, int hidden, int heads, int tokens) {
        this(p, name, hidden, heads, tokens, true);
    }

    /** {@code qkvBias} false: U-ViT's default {@code nn.Linear(dim, 3·dim, bias=qkv_bias)}. */
    public Attention(Params p, String name, int hidden, int heads, int tokens, boolean qkvBias) {
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

    /** x (N, T, D) → (N, T, D). */
    public SDVariable apply(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        SDVariable flat = sd.reshape(x, -1, hidden);                               // (N·T, D)
        SDVariable qkvOut = qkv.apply(flat);                                       // (N·T, 3D)
        SDVariable[] qkvParts = Ops.chunks(qkvOut, 3, hidden);                     // 3 × (N·T, D)
        SDVariable q = heads(qkvParts[0]).mul(Math.pow(headDim, -0.5));            // (N, H, T, hd)
        SDVariable k = heads(qkvParts[1]);                                         // (N, H, T, hd)
        SDVariable v = heads(qkvParts[2]);                                         // (N, H, T, hd)
        SDVariable scores = sd.mmul(q, k, false, true, false);                     // (N, H, T, T)
        SDVariable attn = sd.nn.softmax(scores, 3);
        SDVariable out = sd.mmul(attn, v);                                         // (N, H, T, hd)
        out = sd.permute(out, 0, 2, 1, 3);                                         // (N, T, H, hd)
        out = sd.reshape(out, -1, tokens, hidden);                                 // (N, T, D)
        return proj.applyTokens(out, tokens);                                      // (N, T, D)
    }
}
