package org.dit4j.models;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/**
 * A diffusion network with its weights: what sampling, {@code dit4j forward}, the loaders, {@code convert}, the zoo and
 * training see of a model, whatever its family.
 */
public interface Denoiser {
    ModelConfig config();

    /** x_t (N, C, H, W), model timesteps t (N), conditioning → the raw model output (N, out_channels, H, W). */
    INDArray forward(INDArray x, double[] t, Conditioning c);

    /** Parameter names and shapes in the official state-dict order. */
    Map<String, long[]> parameterShapes();

    /** False for frozen buffers that still belong to the state dict (DiT's fixed {@code pos_embed}). */
    boolean isTrainable(String name);

    /** The current weights under the official names, as the live arrays. */
    Map<String, INDArray> stateDict();

    /** Checks {@code weights} against the architecture (every problem listed by name), then copies them in. */
    void loadStateDict(Map<String, INDArray> weights, String source);

    /** The graphs that run a forward pass, e.g. to attach profiling listeners. */
    List<SameDiff> graphs();

    default long parameterCount() {
        return parameterShapes().values().stream().mapToLong(s -> java.util.Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum();
    }
}
