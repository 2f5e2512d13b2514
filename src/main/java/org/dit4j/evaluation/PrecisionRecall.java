package org.dit4j.evaluation;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Improved precision and recall (Kynkäänniemi et al.) as ADM's {@code ManifoldEstimator} computes them with its
 * defaults (nhood_sizes=(3,), no percentile clamp): squared Euclidean distances {@code max(‖u‖² − 2u·v + ‖v‖², 0)},
 * never square-rooted; a point's radius is the value at index 3 of its sorted distance row, the point itself included
 * (so its third-nearest other point); a sample is inside the reference manifold iff {@code d² ≤ radius} of some
 * reference ({@code <=}). Distances are float32 (ADM tries float16 first on TF, which can move a count near ties).
 * Distance blocks are bounded, so memory stays at one block whatever the set sizes.
 */
public final class PrecisionRecall {
    public static final int NHOOD = 3;
    private static final int ROWS = 1024, COLS = 8192;

    public record Result(double precision, double recall) {}

    private PrecisionRecall() {}

    /** {@code compute_prec_recall(ref, sample)}: precision over the samples, recall over the references. */
    public static Result compute(float[] ref, int nRef, float[] sample, int nSample, int d) {
        float[] refRadii = radii(ref, nRef, d), sampleRadii = radii(sample, nSample, d);
        boolean[] sampleIn = new boolean[nSample], refIn = new boolean[nRef];
        forEachBlock(ref, nRef, sample, nSample, d, (r0, c0, rows, cols, dist) -> {
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) {
                    float v = dist[i * cols + j];
                    if (v <= refRadii[r0 + i]) sampleIn[c0 + j] = true;
                    if (v <= sampleRadii[c0 + j]) refIn[r0 + i] = true;
                }
        });
        return new Result(fraction(sampleIn), fraction(refIn));
    }

    private static double fraction(boolean[] b) {
        int k = 0;
        for (boolean x : b) if (x) k++;
        return (double) k / b.length;
    }

    /** The distance at index {@link #NHOOD} of each row's ascending distances to the whole set (itself included). */
    static float[] radii(float[] x, int n, int d) {
        if (n <= NHOOD) throw new IllegalArgumentException("precision/recall need more than " + NHOOD + " images per set, got " + n);
        float[][] smallest = new float[n][NHOOD + 1];
        for (float[] s : smallest) java.util.Arrays.fill(s, Float.POSITIVE_INFINITY);
        forEachBlock(x, n, x, n, d, (r0, c0, rows, cols, dist) -> {
            for (int i = 0; i < rows; i++) {
                float[] s = smallest[r0 + i];
                for (int j = 0; j < cols; j++) {
                    float v = dist[i * cols + j];
                    if (v < s[NHOOD]) {                               // insert into the sorted NHOOD+1 smallest
                        int k = NHOOD;
                        while (k > 0 && s[k - 1] > v) {
                            s[k] = s[k - 1];
                            k--;
                        }
                        s[k] = v;
                    }
                }
            }
        });
        float[] r = new float[n];
        for (int i = 0; i < n; i++) r[i] = smallest[i][NHOOD];
        return r;
    }

    private interface Block {
        void accept(int r0, int c0, int rows, int cols, float[] dist);
    }

    /** Squared distances of row blocks of {@code u} against column blocks of {@code v}, as ADM's {@code _batch_pairwise_distances}. */
    private static void forEachBlock(float[] u, int nu, float[] v, int nv, int d, Block f) {
        float[] normU = norms(u, nu, d), normV = norms(v, nv, d);
        for (int r0 = 0; r0 < nu; r0 += ROWS) {
            int rows = Math.min(ROWS, nu - r0);
            INDArray ub = Nd4j.create(java.util.Arrays.copyOfRange(u, r0 * d, (r0 + rows) * d), new long[]{rows, d}, 'c');
            for (int c0 = 0; c0 < nv; c0 += COLS) {
                int cols = Math.min(COLS, nv - c0);
                INDArray vb = Nd4j.create(java.util.Arrays.copyOfRange(v, c0 * d, (c0 + cols) * d), new long[]{cols, d}, 'c');
                float[] dot = ub.mmul(vb.transpose()).dup('c').data().asFloat();    // (rows, cols)
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cols; j++)
                        dot[i * cols + j] = Math.max(normU[r0 + i] - 2 * dot[i * cols + j] + normV[c0 + j], 0f);
                f.accept(r0, c0, rows, cols, dot);
            }
        }
    }

    private static float[] norms(float[] x, int n, int d) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float s = 0f;
            for (int j = 0; j < d; j++) s += x[i * d + j] * x[i * d + j];
            out[i] = s;
        }
        return out;
    }
}
