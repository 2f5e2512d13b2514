package org.dit4j.models.clip;

import org.dit4j.models.nn.Linear;
import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;

/** transformers' {@code CLIPMLP}: {@code fc2(quick_gelu(fc1(x)))}, {@code quick_gelu(x) = x·σ(1.702·x)}. */
final class ClipMlp {
    private final Linear fc1, fc2;

    ClipMlp(Params p, String name, ClipTextConfig cfg) {
        this.fc1 = new Linear(p, name + ".fc1", cfg.hiddenSize(), cfg.intermediateSize());
        this.fc2 = new Linear(p, name + ".fc2", cfg.intermediateSize(), cfg.hiddenSize());
    }

    /** x (M, D) → (M, D). */
    SDVariable apply(SDVariable x) {
        SDVariable h = fc1.apply(x);                                  // (M, I)
        h = h.mul(x.getSameDiff().nn.sigmoid(h.mul(1.702)));          // (M, I)
        return fc2.apply(h);                                          // (M, D)
    }
}
