package org.dit4j.models;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** timm's {@code Attention}: fused qkv, softmax(q·hd^-½ @ kᵀ) @ v, output projection. */
public final class Attention {
    private final Linear qkv, proj;
    private final int heads, headDim, tokens;
    private final long hidden;

    public Attention(Params p, String name, int hidden, int heads, int tokens) {
        this.hidden = hidden;
        this.heads = heads;
        this.headDim = hidden / heads;
        this.tokens = tokens;
        this.qkv = new Linear(p, name + ".qkv", hidden, 3L * hidden);
        this.proj = new Linear(p, name + ".proj", hidden, hidden);
    }

    /** x (N, T, D) → (N, T, D). */
    public SDVariable apply(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        SDVariable qkvOut = qkv.applyTokens(x, tokens);                           // (N, T, 3D)
        qkvOut = sd.reshape(qkvOut, -1, tokens, 3, heads, headDim);               // (N, T, 3, H, hd)
        qkvOut = sd.permute(qkvOut, 2, 0, 3, 1, 4);                               // (3, N, H, T, hd)
        // Strided slices, not split/unstack: M2.1 cannot backpropagate through those.
        SDVariable q = qkvOut.get(SDIndex.point(0));                              // (N, H, T, hd)
        SDVariable k = qkvOut.get(SDIndex.point(1));                              // (N, H, T, hd)
        SDVariable v = qkvOut.get(SDIndex.point(2));                              // (N, H, T, hd)
        q = q.mul(Math.pow(headDim, -0.5));
        SDVariable scores = sd.mmul(q, k, false, true, false);                   // (N, H, T, T)
        SDVariable attn = sd.nn.softmax(scores, 3);
        SDVariable out = sd.mmul(attn, v);                                        // (N, H, T, hd)
        out = sd.permute(out, 0, 2, 1, 3);                                        // (N, T, H, hd)
        out = sd.reshape(out, -1, tokens, hidden);                                // (N, T, D)
        return proj.applyTokens(out, tokens);                                     // (N, T, D)
    }
}
