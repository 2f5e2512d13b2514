package org.dit4j.models.fitmindone;

import org.dit4j.models.nn.PosEmbed;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * MindONE's FiT token layout: {@code patchify}/{@code unpatchify} in (p1, p2, c) order, the position tables of
 * {@code mindone/models/modules/pos_embed.py} ({@code precompute_freqs_cis_2d} with its VisionNTK, and the 2-D sin-cos
 * table), and {@code FiTInferPipeline}'s padding to {@code max_length} tokens ({@code _pad_latent}, {@code _create_pos_embed},
 * {@code _create_mask}, {@code _unpad_latent}).
 */
public final class MindOneFiTLayout {
    public static final double ROPE_THETA = 10000.0;

    private MindOneFiTLayout() {}

    /** {@code FiT.patchify}: (N, C, nh·p, nw·p) → (N, nh·nw, p·p·C), feature index (p1·p + p2)·C + c. */
    public static INDArray patchify(INDArray x, int p) {
        long n = x.size(0), c = x.size(1), nh = x.size(2) / p, nw = x.size(3) / p;
        INDArray v = x.castTo(DataType.FLOAT).dup('c').reshape('c', n, c, nh, p, nw, p);   // N C nh p1 nw p2
        return v.permute(0, 2, 4, 3, 5, 1).dup('c').reshape('c', n, nh * nw, (long) p * p * c);   // N (nh nw) (p1 p2 C)
    }

    /** {@code FiT.unpatchify}: (N, nh·nw, p·p·C) → (N, C, nh·p, nw·p). */
    public static INDArray unpatchify(INDArray x, int p, int nh, int nw) {
        long n = x.size(0), c = x.size(2) / ((long) p * p);
        INDArray v = x.dup('c').reshape('c', n, nh, nw, p, p, c);                          // N nh nw p1 p2 C
        return v.permute(0, 5, 1, 3, 2, 4).dup('c').reshape('c', n, c, (long) nh * p, (long) nw * p);   // N C (nh p1) (nw p2)
    }

    /**
     * {@code precompute_freqs_cis_2d(dim, nh, nw, theta, max_length)}: (nh·nw, dim) float32, per token the complex pairs
     * [cos w·f₀, sin w·f₀, …] of the column index then those of the row index, f_i = 1/θ^(2i/d), d = dim/2. With
     * {@code maxLength} > 0, VisionNTK scales θ per axis by s^(d/(d−2)), s = max(max index / √max_length, 1). The
     * arithmetic is numpy 1.x's: s and θ in float64, the frequencies, angles, cos and sin in float32.
     */
    public static INDArray freqsCis2d(int dim, int nh, int nw, double theta, int maxLength) {
        int d = dim / 2, pairs = d / 2;
        float[] fw = axisFreqs(d, nw - 1, theta, maxLength), fh = axisFreqs(d, nh - 1, theta, maxLength);
        float[] out = new float[nh * nw * dim];
        for (int h = 0; h < nh; h++)
            for (int w = 0; w < nw; w++) {
                int row = (h * nw + w) * dim;
                for (int i = 0; i < pairs; i++) {
                    float aw = (float) w * fw[i], ah = (float) h * fh[i];
                    out[row + 2 * i] = (float) Math.cos(aw);
                    out[row + 2 * i + 1] = (float) Math.sin(aw);
                    out[row + d + 2 * i] = (float) Math.cos(ah);
                    out[row + d + 2 * i + 1] = (float) Math.sin(ah);
                }
            }
        return Nd4j.create(out, new long[]{(long) nh * nw, dim}, 'c');
    }

    /** One axis's frequencies; {@code maxIndex} is {@code np.max(pos)} of that axis. */
    static float[] axisFreqs(int d, int maxIndex, double theta, int maxLength) {
        double t = theta;
        if (maxLength > 0) {
            double s = Math.max(maxIndex / Math.sqrt(maxLength), 1.0);
            t = theta * Math.pow(s, (double) d / (d - 2));
        }
        float theta32 = (float) t;   // a float64 scalar against a float32 array computes in float32 under numpy 1.x
        float[] f = new float[d / 2];
        for (int i = 0; i < f.length; i++) {
            float e = (float) (2 * i) / (float) d;
            f[i] = 1f / (float) Math.pow(theta32, e);
        }
        return f;
    }

    /**
     * {@code _create_pos_embed(h, w, p, max_length, embed_dim, method)} for a latent of h × w: the table of its nh × nw
     * tokens, zero rows up to {@code maxLength} (unless it is longer), as (1, rows, embed_dim).
     */
    public static INDArray posEmbed(int h, int w, int p, int maxLength, int embedDim, String method) {
        int nh = h / p, nw = w / p, t = nh * nw;
        INDArray fill = method.equals("rotate") ? freqsCis2d(embedDim, nh, nw, ROPE_THETA, maxLength)
                : PosEmbed.sincos2d(embedDim, nh, nw).reshape(t, embedDim);
        if (t > maxLength) return fill.reshape(1, t, embedDim);
        INDArray table = Nd4j.zeros(DataType.FLOAT, 1, maxLength, embedDim);
        table.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, t), NDArrayIndex.all()).assign(fill);
        return table;
    }

    /** {@code _create_mask(valid_t, max_length, n)}: (n, max(valid_t, max_length)), 1 on the first {@code validT} tokens. */
    public static INDArray mask(int validT, int maxLength, int n) {
        INDArray m = Nd4j.zeros(DataType.FLOAT, n, Math.max(validT, maxLength));
        m.get(NDArrayIndex.all(), NDArrayIndex.interval(0, validT)).assign(1);
        return m;
    }

    /**
     * {@code _pad_latent}: the latent's token sequence zero-padded to {@code maxLength} tokens and laid out as a square
     * latent of side √maxLength·p (token order kept: not a spatial placement); a longer latent is returned as it is.
     */
    public static INDArray padLatent(INDArray x, int p, int maxLength) {
        INDArray tokens = patchify(x, p);
        long n = tokens.size(0), t = tokens.size(1), f = tokens.size(2);
        if (t > maxLength) return x.castTo(DataType.FLOAT);
        int side = (int) Math.round(Math.sqrt(maxLength));
        if (side * side != maxLength) throw new IllegalArgumentException("max_length " + maxLength + " is not a square token count");
        INDArray padded = Nd4j.zeros(DataType.FLOAT, n, maxLength, f);
        padded.get(NDArrayIndex.all(), NDArrayIndex.interval(0, t), NDArrayIndex.all()).assign(tokens);
        return unpatchify(padded, p, side, side);
    }

    /** {@code _unpad_latent}: the first {@code validT} tokens of a padded latent back as an h × w latent. */
    public static INDArray unpadLatent(INDArray x, int validT, int h, int w, int p) {
        INDArray tokens = patchify(x, p);
        INDArray real = tokens.get(NDArrayIndex.all(), NDArrayIndex.interval(0, validT), NDArrayIndex.all());
        return unpatchify(real, p, h / p, w / p);
    }
}
