package org.dit4j.models.inception;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the blocks get their frozen tensors: the checked state dict (building the graph) or nothing (recording the
 * official key set and shapes, in torchvision's {@code state_dict()} order, without allocating anything).
 */
final class InceptionTensors {
    private final SameDiff sd;
    private final Map<String, INDArray> weights;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    private InceptionTensors(SameDiff sd, Map<String, INDArray> weights) {
        this.sd = sd;
        this.weights = weights;
    }

    static InceptionTensors recorder() {
        return new InceptionTensors(null, null);
    }

    static InceptionTensors of(SameDiff sd, Map<String, INDArray> weights) {
        return new InceptionTensors(sd, weights);
    }

    boolean building() {
        return sd != null;
    }

    SameDiff sd() {
        return sd;
    }

    /** Records {@code name} with its shape; the stored tensor as float32 when building, null when recording. */
    INDArray get(String name, long... shape) {
        shapes.put(name, shape.clone());
        return weights == null ? null : weights.get(name).castTo(DataType.FLOAT);
    }

    /** Records {@code name} as an int64 scalar (BatchNorm's {@code num_batches_tracked}: in the state dict, unused). */
    void counter(String name) {
        shapes.put(name, new long[0]);
    }

    SDVariable constant(String name, INDArray value) {
        return sd.constant(name, value);
    }

    Map<String, long[]> shapes() {
        return shapes;
    }

    static INDArray zeroCounter() {
        return Nd4j.scalar(DataType.LONG, 0);
    }
}
