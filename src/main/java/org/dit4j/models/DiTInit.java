package org.dit4j.models;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The official {@code initialize_weights}: Xavier-uniform linears (the patch embedding too, on its flattened weight)
 * with zero biases, N(0, 0.02) label table and timestep MLP, the fixed sin-cos table, and adaLN-Zero — every
 * modulation and the final layer start at zero, so the untrained model outputs zeros.
 */
public final class DiTInit {
    private DiTInit() {}

    public static void initialize(DiTModel model, long seed) {
        model.loadStateDict(weights(model.config(), seed), "initialisation");
    }

    /** The initial state dict of {@code cfg} drawn from {@code seed}, in official order. */
    public static Map<String, INDArray> weights(DiTConfig cfg, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : ShapeParams.of(cfg).entrySet()) {
            String name = e.getKey();
            long[] s = e.getValue();
            INDArray a;
            if (name.equals("pos_embed")) a = PosEmbed.sincos2d(cfg.hiddenSize(), cfg.gridSize());
            else if (name.contains("adaLN_modulation") || name.startsWith("final_layer.linear") || name.endsWith(".bias")) a = Nd4j.zeros(s);
            else if (name.startsWith("y_embedder") || name.startsWith("t_embedder")) a = normal(rng, s, 0.02);
            else a = xavier(rng, s);
            w.put(name, a);
        }
        return w;
    }

    private static INDArray normal(SplittableRandom rng, long[] shape, double std) {
        float[] v = new float[(int) count(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * std);
        return Nd4j.create(v, shape, 'c');
    }

    /** U(−a, a), a = √(6 / (fan_in + fan_out)) over the weight viewed as (out, rest). */
    private static INDArray xavier(SplittableRandom rng, long[] shape) {
        long fanOut = shape[0], fanIn = count(shape) / fanOut;
        double a = Math.sqrt(6.0 / (fanIn + fanOut));
        float[] v = new float[(int) count(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * a);
        return Nd4j.create(v, shape, 'c');
    }

    private static long count(long[] s) {
        long n = 1;
        for (long d : s) n *= d;
        return n;
    }
}
