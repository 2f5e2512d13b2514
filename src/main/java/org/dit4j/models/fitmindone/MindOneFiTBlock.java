package org.dit4j.models.fitmindone;

import org.dit4j.models.nn.Linear;
import org.dit4j.models.nn.Mlp;
import org.dit4j.models.nn.Ops;
import org.dit4j.models.nn.Params;
import org.dit4j.models.nn.SwiGLU;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** MindONE's {@code FiTBlock}: adaLN-Zero over key-masked attention and a bias-free SwiGLU (or a GELU-tanh MLP) as {@code ffn}. */
public final class MindOneFiTBlock {
    static final double NORM_EPS = 1e-6;
    private final MindOneSelfAttention attn;
    private final SwiGLU swiglu;
    private final Mlp mlp;
    private final Linear adaLN;
    private final String name;
    private final int hidden;

    public MindOneFiTBlock(Params p, String name, MindOneFiTConfig cfg, int tokens) {
        this.name = name;
        this.hidden = cfg.hiddenSize();
        this.attn = new MindOneSelfAttention(p, name + ".attn", hidden, cfg.numHeads(), tokens, cfg.pos().equals("rotate"));
        if (cfg.ffn().equals("swiglu")) {
            this.swiglu = new SwiGLU(p, name + ".ffn", hidden, cfg.mlpHidden(), tokens, false);
            this.mlp = null;
        } else {
            this.swiglu = null;
            this.mlp = new Mlp(p, name + ".ffn", hidden, cfg.mlpHidden(), tokens);
        }
        this.adaLN = new Linear(p, name + ".adaLN_modulation.1", hidden, 6L * hidden);
    }

    /** x (N, T, D), c (N, D), RoPE tables and key bias as {@link MindOneSelfAttention#apply} → (N, T, D). */
    public SDVariable apply(SDVariable x, SDVariable c, SDVariable cos, SDVariable sin, SDVariable keyBias) {
        SameDiff sd = x.getSameDiff();
        SDVariable mod = adaLN.apply(Ops.silu(sd, c)).rename(name + ".adaLN_out");   // (N, 6D)
        SDVariable[] m = Ops.chunks(mod, 6, hidden);                                // 6 × (N, D)
        SDVariable shiftMsa = m[0], scaleMsa = m[1], gateMsa = m[2], shiftMlp = m[3], scaleMlp = m[4], gateMlp = m[5];

        SDVariable h = Ops.modulate(Ops.layerNorm(sd, x, 2, NORM_EPS), shiftMsa, scaleMsa, hidden);   // (N, T, D)
        SDVariable attnOut = attn.apply(h, cos, sin, keyBias).rename(name + ".attn_out");             // (N, T, D)
        x = x.add(sd.reshape(gateMsa, -1, 1, hidden).mul(attnOut));                                   // (N, T, D)

        h = Ops.modulate(Ops.layerNorm(sd, x, 2, NORM_EPS), shiftMlp, scaleMlp, hidden);              // (N, T, D)
        SDVariable ffnOut = (swiglu != null ? swiglu.apply(h) : mlp.apply(h)).rename(name + ".ffn_out");   // (N, T, D)
        return x.add(sd.reshape(gateMlp, -1, 1, hidden).mul(ffnOut));                                 // (N, T, D)
    }
}
