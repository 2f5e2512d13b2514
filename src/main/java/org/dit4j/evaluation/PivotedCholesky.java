package org.dit4j.evaluation;

/**
 * Σ = P L Lᵀ Pᵀ for a symmetric positive semi-definite Σ, with complete (diagonal) pivoting, stopping as LAPACK's
 * {@code dpstrf} does once the largest remaining pivot is at most n·ε·max(diag Σ): L is n × rank, rows in pivot order.
 */
record PivotedCholesky(double[] l, int rank, int[] perm) {
    static PivotedCholesky of(double[] sigma, int n) {
        double[] a = sigma.clone();                        // row-major; only the lower triangle is used and updated
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        double[][] cols = new double[n][];
        double maxDiag = 0;
        for (int i = 0; i < n; i++) maxDiag = Math.max(maxDiag, a[i * n + i]);
        double tol = n * Math.ulp(1.0) * maxDiag;
        int rank = 0;
        for (int k = 0; k < n; k++) {
            int p = k;
            for (int i = k + 1; i < n; i++) if (a[i * n + i] > a[p * n + p]) p = i;
            if (!(a[p * n + p] > tol)) break;
            swap(a, n, k, p);
            int t = perm[k];
            perm[k] = perm[p];
            perm[p] = t;
            for (int j = 0; j < k; j++) {                  // earlier columns follow the row swap
                double v = cols[j][k];
                cols[j][k] = cols[j][p];
                cols[j][p] = v;
            }
            double d = Math.sqrt(a[k * n + k]);
            double[] c = new double[n];
            c[k] = d;
            for (int i = k + 1; i < n; i++) c[i] = a[i * n + k] / d;
            for (int i = k + 1; i < n; i++) {
                double ci = c[i];
                int row = i * n;
                for (int j = k + 1; j <= i; j++) a[row + j] -= ci * c[j];
            }
            cols[k] = c;
            rank = k + 1;
        }
        double[] l = new double[n * rank];
        for (int j = 0; j < rank; j++)
            for (int i = 0; i < n; i++) l[i * rank + j] = cols[j][i];
        return new PivotedCholesky(l, rank, perm);
    }

    /** Swaps index k and p (k < p) of the trailing block (indices ≥ k) kept in the lower triangle, as dpstrf does. */
    private static void swap(double[] a, int n, int k, int p) {
        if (k == p) return;
        swapAt(a, k * n + k, p * n + p);
        for (int j = k + 1; j < p; j++) swapAt(a, j * n + k, p * n + j);
        for (int i = p + 1; i < n; i++) swapAt(a, i * n + k, i * n + p);
    }

    private static void swapAt(double[] a, int x, int y) {
        double v = a[x];
        a[x] = a[y];
        a[y] = v;
    }
}
