package org.dit4j.models;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Where the building blocks get their parameters. Blocks never call {@code sd.var} themselves, so the same model
 * definition can run as a plain SameDiff graph or inside a DL4J vertex whose parameters DL4J owns.
 */
public interface Params {
    SameDiff sd();

    /** A trainable tensor under its official PyTorch name, in PyTorch layout. */
    SDVariable weight(String name, long... shape);

    /** A frozen tensor that still belongs to the state dict (DiT's {@code pos_embed}). */
    SDVariable buffer(String name, long... shape);
}
