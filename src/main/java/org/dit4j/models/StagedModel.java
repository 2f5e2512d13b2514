package org.dit4j.models;

import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/**
 * A model as stages — an embedding, a sequence of blocks of named kinds, a head — that pass a named carried state
 * (DiT: {@code tokens} and {@code c}; room for masks, RoPE tables, a skip stack). Training recomputes one block at a
 * time over this view ({@code training.TrainingStep}); each stage is built from the family's own block classes, so it
 * is the same definition as the forward pass.
 */
public interface StagedModel extends Denoiser {
    /** One carried value: its shape per sample, and whether gradients flow through it (data such as masks do not). */
    record StateSpec(long[] shape, boolean differentiable) {}

    /**
     * One block of the sequence: its kind (one graph per kind serves every block of that kind), its parameter prefix
     * ({@code blocks.3}), the state it reads (block input name → state name) and what it writes (state name → block output name).
     */
    record BlockCall(String kind, String prefix, Map<String, String> reads, Map<String, String> writes) {}

    /** The per-sample shape of x_t, which is also the shape the diffusion loss compares. */
    long[] sampleShape();

    /**
     * Whether samples are padded sequences (FiT): the loss then masks the target and scales both terms by the
     * sequence length over the real tokens of {@link #tokenMask}.
     */
    default boolean paddedSamples() {
        return false;
    }

    /** The (N, T) mask of real tokens of a batch, for {@link #paddedSamples} models. */
    default INDArray tokenMask(Conditioning c) {
        throw new UnsupportedOperationException("samples of this model are not padded");
    }

    /** The input placeholders' values for one pass (names as {@link #declareInputs}). */
    Map<String, INDArray> inputs(INDArray x, double[] t, Conditioning c);

    /** Declares the input placeholders in {@code sd}. */
    Map<String, SDVariable> declareInputs(SameDiff sd);

    /** The stage before the blocks: inputs → carried state. */
    Map<String, SDVariable> embed(Params p, Map<String, SDVariable> inputs);

    Map<String, StateSpec> stateSpecs();

    List<BlockCall> blockCalls();

    /** One block of {@code kind} with its parameters under {@code prefix}: inputs → outputs by block-local names. */
    Map<String, SDVariable> block(String kind, Params p, String prefix, Map<String, SDVariable> in);

    /** The stage after the blocks: carried state (and the inputs) → the raw model output. */
    SDVariable head(Params p, Map<String, SDVariable> state, Map<String, SDVariable> inputs);
}
