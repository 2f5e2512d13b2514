package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Where the building blocks get their parameters. Blocks never call {@code sd.var} themselves, so the same model
 * definition can run as a plain SameDiff graph or inside a DL4J vertex whose parameters DL4J owns.
 */
public interface Params {
    /** A trainable tensor under its official PyTorch name, in PyTorch layout. */
    SDVariable weight(String name, long... shape);

    /** A frozen tensor that still belongs to the state dict (DiT's {@code pos_embed}). */
    SDVariable buffer(String name, long... shape);

    /** Says which module type ({@code Linear}, {@code Conv2d}, {@code Embedding}) owns the parameters under {@code name}. */
    default void module(String name, String type) {}
}
