package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** timm's {@code SwiGLU}: {@code fc2(silu(fc1_g(x)) · fc1_x(x))}. */
public final class SwiGLU {
    private final Linear fc1g, fc1x, fc2;
    private final int tokens, hidden;

    public SwiGLU(Params p, String name, int hidden, int mlpHidden, int tokens, boolean bias) {
        this.tokens = tokens;
        this.hidden = hidden;
        this.fc1g = new Linear(p, name + ".fc1_g", hidden, mlpHidden, bias);
        this.fc1x = new Linear(p, name + ".fc1_x", hidden, mlpHidden, bias);
        this.fc2 = new Linear(p, name + ".fc2", mlpHidden, hidden, bias);
    }

    /** x (N, T, D) → (N, T, D). */
    public SDVariable apply(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        SDVariable flat = sd.reshape(x, -1, hidden);                                  // (N·T, D)
        SDVariable h = Ops.silu(sd, fc1g.apply(flat)).mul(fc1x.apply(flat));          // (N·T, mlp_hidden)
        return sd.reshape(fc2.apply(h), -1, tokens, hidden);                          // (N, T, D)
    }
}
