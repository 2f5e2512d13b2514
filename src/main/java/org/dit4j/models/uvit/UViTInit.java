package org.dit4j.models.uvit;

import org.dit4j.models.nn.ShapeParams;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The official initialisation: {@code trunc_normal_(pos_embed, std=.02)}, then {@code _init_weights} — every Linear
 * {@code trunc_normal_(std=.02)} with zero bias, every LayerNorm weight 1 and bias 0 — while the modules it skips keep
 * PyTorch's defaults: Conv2d (patch embedding, final 3×3 conv) kaiming-uniform(a = √5), i.e. U(±1/√fan_in) for weight
 * and bias, and {@code nn.Embedding} N(0, 1).
 */
public final class UViTInit {
    private UViTInit() {}

    public static Map<String, INDArray> weights(UViTConfig cfg, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        ShapeParams p = UViTFamily.declared(cfg);
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : p.shapes().entrySet()) {
            String name = e.getKey(), module = p.moduleOf(name), type = p.typeOf(module);
            long[] s = e.getValue();
            boolean bias = name.endsWith(".bias");
            INDArray a = switch (type) {
                case "Linear" -> bias ? Nd4j.zeros(s) : truncNormal(rng, s, 0.02);
                case "LayerNorm" -> bias ? Nd4j.zeros(s) : Nd4j.ones(s);
                case "Conv2d" -> uniform(rng, s, 1 / Math.sqrt(fanIn(p.shapes().get(module + ".weight"))));
                case "Embedding" -> normal(rng, s);
                default -> {
                    if (!name.equals("pos_embed")) throw new IllegalStateException("no initialisation rule for " + name);
                    yield truncNormal(rng, s, 0.02);
                }
            };
            w.put(name, a);
        }
        return w;
    }

    private static long fanIn(long[] weightShape) {
        return count(weightShape) / weightShape[0];
    }

    /** timm's {@code trunc_normal_(std)}: N(0, std²) cut at the absolute bounds ±2 (redrawn outside them). */
    private static INDArray truncNormal(SplittableRandom rng, long[] shape, double std) {
        float[] v = new float[(int) count(shape)];
        for (int i = 0; i < v.length; i++) {
            double x;
            do x = rng.nextGaussian() * std; while (x < -2 || x > 2);
            v[i] = (float) x;
        }
        return Nd4j.create(v, shape, 'c');
    }

    private static INDArray normal(SplittableRandom rng, long[] shape) {
        float[] v = new float[(int) count(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian();
        return Nd4j.create(v, shape, 'c');
    }

    private static INDArray uniform(SplittableRandom rng, long[] shape, double bound) {
        float[] v = new float[(int) count(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        return Nd4j.create(v, shape, 'c');
    }

    private static long count(long[] s) {
        long n = 1;
        for (long d : s) n *= d;
        return n;
    }
}
