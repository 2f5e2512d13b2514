package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Rotary position embedding on adjacent pairs (2i, 2i+1) of each head vector: {@code x·cos + rotate_half(x)·sin}, which is
 * the complex product (a + ib)(cos + i·sin) = (a·cos − b·sin) + i(b·cos + a·sin) when cos and sin repeat per pair.
 * {@code rotate_half} maps each pair (a, b) to (−b, a), here a matmul with a fixed ±1 permutation (exact, and
 * differentiable where M2.1's strided slices are not).
 */
public final class RotaryPairs {
    private RotaryPairs() {}

    /** The (hd, hd) matrix R with x·R = rotate_half(x). */
    public static INDArray rotation(int headDim) {
        float[] r = new float[headDim * headDim];
        for (int i = 0; i < headDim; i += 2) {
            r[(i + 1) * headDim + i] = -1f;   // out[2i] = −x[2i+1]
            r[i * headDim + i + 1] = 1f;      // out[2i+1] = x[2i]
        }
        return Nd4j.create(r, new long[]{headDim, headDim}, 'c');
    }

    /** x (N, H, T, hd), cos and sin broadcastable to it, rotation from {@link #rotation} → (N, H, T, hd). */
    public static SDVariable apply(SDVariable x, SDVariable cos, SDVariable sin, SDVariable rotation, int heads, int tokens, int headDim) {
        SameDiff sd = x.getSameDiff();
        SDVariable rotated = sd.reshape(sd.mmul(sd.reshape(x, -1, headDim), rotation), -1, heads, tokens, headDim);   // (N, H, T, hd)
        return x.mul(cos).add(rotated.mul(sin));                                                                   // (N, H, T, hd)
    }
}
