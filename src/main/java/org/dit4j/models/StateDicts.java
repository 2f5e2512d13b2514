package org.dit4j.models;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** State-dict checks shared by every family. */
public final class StateDicts {
    private StateDicts() {}

    /** A copy of every tensor, in the same order (an EMA start, a checkpoint's state, sampling weights). */
    public static Map<String, INDArray> copy(Map<String, INDArray> weights) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        weights.forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }

    /**
     * {@code weights} checked against {@code shapes} and in their order, as the arrays a model keeps: contiguous float32
     * arrays are taken over (no second copy of a large model), others converted.
     */
    public static Map<String, INDArray> takeOver(Map<String, long[]> shapes, Map<String, INDArray> weights, String source) {
        check(shapes, weights, source);
        Map<String, INDArray> own = new LinkedHashMap<>();
        for (String k : shapes.keySet()) {
            INDArray v = weights.get(k);
            own.put(k, v.dataType() == DataType.FLOAT && !v.isView() && v.ordering() == 'c' ? v : v.castTo(DataType.FLOAT).dup('c'));
        }
        return own;
    }

    /**
     * Checks {@code weights}, then copies their values into the model's arrays {@code into}: once a graph or gradient
     * function holds on to those arrays, replacing them would leave it computing with stale copies.
     */
    public static void assign(Map<String, long[]> shapes, Map<String, INDArray> into, Map<String, INDArray> weights, String source) {
        check(shapes, weights, source);
        for (String k : shapes.keySet()) into.get(k).assign(weights.get(k).castTo(DataType.FLOAT));
    }

    /** Every missing, unexpected and mis-shaped key at once, as one {@link StateDictMismatchException}. */
    public static void check(Map<String, long[]> expected, Map<String, INDArray> weights, String source) {
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), mismatched = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            INDArray w = weights.get(e.getKey());
            if (w == null) missing.add(e.getKey());
            else if (!Arrays.equals(w.shape(), e.getValue()))
                mismatched.add(e.getKey() + " " + Arrays.toString(w.shape()) + " (expected " + Arrays.toString(e.getValue()) + ")");
        }
        for (String k : weights.keySet()) if (!expected.containsKey(k)) unexpected.add(k);
        if (!missing.isEmpty() || !unexpected.isEmpty() || !mismatched.isEmpty())
            throw new StateDictMismatchException(source, missing, unexpected, mismatched);
    }
}
