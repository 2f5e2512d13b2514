package org.dit4j.models;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/**
 * A model whose blocks can reuse their attention and MLP outputs of an earlier sampling step (FORA, Selvaraju et al.
 * 2024, static caching): a full step computes and returns them, a cached step adds them, gated by its own conditioning,
 * instead of computing attention and MLP. When to refresh is the caller's policy.
 */
public interface BlockCaching {
    /** Each block's attention and MLP outputs (N, T, D) of one full step, in block order. */
    record BlockOutputs(List<INDArray> attn, List<INDArray> mlp) {}

    /** A full forward pass and its blocks' outputs. */
    record Step(INDArray output, BlockOutputs blocks) {}

    /** {@link Denoiser#forward}, also returning every block's attention and MLP outputs. */
    Step forwardStoring(INDArray x, double[] t, Conditioning c);

    /** A forward pass whose blocks reuse {@code cached} (of a batch of x's rows) instead of computing attention and MLP. */
    INDArray forwardCached(INDArray x, double[] t, Conditioning c, BlockOutputs cached);
}
