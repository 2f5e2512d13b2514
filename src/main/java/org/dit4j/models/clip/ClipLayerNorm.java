package org.dit4j.models.clip;

import org.dit4j.models.nn.Ops;
import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;

/** {@code nn.LayerNorm(D, eps)} with its affine weight and bias, over the rows of an (M, D) matrix. */
final class ClipLayerNorm {
    private final SDVariable weight, bias;   // (D), (D)
    private final double eps;

    ClipLayerNorm(Params p, String name, int dim, double eps) {
        this.weight = p.weight(name + ".weight", dim);
        this.bias = p.weight(name + ".bias", dim);
        this.eps = eps;
    }

    /** x (M, D) → (M, D). */
    SDVariable apply(SDVariable x) {
        return Ops.layerNorm(x.getSameDiff(), x, 1, eps).mul(weight).add(bias);
    }
}
