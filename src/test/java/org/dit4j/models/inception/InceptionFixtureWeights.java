package org.dit4j.models.inception;

import org.dit4j.Fixtures;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The fixture's deterministic Inception weights (fixtures/eval/make_inception_pt.py), rebuilt bit for bit from its rule. */
public final class InceptionFixtureWeights {
    public static final long SEED = 0x5EED0E01L;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private InceptionFixtureWeights() {}

    public static Path eval(String rel) {
        return Fixtures.root().resolve("eval").resolve(rel);
    }

    static long fnv1a64(String s) {
        long h = 0xCBF29CE484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) h = (h ^ (b & 0xff)) * 0x100000001B3L;
        return h;
    }

    /** u_i = (2 k_i + 1 − 2^24) / 2^24, k_i = splitmix64(state0 + i·golden) >>> 40, i = 1..n. */
    static double[] stream(String name, int n) {
        long state = SEED ^ fnv1a64(name);
        double[] u = new double[n];
        for (int i = 0; i < n; i++) {
            long z = state + (i + 1L) * GOLDEN;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z = z ^ (z >>> 31);
            u[i] = (2.0 * (z >>> 40) + 1 - (1 << 24)) / (1 << 24);
        }
        return u;
    }

    public static Map<String, INDArray> stateDict() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : FidInceptionV3.stateDictShapes().entrySet()) {
            String name = e.getKey();
            long[] s = e.getValue();
            if (name.endsWith("num_batches_tracked")) {
                out.put(name, Nd4j.scalar(org.nd4j.linalg.api.buffer.DataType.LONG, 0));
                continue;
            }
            long n = 1;
            for (long d : s) n *= d;
            double[] u = stream(name, Math.toIntExact(n));
            float[] v = new float[u.length];
            double a = s.length == 4 ? Math.sqrt(6.0 / (n / s[0])) : s.length == 2 ? Math.sqrt(3.0 / s[1]) : 0.1;
            for (int i = 0; i < u.length; i++)
                v[i] = (float) (name.endsWith(".bn.weight") ? 1 + 0.1 * u[i] : name.endsWith(".bn.running_var") ? 1 + 0.5 * u[i] : u[i] * a);
            out.put(name, Nd4j.create(v, s, 'c'));
        }
        return out;
    }
}
