package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * The final layer of DiT and FiT ({@code final_layer}): adaLN-modulated LayerNorm without affine (ε 1e-6), then a linear
 * map to p·p·out_channels per token.
 */
public final class FinalLayer {
    public static final double NORM_EPS = 1e-6;
    private final Linear linear, adaLN;
    private final int hidden, tokens;

    /** {@code outPerToken} = p·p·out_channels; {@code adaLNBias} is FiT's {@code adaln_bias} (DiT: always). */
    public FinalLayer(Params p, int hidden, long outPerToken, int tokens, boolean adaLNBias) {
        this.hidden = hidden;
        this.tokens = tokens;
        this.linear = new Linear(p, "final_layer.linear", hidden, outPerToken);
        this.adaLN = new Linear(p, "final_layer.adaLN_modulation.1", hidden, 2L * hidden, adaLNBias);
    }

    /** x (N, T, D), c (N, D) → (N, T, p·p·out). */
    public SDVariable apply(SDVariable x, SDVariable c) {
        SameDiff sd = x.getSameDiff();
        SDVariable mod = adaLN.apply(Ops.silu(sd, c)).rename("final_adaLN_out");    // (N, 2D)
        SDVariable[] m = Ops.chunks(mod, 2, hidden);                                   // 2 × (N, D)
        SDVariable shift = m[0], scale = m[1];
        SDVariable h = Ops.modulate(Ops.layerNorm(sd, x, 2, NORM_EPS), shift, scale, hidden);
        return linear.applyTokens(h, tokens);                                       // (N, T, p·p·out)
    }
}
