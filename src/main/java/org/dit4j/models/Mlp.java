package org.dit4j.models;

import org.nd4j.autodiff.samediff.SDVariable;

/** timm's {@code Mlp} with tanh-approximated GELU: fc1 → GELU → fc2. */
public final class Mlp {
    private final Linear fc1, fc2;
    private final int tokens;

    public Mlp(Params p, String name, int hidden, int mlpHidden, int tokens) {
        this.tokens = tokens;
        this.fc1 = new Linear(p, name + ".fc1", hidden, mlpHidden);
        this.fc2 = new Linear(p, name + ".fc2", mlpHidden, hidden);
    }

    /** x (N, T, D) → (N, T, D). */
    public SDVariable apply(SDVariable x) {
        SDVariable h = fc1.applyTokens(x, tokens);                    // (N, T, mlp_hidden)
        return fc2.applyTokens(Ops.geluTanh(x.getSameDiff(), h), tokens);   // (N, T, D)
    }
}
