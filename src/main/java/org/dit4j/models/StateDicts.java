package org.dit4j.models;

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
