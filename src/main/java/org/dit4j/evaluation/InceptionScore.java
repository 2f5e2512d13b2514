package org.dit4j.evaluation;

/**
 * ADM's {@code compute_inception_score(activations, split_size=5000)} on the class probabilities
 * {@code softmax(pool3 · W)} (W the graph's bias-free MatMul), in float32 as numpy computes it: for consecutive splits
 * (the last may be shorter and still counts as one) {@code exp(mean_rows(sum_classes(p·(log p − log mean_rows(p)))))},
 * then the unweighted mean of the split scores. numpy's summation orders are kept: sequential over rows for the
 * axis-0 means, pairwise along a contiguous row.
 */
public final class InceptionScore {
    public static final int SPLIT_SIZE = 5000;

    private InceptionScore() {}

    public static double compute(float[] probs, int n, int classes, int splitSize) {
        if (n < 1) throw new IllegalArgumentException("the Inception Score needs at least one image");
        int splits = (n + splitSize - 1) / splitSize;
        float[] scores = new float[splits];
        float[] kl = new float[classes];
        for (int s = 0; s < splits; s++) {
            int from = s * splitSize, rows = Math.min(splitSize, n - from);
            float[] mean = new float[classes];
            for (int i = 0; i < rows; i++)
                for (int c = 0; c < classes; c++) mean[c] += probs[(from + i) * classes + c];
            float[] logMean = new float[classes];
            for (int c = 0; c < classes; c++) logMean[c] = (float) Math.log(mean[c] / rows);
            float[] rowSums = new float[rows];
            for (int i = 0; i < rows; i++) {
                for (int c = 0; c < classes; c++) {
                    float p = probs[(from + i) * classes + c];
                    kl[c] = p * ((float) Math.log(p) - logMean[c]);
                }
                rowSums[i] = pairwiseSum(kl, 0, classes);
            }
            scores[s] = (float) Math.exp(pairwiseSum(rowSums, 0, rows) / rows);
        }
        return pairwiseSum(scores, 0, splits) / splits;
    }

    /** numpy's {@code pairwise_sum} for float32 (blocks of 128, eight accumulators). */
    static float pairwiseSum(float[] a, int from, int n) {
        if (n < 8) {
            float r = 0f;
            for (int i = 0; i < n; i++) r += a[from + i];
            return r;
        }
        if (n <= 128) {
            float[] r = new float[8];
            for (int j = 0; j < 8; j++) r[j] = a[from + j];
            int i = 8;
            for (; i < n - n % 8; i += 8)
                for (int j = 0; j < 8; j++) r[j] += a[from + i + j];
            float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) res += a[from + i];
            return res;
        }
        int n2 = n / 2;
        n2 -= n2 % 8;
        return pairwiseSum(a, from, n2) + pairwiseSum(a, from + n2, n - n2);
    }
}
