package org.dit4j.models;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Map;

/**
 * Parameters that are another model's arrays, not copies: a second graph over the same weights (a training stage,
 * say) sees every in-place update of the first and costs no memory for them.
 */
public final class SharedParams implements Params {
    private final SameDiff sd;
    private final Map<String, INDArray> arrays;

    public SharedParams(SameDiff sd, Map<String, INDArray> arrays) {
        this.sd = sd;
        this.arrays = arrays;
    }

    @Override
    public SameDiff sd() {
        return sd;
    }

    @Override
    public SDVariable weight(String name, long... shape) {
        return sd.var(name, array(name, shape));
    }

    @Override
    public SDVariable buffer(String name, long... shape) {
        return sd.constant(name, array(name, shape));
    }

    private INDArray array(String name, long[] shape) {
        INDArray a = arrays.get(name);
        if (a == null || !Arrays.equals(a.shape(), shape))
            throw new IllegalArgumentException("parameter '" + name + "' " + (a == null ? "is missing" : "has shape "
                    + Arrays.toString(a.shape())) + ", the architecture needs " + Arrays.toString(shape));
        return a;
    }
}
