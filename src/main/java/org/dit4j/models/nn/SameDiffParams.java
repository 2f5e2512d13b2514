package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

/** Parameters as SameDiff variables (trainable) and constants (frozen), recorded in state-dict order. */
public final class SameDiffParams implements Params {
    private final SameDiff sd;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, Boolean> trainable = new LinkedHashMap<>();

    private final Map<String, INDArray> initial;

    /** Parameters that start as zeros. */
    public SameDiffParams(SameDiff sd) {
        this(sd, Map.of());
    }

    /**
     * Parameters that are the given arrays where present (not copies: a second graph over a model's arrays sees every
     * in-place update and costs no memory for them), zeros elsewhere.
     */
    public SameDiffParams(SameDiff sd, Map<String, INDArray> initial) {
        this.sd = sd;
        this.initial = initial;
    }

    @Override
    public SDVariable weight(String name, long... shape) {
        record(name, shape, true);
        return sd.var(name, initial(name, shape));
    }

    @Override
    public SDVariable buffer(String name, long... shape) {
        record(name, shape, false);
        return sd.constant(name, initial(name, shape));
    }

    private INDArray initial(String name, long[] shape) {
        INDArray a = initial.get(name);
        if (a == null) return Nd4j.zeros(DataType.FLOAT, shape);
        if (!java.util.Arrays.equals(a.shape(), shape))
            throw new IllegalArgumentException("parameter '" + name + "' has shape " + java.util.Arrays.toString(a.shape())
                    + ", the architecture needs " + java.util.Arrays.toString(shape));
        return a;
    }

    private void record(String name, long[] shape, boolean isTrainable) {
        if (shapes.containsKey(name)) throw new IllegalStateException("parameter '" + name + "' defined twice");
        shapes.put(name, shape.clone());
        trainable.put(name, isTrainable);
    }

    /** Every parameter in definition order, which is the official state-dict order. */
    public Map<String, long[]> shapes() {
        return shapes;
    }

    public boolean isTrainable(String name) {
        return trainable.getOrDefault(name, false);
    }
}
