package org.dit4j.models.fit;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * FiT's 2-D RoPE ({@code rope.py}): per head, the first half of the dimensions rotates with the token's row index and the
 * second half with its column index, each frequency repeated on an adjacent pair. The frequencies of every
 * {@code custom_freqs} rule are computed here in float32 as the official tensors are; the per-token cos and sin tables go
 * into the graph as inputs.
 */
public final class VisionRotaryEmbedding {
    /** {@code custom_freqs} values the official code accepts. */
    public static final List<String> CUSTOM_FREQS = List.of("normal", "linear", "ntk-aware", "ntk-aware-pro1", "ntk-aware-pro2", "ntk-by-parts", "yarn");

    private final int dim;               // per axis: head_dim / 2
    private final String customFreqs;
    private final float[] freqsH, freqsW;
    private final float magnitude;       // yarn's mscale, pro1/pro2's proportion, else 1

    /** The cos and sin tables (N, T, head_dim) of a batch of grids. */
    public record Tables(INDArray cos, INDArray sin) {}

    /**
     * As the model's constructor builds it: {@code maxPeLenH/W} are the sampled grid's rows and columns and
     * {@code oriMaxPeLen} the trained side, used by every rule but {@code normal}.
     */
    public VisionRotaryEmbedding(int headDim, double theta, String customFreqs, int maxPeLenH, int maxPeLenW, boolean decouple, int oriMaxPeLen) {
        this.dim = headDim / 2;
        this.customFreqs = customFreqs;
        float th = (float) theta;
        if (customFreqs.equals("normal")) {
            freqsH = base(th, dim);
            freqsW = freqsH.clone();
            magnitude = 1f;
            return;
        }
        if (decouple) {
            freqsH = freqs(th, maxPeLenH, oriMaxPeLen);
            freqsW = freqs(th, maxPeLenW, oriMaxPeLen);
        } else {
            int longest = Math.max(maxPeLenH, maxPeLenW);
            freqsH = freqs(th, longest, oriMaxPeLen);
            freqsW = freqsH.clone();
        }
        float scale = Math.max((float) Math.max(maxPeLenH, maxPeLenW) / (float) oriMaxPeLen, 1f);   // dynamic scale
        magnitude = switch (customFreqs) {
            case "yarn" -> scale <= 1f ? 1f : 0.1f * (float) Math.log(scale) + 1f;                     // get_mscale
            case "ntk-aware-pro1" -> proportion(Math.max(maxPeLenH, maxPeLenW), oriMaxPeLen);
            case "ntk-aware-pro2" -> proportion(maxPeLenH * maxPeLenW, oriMaxPeLen * oriMaxPeLen);
            default -> 1f;
        };
    }

    public float[] freqsH() {
        return freqsH.clone();
    }

    public float[] freqsW() {
        return freqsW.clone();
    }

    /** The factor on cos and sin: YaRN's mscale (1 + 0.1·ln s), NTK-pro's proportion, else 1. */
    public float magnitude() {
        return magnitude;
    }

    /** {@code theta ** (arange(0, dim, 2) / dim)} in float32. */
    private static float[] powers(float theta, int dim) {
        float[] p = new float[dim / 2];
        for (int i = 0; i < p.length; i++) p[i] = (float) Math.pow(theta, (float) (2 * i) / (float) dim);
        return p;
    }

    private static float[] base(float theta, int dim) {
        float[] p = powers(theta, dim);
        for (int i = 0; i < p.length; i++) p[i] = 1f / p[i];
        return p;
    }

    /** {@code get_1d_rope_freqs}: the frequencies for a side of {@code maxPeLen} tokens trained at {@code oriMaxPeLen}. */
    private float[] freqs(float theta, int maxPeLen, int oriMaxPeLen) {
        float scale = Math.max((float) maxPeLen / (float) oriMaxPeLen, 1f);
        int n = dim / 2;
        float[] linear = powers(theta, dim), ntk = ntk(theta, scale), out = new float[n];
        for (int i = 0; i < n; i++) linear[i] = 1f / (scale * linear[i]);
        switch (customFreqs) {
            case "linear" -> System.arraycopy(linear, 0, out, 0, n);   // position interpolation
            case "ntk-aware", "ntk-aware-pro1", "ntk-aware-pro2" -> System.arraycopy(ntk, 0, out, 0, n);
            case "ntk-by-parts" -> {
                float[] base = base(theta, dim);
                float[] mask = rampMask(correctionRange(1.25, 0.75, theta, oriMaxPeLen));   // beta_0, beta_1
                for (int i = 0; i < n; i++) out[i] = linear[i] * (1f - mask[i]) + ntk[i] * mask[i];
                mask = rampMask(correctionRange(16, 2, theta, oriMaxPeLen));               // gamma_0, gamma_1
                for (int i = 0; i < n; i++) out[i] = out[i] * (1f - mask[i]) + base[i] * mask[i];
            }
            case "yarn" -> {
                float[] extrapolation = base(theta, dim);
                float[] mask = rampMask(correctionRange(32, 1, theta, oriMaxPeLen));        // beta_fast, beta_slow
                for (int i = 0; i < n; i++) out[i] = linear[i] * (1f - mask[i]) + extrapolation[i] * mask[i];
            }
            default -> throw new IllegalArgumentException("unknown custom_freqs '" + customFreqs + "' (expected one of " + CUSTOM_FREQS + ")");
        }
        return out;
    }

    /** NTK-aware: the base changed to {@code theta · scale^(dim / (dim − 2))}. */
    private float[] ntk(float theta, float scale) {
        float newBase = theta * (float) Math.pow(scale, (double) dim / (dim - 2));
        float[] f = new float[dim / 2];
        for (int i = 0; i < f.length; i++) f[i] = 1f / (float) Math.pow(newBase, (float) (2 * i) / (float) dim);
        return f;
    }

    /** {@code find_correction_range} (float64, as Python's math). */
    private int[] correctionRange(double lowRot, double highRot, float theta, int maxPositions) {
        int low = (int) Math.floor(correctionFactor(lowRot, theta, maxPositions));
        int high = (int) Math.ceil(correctionFactor(highRot, theta, maxPositions));
        return new int[]{Math.max(low, 0), Math.min(high, dim - 1)};
    }

    private double correctionFactor(double rotations, float theta, int maxPositions) {
        return (dim * Math.log(maxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
    }

    /** {@code 1 − linear_ramp_mask(low, high, dim // 2)}: 1 where the original frequencies are kept. */
    private float[] rampMask(int[] range) {
        double min = range[0], max = range[0] == range[1] ? range[1] + 0.001 : range[1];
        float[] m = new float[dim / 2];
        for (int i = 0; i < m.length; i++) {
            float ramp = (float) (((float) i - min) / (float) (max - min));
            m[i] = 1f - Math.min(Math.max(ramp, 0f), 1f);
        }
        return m;
    }

    /** {@code get_proportion}: √(ln 2L / ln L_train) when 2L exceeds the trained length, else 1. */
    private static float proportion(int test, int train) {
        int doubled = test * 2;
        if ((double) doubled / train <= 1) return 1f;
        return (float) Math.sqrt((float) Math.log(doubled) / (float) Math.log(train));
    }

    /**
     * {@code get_cached_2d_rope_from_grid}: grid (N, 2, T), row 0 the column index and row 1 the row index → cos, sin
     * (N, T, head_dim), the row half first.
     */
    public Tables tables(INDArray grid) {
        long n = grid.size(0), t = grid.size(2);
        int half = 2 * freqsH.length, headDim = 2 * half;
        long[] g = grid.castTo(DataType.LONG).dup('c').data().asLong();
        float[] cos = new float[(int) (n * t * headDim)], sin = new float[cos.length];
        for (int b = 0; b < n; b++)
            for (int k = 0; k < t; k++) {
                long col = g[(int) ((b * 2) * t + k)], row = g[(int) ((b * 2 + 1) * t + k)];
                int at = (int) ((b * t + k) * headDim);
                fill(cos, sin, at, row, freqsH);
                fill(cos, sin, at + half, col, freqsW);
            }
        long[] shape = {n, t, headDim};
        return new Tables(Nd4j.create(cos, shape, 'c'), Nd4j.create(sin, shape, 'c'));
    }

    private void fill(float[] cos, float[] sin, int at, long index, float[] freqs) {
        for (int i = 0; i < freqs.length; i++) {
            float angle = (float) index * freqs[i];   // arange(max_cached_len) ⊗ freqs, in float32
            float c = (float) Math.cos(angle) * magnitude, s = (float) Math.sin(angle) * magnitude;
            cos[at + 2 * i] = c;
            cos[at + 2 * i + 1] = c;
            sin[at + 2 * i] = s;
            sin[at + 2 * i + 1] = s;
        }
    }
}
