package org.dit4j;

import org.dit4j.models.dit.DiTModel;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** The weight generator of scripts/reference/make_reference.py, bit for bit, so reference weights need not be stored. */
public final class DeterministicWeights {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private DeterministicWeights() {}

    static long fnv1a64(String s) {
        long h = 0xCBF29CE484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) h = (h ^ (b & 0xff)) * 0x100000001B3L;
        return h;
    }

    public static INDArray tensor(long seed, String name, long[] shape, double a) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[Math.toIntExact(n)];
        long state = seed ^ fnv1a64(name);
        for (int i = 0; i < v.length; i++) {
            long z = state + (i + 1L) * GOLDEN;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z = z ^ (z >>> 31);
            double u = (z >>> 40) * 0x1p-24;
            v[i] = (float) ((2.0 * u - 1.0) * a);
        }
        return Nd4j.create(v, shape, 'c');
    }

    /** Fills every parameter but pos_embed, with the script's per-tensor ranges. */
    public static void fill(DiTModel model, long seed) {
        Map<String, INDArray> w = new LinkedHashMap<>(model.stateDict());
        for (Map.Entry<String, INDArray> e : w.entrySet()) {
            String name = e.getKey();
            if (name.equals("pos_embed")) continue;
            long[] s = e.getValue().shape();
            double fanIn = 1;
            for (int i = 1; i < s.length; i++) fanIn *= s[i];
            double a = name.endsWith("embedding_table.weight") ? 0.8 : s.length == 1 ? 0.1 : Math.sqrt(3.0 / fanIn);
            e.setValue(tensor(seed, name, s, a));
        }
        model.loadStateDict(w, "deterministic weights (seed " + seed + ")");
    }
}
