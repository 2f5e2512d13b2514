package org.dit4j.models;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * timm's {@code Attention}: fused qkv, softmax(q·hd^-½ @ kᵀ) @ v, output projection. The fused (3D, D) qkv weight
 * stays one parameter under its official name; q, k and v use row blocks of it. (Slicing the (3, N, H, T, hd)
 * activation instead, as timm does, breaks M2.1's strided-slice backprop for a batch of 2.)
 */
public final class Attention {
    private final SDVariable qkvWeight, qkvBias;   // (3D, D), (3D)
    private final Linear proj;
    private final int heads, headDim, tokens;
    private final long hidden;

    public Attention(Params p, String name, int hidden, int heads, int tokens) {
        this.hidden = hidden;
        this.heads = heads;
        this.headDim = hidden / heads;
        this.tokens = tokens;
        this.qkvWeight = p.weight(name + ".qkv.weight", 3L * hidden, hidden);
        this.qkvBias = p.weight(name + ".qkv.bias", 3L * hidden);
        this.proj = new Linear(p, name + ".proj", hidden, hidden);
    }

    /** Rows [i·D, (i+1)·D) of the fused projection applied to x (N·T, D), split into heads: (N, H, T, hd). */
    private SDVariable project(SDVariable flat, int i) {
        SameDiff sd = flat.getSameDiff();
        SDVariable w = qkvWeight.get(SDIndex.interval(i * hidden, (i + 1) * hidden), SDIndex.all());     // (D, D)
        SDVariable b = qkvBias.get(SDIndex.interval(i * hidden, (i + 1) * hidden));                       // (D)
        SDVariable y = sd.mmul(flat, w, false, true, false).add(b);                                       // (N·T, D)
        return sd.permute(sd.reshape(y, -1, tokens, heads, headDim), 0, 2, 1, 3);                         // (N, H, T, hd)
    }

    /** x (N, T, D) → (N, T, D). */
    public SDVariable apply(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        SDVariable flat = sd.reshape(x, -1, hidden);                               // (N·T, D)
        SDVariable q = project(flat, 0).mul(Math.pow(headDim, -0.5));              // (N, H, T, hd)
        SDVariable k = project(flat, 1);                                           // (N, H, T, hd)
        SDVariable v = project(flat, 2);                                           // (N, H, T, hd)
        SDVariable scores = sd.mmul(q, k, false, true, false);                     // (N, H, T, T)
        SDVariable attn = sd.nn.softmax(scores, 3);
        SDVariable out = sd.mmul(attn, v);                                         // (N, H, T, hd)
        out = sd.permute(out, 0, 2, 1, 3);                                         // (N, T, H, hd)
        out = sd.reshape(out, -1, tokens, hidden);                                 // (N, T, D)
        return proj.applyTokens(out, tokens);                                      // (N, T, D)
    }
}
