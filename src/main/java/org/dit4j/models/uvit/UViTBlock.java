package org.dit4j.models.uvit;

import org.dit4j.models.nn.Attention;
import org.dit4j.models.nn.LayerNorm;
import org.dit4j.models.nn.Linear;
import org.dit4j.models.nn.Mlp;
import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * U-ViT's {@code Block}: an optional long-skip fusion {@code skip_linear(cat([x, skip]))}, then pre-LN attention and
 * MLP with affine LayerNorm (ε 1e-5) and exact GELU. Parameters are declared in the official state-dict order, where
 * {@code skip_linear} comes last although it runs first.
 */
public final class UViTBlock {
    static final double NORM_EPS = 1e-5;
    private final LayerNorm norm1, norm2;
    private final Attention attn;
    private final Mlp mlp;
    private final Linear skipLinear;   // null without a long skip
    private final String name;
    private final int tokens, dim;

    public UViTBlock(Params p, String name, UViTConfig cfg, boolean skip) {
        this.name = name;
        this.tokens = cfg.numTokens();
        this.dim = cfg.embedDim();
        this.norm1 = new LayerNorm(p, name + ".norm1", dim, 2, NORM_EPS);
        this.attn = new Attention(p, name + ".attn", dim, cfg.numHeads(), tokens, cfg.qkvBias());
        this.norm2 = new LayerNorm(p, name + ".norm2", dim, 2, NORM_EPS);
        this.mlp = new Mlp(p, name + ".mlp", dim, cfg.mlpHidden(), tokens, true, true);
        this.skipLinear = skip ? new Linear(p, name + ".skip_linear", 2L * dim, dim) : null;
    }

    public boolean hasSkip() {
        return skipLinear != null;
    }

    /** x (N, T, D), skip (N, T, D) or null → (N, T, D). Intermediates: {@code <block>.skip_linear_out}, {@code .attn_out}, {@code .mlp_out}. */
    public SDVariable apply(SDVariable x, SDVariable skip) {
        SameDiff sd = x.getSameDiff();
        if (skipLinear != null)
            x = skipLinear.applyTokens(sd.concat(2, x, skip), tokens).rename(name + ".skip_linear_out");   // (N, T, D)
        x = x.add(attn.apply(norm1.apply(x)).rename(name + ".attn_out"));                               // (N, T, D)
        return x.add(mlp.apply(norm2.apply(x)).rename(name + ".mlp_out"));                               // (N, T, D)
    }
}
