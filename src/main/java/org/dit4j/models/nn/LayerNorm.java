package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/** {@code nn.LayerNorm(d, eps)} with its elementwise affine weight and bias, over the last axis. */
public final class LayerNorm {
    private final SDVariable weight, bias;   // (d), (d)
    private final int lastAxis;
    private final double eps;

    /** {@code lastAxis}: the normalised axis as a positive index (mean over a negative axis is wrong in M2.1). */
    public LayerNorm(Params p, String name, long dim, int lastAxis, double eps) {
        this.lastAxis = lastAxis;
        this.eps = eps;
        p.module(name, "LayerNorm");
        this.weight = p.weight(name + ".weight", dim);
        this.bias = p.weight(name + ".bias", dim);
    }

    /** x (..., d) → (..., d). */
    public SDVariable apply(SDVariable x) {
        return Ops.layerNorm(x.getSameDiff(), x, lastAxis, eps).mul(weight).add(bias);
    }
}
