package org.dit4j.models.fit;

import org.dit4j.models.nn.Linear;
import org.dit4j.models.nn.Mlp;
import org.dit4j.models.nn.Ops;
import org.dit4j.models.nn.Params;
import org.dit4j.models.nn.SwiGLU;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** {@code FiTBlock}: a DiT block (adaLN-Zero) over masked RoPE attention and a SwiGLU (or GELU) feed-forward. */
public final class FiTBlock {
    static final double NORM_EPS = 1e-6;
    private final FiTAttention attn;
    private final SwiGLU swiglu;
    private final Mlp mlp;
    private final Linear adaLN;
    private final String name;
    private final int hidden;

    public FiTBlock(Params p, String name, FiTConfig cfg, int tokens) {
        this.name = name;
        this.hidden = cfg.hiddenSize();
        this.attn = new FiTAttention(p, name + ".attn", hidden, cfg.numHeads(), tokens, cfg.qkvBias());
        if (cfg.useSwiglu()) {
            this.swiglu = new SwiGLU(p, name + ".mlp", hidden, cfg.mlpHidden(), tokens, cfg.ffnBias());
            this.mlp = null;
        } else {
            this.swiglu = null;
            this.mlp = new Mlp(p, name + ".mlp", hidden, cfg.mlpHidden(), tokens, cfg.ffnBias(), false);
        }
        this.adaLN = new Linear(p, name + ".adaLN_modulation.1", hidden, 6L * hidden, cfg.adalnBias());
    }

    /** x (N, T, D), c (N, D), RoPE tables, attention bias and mask as {@link FiTAttention#apply} → (N, T, D). */
    public SDVariable apply(SDVariable x, SDVariable c, SDVariable cos, SDVariable sin, SDVariable bias, SDVariable mask) {
        SameDiff sd = x.getSameDiff();
        SDVariable mod = adaLN.apply(Ops.silu(sd, c)).rename(name + ".adaLN_out");   // (N, 6D)
        SDVariable[] m = Ops.chunks(mod, 6, hidden);                                // 6 × (N, D)
        SDVariable shiftMsa = m[0], scaleMsa = m[1], gateMsa = m[2], shiftMlp = m[3], scaleMlp = m[4], gateMlp = m[5];

        SDVariable h = Ops.modulate(Ops.layerNorm(sd, x, 2, NORM_EPS), shiftMsa, scaleMsa, hidden);
        SDVariable attnOut = attn.apply(h, cos, sin, bias, mask).rename(name + ".attn_out");   // (N, T, D)
        x = x.add(sd.reshape(gateMsa, -1, 1, hidden).mul(attnOut));                 // (N, T, D)

        h = Ops.modulate(Ops.layerNorm(sd, x, 2, NORM_EPS), shiftMlp, scaleMlp, hidden);
        SDVariable mlpOut = (swiglu != null ? swiglu.apply(h) : mlp.apply(h)).rename(name + ".mlp_out");   // (N, T, D)
        return x.add(sd.reshape(gateMlp, -1, 1, hidden).mul(mlpOut));               // (N, T, D)
    }
}
