package org.dit4j.models;

import org.dit4j.models.dit.DiT;
import org.dit4j.models.dit.DiTModel;
/** Lets tests in other packages share the once-loaded fixture DiT. */
public final class TinyDiTAccess {
    private TinyDiTAccess() {}

    public static DiTModel model() {
        return TinyDiT.model();
    }
}
