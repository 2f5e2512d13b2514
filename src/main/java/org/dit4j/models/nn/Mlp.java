package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** timm's {@code Mlp}: fc1 → GELU → fc2, with DiT's tanh-approximated GELU or {@code nn.GELU()}'s exact erf form (U-ViT). */
public final class Mlp {
    private final Linear fc1, fc2;
    private final int tokens, hidden;
    private final boolean exactGelu;

    public Mlp(Params p, String name, int hidden, int mlpHidden, int tokens) {
        this(p, name, hidden, mlpHidden, tokens, true, false);
    }

    public Mlp(Params p, String name, int hidden, int mlpHidden, int tokens, boolean bias, boolean exactGelu) {
        this.exactGelu = exactGelu;
        this.tokens = tokens;
        this.hidden = hidden;
        this.fc1 = new Linear(p, name + ".fc1", hidden, mlpHidden, bias);
        this.fc2 = new Linear(p, name + ".fc2", mlpHidden, hidden, bias);
    }

    /** x (N, T, D) → (N, T, D); tokens stay flattened between the two layers. */
    public SDVariable apply(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        SDVariable h = fc1.apply(sd.reshape(x, -1, hidden));           // (N·T, mlp_hidden)
        SDVariable out = fc2.apply(exactGelu ? Ops.geluErf(sd, h) : Ops.geluTanh(sd, h));   // (N·T, D)
        return sd.reshape(out, -1, tokens, hidden);                    // (N, T, D)
    }
}
