package org.dit4j.models.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * DiT's {@code initialize_weights}, which FiT keeps: Xavier-uniform linears (the patch embedding too, on its flattened
 * weight) with zero biases, N(0, 0.02) label table and timestep MLP, frozen buffers as given, and adaLN-Zero — every
 * modulation and the final layer start at zero, so the untrained model outputs zeros.
 */
public final class AdaLnZeroInit {
    private AdaLnZeroInit() {}

    /** The initial state dict of the parameters {@code declared}, drawn from {@code seed}, in declaration order. */
    public static Map<String, INDArray> weights(ShapeParams declared, Map<String, INDArray> buffers, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : declared.shapes().entrySet()) {
            String name = e.getKey(), module = declared.moduleOf(name), type = declared.typeOf(module);
            long[] s = e.getValue();
            INDArray a;
            if (declared.buffers().contains(name)) a = buffers.get(name);                            // e.g. DiT's sin-cos table
            else if (name.endsWith(".bias")) a = Nd4j.zeros(s);                                      // _basic_init, patch embed
            else if (module.contains("adaLN_modulation.") || module.equals("final_layer.linear")) a = Nd4j.zeros(s);   // adaLN-Zero
            else if (type.equals("Embedding") || module.startsWith("t_embedder.mlp")) a = normal(rng, s, 0.02);
            else if (type.equals("Linear") || type.equals("Conv2d")) a = xavier(rng, s);            // conv: on its (out, in·k·k) view
            else throw new IllegalStateException("no initialisation rule for " + name + " (" + type + ")");
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
