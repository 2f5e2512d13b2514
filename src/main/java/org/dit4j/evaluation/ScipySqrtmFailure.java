package org.dit4j.evaluation;

import java.util.ArrayList;
import java.util.List;

/**
 * Whether scipy 1.10's {@code sqrtm(Σ₁Σ₂)} comes back non-finite, which makes pytorch-fid and ADM retry with 1e-6·I on
 * both covariances. It does when its triangular recurrence meets R[i,i] + R[j,j] = 0 with a non-zero numerator inside
 * one 64-wide block: two exactly-zero eigenvalues of the Schur form in the same block. Exact zeros there come from
 * LAPACK's balancing ({@code dgebal} 'P' in {@code dgees}): a zero row of the product (a feature constant in set 1)
 * is pushed to the bottom, a zero column (constant in set 2) to the top. A top and a bottom one in the same block,
 * coupled, fail; two of the same side, or a feature constant in both sets, do not. This replays that permutation
 * on the product's zero pattern and scipy's block layout.
 */
final class ScipySqrtmFailure {
    private ScipySqrtmFailure() {}

    /**
     * For covariances {@code s1}, {@code s2} (row-major n × n): the product's exact zeros are the rows of features
     * constant in set 1 and the columns of features constant in set 2 (a zero row or column of a covariance).
     */
    static boolean fails(double[] s1, double[] s2, int n) {
        boolean[] zeroRow = new boolean[n], zeroCol = new boolean[n];
        boolean any1 = false, any2 = false;
        for (int i = 0; i < n; i++) {
            boolean r = true, c = true;
            for (int j = 0; j < n && (r || c); j++) {
                r &= s1[i * n + j] == 0.0;
                c &= s2[j * n + i] == 0.0;
            }
            zeroRow[i] = r;
            zeroCol[i] = c;
            any1 |= r;
            any2 |= c;
        }
        if (!any1 || !any2) return false;
        boolean[] z = new boolean[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) z[i * n + j] = zeroRow[i] || zeroCol[j];
        int[] orig = new int[n];                           // orig[position] = original index
        for (int i = 0; i < n; i++) orig[i] = i;
        int k = 0, l = n - 1;
        List<Integer> bottomZeros = new ArrayList<>(), topZeros = new ArrayList<>();
        rows:
        while (true) {                                     // dgebal: rows isolating an eigenvalue, pushed down
            for (int j = l; j >= 0; j--) {
                boolean isolated = true;
                for (int i = 0; i <= l && isolated; i++) if (i != j && !z[j * n + i]) isolated = false;
                if (!isolated) continue;
                exchange(z, orig, n, j, l, k);
                if (z[l * n + l]) bottomZeros.add(l);
                if (l == 0) break rows;
                l--;
                continue rows;
            }
            break;
        }
        cols:
        while (l > 0) {                                    // then columns, pushed left
            for (int j = k; j <= l; j++) {
                boolean isolated = true;
                for (int i = k; i <= l && isolated; i++) if (i != j && !z[i * n + j]) isolated = false;
                if (!isolated) continue;
                exchange(z, orig, n, j, k, k);
                if (z[k * n + k]) topZeros.add(k);
                k++;
                continue cols;
            }
            break;
        }
        if (topZeros.isEmpty() || bottomZeros.isEmpty()) return false;
        int[] block = blocks(n);
        for (int p : topZeros)
            for (int q : bottomZeros)
                if (block[p] == block[q] && coupled(z, n, p, q)) return true;
        return false;
    }

    /**
     * LAPACK's exchange of j and m (columns over rows 0..l, rows over columns k..n−1); swapping whole columns here
     * only touches rows below l, which no later search reads.
     */
    private static void exchange(boolean[] z, int[] orig, int n, int j, int m, int k) {
        if (j == m) return;
        for (int i = 0; i < n; i++) {
            boolean t = z[i * n + j];
            z[i * n + j] = z[i * n + m];
            z[i * n + m] = t;
        }
        for (int c = k; c < n; c++) {
            boolean t = z[j * n + c];
            z[j * n + c] = z[m * n + c];
            z[m * n + c] = t;
        }
        int t = orig[j];
        orig[j] = orig[m];
        orig[m] = t;
    }

    /** The top zero's row or the bottom zero's column carries something, so the recurrence's numerator is not zero. */
    private static boolean coupled(boolean[] z, int n, int p, int q) {
        boolean rowP = false, colQ = false;
        for (int c = p + 1; c < n; c++) rowP |= !z[p * n + c];
        for (int r = 0; r < q; r++) colQ |= !z[r * n + q];
        return rowP && colQ;
    }

    /** scipy's {@code _sqrtm_triu} blocks: max(n // 64, 1) blocks, the smaller ones first. */
    static int[] blocks(int n) {
        int nblocks = Math.max(n / 64, 1), bsmall = n / nblocks, nlarge = n % nblocks, nsmall = nblocks - nlarge;
        int[] id = new int[n];
        int pos = 0, b = 0;
        for (int i = 0; i < nsmall; i++, b++) for (int s = 0; s < bsmall; s++) id[pos++] = b;
        for (int i = 0; i < nlarge; i++, b++) for (int s = 0; s <= bsmall; s++) id[pos++] = b;
        return id;
    }
}
