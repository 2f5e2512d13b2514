package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Embeds scalar timesteps: a 256-d sinusoid (computed on the host) through Linear → SiLU → Linear. */
public final class TimestepEmbedder {
    public static final int FREQUENCY_EMBEDDING_SIZE = 256;
    private final Linear fc1, fc2;

    public TimestepEmbedder(Params p, int hiddenSize) {
        fc1 = new Linear(p, "t_embedder.mlp.0", FREQUENCY_EMBEDDING_SIZE, hiddenSize);
        fc2 = new Linear(p, "t_embedder.mlp.2", hiddenSize, hiddenSize);
    }

    /** tFreq (N, 256) → (N, D). */
    public SDVariable apply(SDVariable tFreq) {
        return fc2.apply(Ops.silu(tFreq.getSameDiff(), fc1.apply(tFreq)));
    }

    /**
     * {@code timestep_embedding(t, dim)}: [cos(t·f), sin(t·f)] with f = exp(−ln(10000)·i/half). Every step is rounded
     * to float32 exactly where the official code computes in float32; at t≈1000 a float64 version differs by 3e-5,
     * and so does a correctly rounded exp: PyTorch's CPU exp is SLEEF's, reproduced by {@link #sleefExpf}. Fractional t
     * follows {@code timesteps[:, None].float()}: rounded to float32 before the product.
     */
    public static INDArray frequencyEmbedding(double[] t, int dim) {
        int half = dim / 2;
        float negLogPeriod = (float) -Math.log(10000.0);
        float[] freqs = new float[half];
        for (int i = 0; i < half; i++) {
            float arg = (negLogPeriod * (float) i) / (float) half;
            freqs[i] = sleefExpf(arg);
        }
        float[] out = new float[t.length * dim];
        for (int n = 0; n < t.length; n++) {
            float tn = (float) t[n];
            for (int i = 0; i < half; i++) {
                float a = tn * freqs[i];
                out[n * dim + i] = (float) Math.cos(a);
                out[n * dim + half + i] = (float) Math.sin(a);
            }
        }
        return Nd4j.create(out, new long[]{t.length, dim}, 'c');
    }

    /** SLEEF's {@code expf_u10} with FMA (what torch's vectorised CPU exp runs): within 1 ulp, and PyTorch's exact bits. */
    static float sleefExpf(float d) {
        final float rLn2 = 1.442695040888963407359924681001892137426645954152985934135449406931f;
        final float ln2Upper = 0.693145751953125f, ln2Lower = 1.428606765330187045e-06f;
        int q = (int) Math.rint(d * rLn2);
        float s = Math.fma((float) q, -ln2Upper, d);
        s = Math.fma((float) q, -ln2Lower, s);
        float u = 0.000198527617612853646278381f;
        u = Math.fma(u, s, 0.00139304355252534151077271f);
        u = Math.fma(u, s, 0.00833336077630519866943359f);
        u = Math.fma(u, s, 0.0416664853692054748535156f);
        u = Math.fma(u, s, 0.166666671633720397949219f);
        u = Math.fma(u, s, 0.5f);
        u = 1.0f + Math.fma(s * s, u, s);
        return Math.scalb(u, q);
    }
}
