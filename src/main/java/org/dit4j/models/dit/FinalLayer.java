package org.dit4j.models.dit;

import org.dit4j.models.nn.Linear;
import org.dit4j.models.nn.Ops;
import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** The final layer of DiT: adaLN-modulated norm, then a linear map to p·p·out_channels per token. */
public final class FinalLayer {
    private final Linear linear, adaLN;
    private final int hidden, tokens;

    public FinalLayer(Params p, DiTConfig cfg) {
        this.hidden = cfg.hiddenSize();
        this.tokens = cfg.numPatches();
        this.linear = new Linear(p, "final_layer.linear", hidden, (long) cfg.patchSize() * cfg.patchSize() * cfg.outChannels());
        this.adaLN = new Linear(p, "final_layer.adaLN_modulation.1", hidden, 2L * hidden);
    }

    /** x (N, T, D), c (N, D) → (N, T, p·p·out). */
    public SDVariable apply(SDVariable x, SDVariable c) {
        SameDiff sd = x.getSameDiff();
        SDVariable mod = adaLN.apply(Ops.silu(sd, c)).rename("final_adaLN_out");    // (N, 2D)
        SDVariable[] m = Ops.chunks(mod, 2, hidden);                                   // 2 × (N, D)
        SDVariable shift = m[0], scale = m[1];
        SDVariable h = Ops.modulate(Ops.layerNorm(sd, x, 2, DiTBlock.NORM_EPS), shift, scale, hidden);
        return linear.applyTokens(h, tokens);                                       // (N, T, p·p·out)
    }
}
