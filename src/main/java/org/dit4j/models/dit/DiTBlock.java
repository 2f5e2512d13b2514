package org.dit4j.models.dit;

import org.dit4j.models.nn.Attention;
import org.dit4j.models.nn.Linear;
import org.dit4j.models.nn.Mlp;
import org.dit4j.models.nn.Ops;
import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** A DiT block with adaptive layer norm zero (adaLN-Zero) conditioning. */
public final class DiTBlock {
    static final double NORM_EPS = 1e-6;
    private final Attention attn;
    private final Mlp mlp;
    private final Linear adaLN;
    private final String name;
    private final int hidden;

    public DiTBlock(Params p, String name, DiTConfig cfg) {
        this(p, name, cfg, cfg.numPatches());
    }

    public DiTBlock(Params p, String name, DiTConfig cfg, int tokens) {
        this.name = name;
        this.hidden = cfg.hiddenSize();
        this.attn = new Attention(p, name + ".attn", hidden, cfg.numHeads(), tokens);
        this.mlp = new Mlp(p, name + ".mlp", hidden, cfg.mlpHidden(), tokens);
        this.adaLN = new Linear(p, name + ".adaLN_modulation.1", hidden, 6L * hidden);
    }

    /** x (N, T, D), c (N, D) → (N, T, D). Intermediates are named {@code <block>.adaLN_out}, {@code .attn_out}, {@code .mlp_out}. */
    public SDVariable apply(SDVariable x, SDVariable c) {
        SameDiff sd = x.getSameDiff();
        SDVariable[] m = modulation(c);                                             // 6 × (N, D)
        SDVariable shiftMsa = m[0], scaleMsa = m[1], gateMsa = m[2], shiftMlp = m[3], scaleMlp = m[4], gateMlp = m[5];

        SDVariable h = Ops.modulate(Ops.layerNorm(sd, x, 2, NORM_EPS), shiftMsa, scaleMsa, hidden);
        SDVariable attnOut = attn.apply(h).rename(name + ".attn_out");              // (N, T, D)
        x = x.add(sd.reshape(gateMsa, -1, 1, hidden).mul(attnOut));                 // (N, T, D)

        h = Ops.modulate(Ops.layerNorm(sd, x, 2, NORM_EPS), shiftMlp, scaleMlp, hidden);
        SDVariable mlpOut = mlp.apply(h).rename(name + ".mlp_out");                 // (N, T, D)
        return x.add(sd.reshape(gateMlp, -1, 1, hidden).mul(mlpOut));               // (N, T, D)
    }

    /**
     * FORA's {@code boost_infer_static} step between refreshes: attention and MLP are skipped and their outputs
     * {@code cachedAttn}, {@code cachedMlp} (N, T, D) of an earlier step are reused, gated by this step's adaLN (c carries t).
     */
    public SDVariable applyCached(SDVariable x, SDVariable c, SDVariable cachedAttn, SDVariable cachedMlp) {
        SameDiff sd = x.getSameDiff();
        SDVariable[] m = modulation(c);                                             // 6 × (N, D)
        SDVariable gateMsa = m[2], gateMlp = m[5];
        x = x.add(sd.reshape(gateMsa, -1, 1, hidden).mul(cachedAttn));              // (N, T, D)
        return x.add(sd.reshape(gateMlp, -1, 1, hidden).mul(cachedMlp));            // (N, T, D)
    }

    /** {@code adaLN_modulation(c).chunk(6, dim=1)}: shift, scale, gate of the attention, then of the MLP. */
    private SDVariable[] modulation(SDVariable c) {
        SDVariable mod = adaLN.apply(Ops.silu(c.getSameDiff(), c)).rename(name + ".adaLN_out");   // (N, 6D)
        return Ops.chunks(mod, 6, hidden);                                                       // 6 × (N, D)
    }
}
