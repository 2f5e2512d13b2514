package org.dit4j.evaluation;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.eigen.Eigen;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Fréchet distance of two Gaussians, {@code ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr √(Σ₁Σ₂)}, in float64 as pytorch-fid's
 * {@code calculate_frechet_distance} and ADM's {@code frechet_distance} compute it.
 * <p>
 * The official code takes {@code tr sqrtm(Σ₁Σ₂)} with scipy's Schur-based {@code sqrtm}; the trace of that triangular
 * square root is Σ√λᵢ over the eigenvalues of Σ₁Σ₂. With Σ₁ = P L Lᵀ Pᵀ (pivoted Cholesky, rank-revealing, so a
 * rank-deficient covariance of N < D samples is fine), Σ₁Σ₂ has the eigenvalues of the symmetric Lᵀ Pᵀ Σ₂ P L, which
 * LAPACK's {@code dsyev} gives (eigenvalues only: on some CPUs ND4J M2.1's eigenvectors are wrong above ~130 dimensions).
 * Eigenvalues below zero (rounding noise) count as zero, as taking scipy's {@code .real} does. Where scipy's
 * {@code sqrtm} would come back non-finite ({@link ScipySqrtmFailure}), the official retry is taken: the trace of
 * √((Σ₁ + 1e-6·I)(Σ₂ + 1e-6·I)).
 */
public final class FrechetDistance {
    /** The official retry's diagonal offset. */
    static final double EPS = 1e-6;

    private FrechetDistance() {}

    /** The terms of one distance, for reports and tests. */
    public record Terms(double diffDotDiff, double traceSigma1, double traceSigma2, double traceCovmean) {
        public double value() {
            return diffDotDiff + traceSigma1 + traceSigma2 - 2 * traceCovmean;
        }
    }

    public static double compute(FidStatistics a, FidStatistics b) {
        return terms(a, b).value();
    }

    public static Terms terms(FidStatistics a, FidStatistics b) {
        if (a.dim() != b.dim())
            throw new IllegalArgumentException("the two feature statistics have different dimensions: " + a.dim() + " and " + b.dim());
        double dd = 0;
        for (int i = 0; i < a.dim(); i++) {
            double d = a.mu()[i] - b.mu()[i];
            dd += d * d;
        }
        int n = a.dim();
        double[] s1 = a.sigma().castTo(DataType.DOUBLE).dup('c').data().asDouble(), s2 = b.sigma().castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double trCovmean;
        if (ScipySqrtmFailure.fails(s1, s2, n)) {
            // "fid calculation produces singular product; adding 1e-6 to diagonal of cov estimates" (the traces stay unshifted)
            org.slf4j.LoggerFactory.getLogger(FrechetDistance.class).warn("fid calculation produces singular product; adding {} to diagonal of cov estimates", EPS);
            double[] o1 = s1.clone(), o2 = s2.clone();
            for (int i = 0; i < n; i++) {
                o1[i * n + i] += EPS;
                o2[i * n + i] += EPS;
            }
            trCovmean = traceSqrtProduct(o1, o2, n);
        } else {
            trCovmean = traceSqrtProduct(s1, s2, n);
        }
        return new Terms(dd, trace(a.sigma()), trace(b.sigma()), trCovmean);
    }

    static double trace(INDArray m) {
        double t = 0;
        for (int i = 0; i < m.size(0); i++) t += m.getDouble(i, i);
        return t;
    }

    /** tr √(Σ₁Σ₂) = Σ √max(λ, 0), λ the eigenvalues of Lᵀ Pᵀ Σ₂ P L, Σ₁ = P L Lᵀ Pᵀ. */
    static double traceSqrtProduct(double[] s1, double[] s2v, int n) {
        PivotedCholesky c = PivotedCholesky.of(s1, n);
        if (c.rank() == 0) return 0;
        double[] permuted = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) permuted[i * n + j] = s2v[c.perm()[i] * n + c.perm()[j]];
        INDArray l = Nd4j.create(c.l(), new long[]{n, c.rank()}, 'c');                         // (D, r)
        INDArray m = l.transpose().mmul(Nd4j.create(permuted, new long[]{n, n}, 'c')).mmul(l); // (r, r)
        m = m.add(m.transpose()).muli(0.5).dup('c');
        double[] lambda = Eigen.symmetricGeneralizedEigenvalues(m, false).toDoubleVector();
        double t = 0;
        for (double v : sqrtClamped(lambda)) t += v;
        return t;
    }

    private static double[] sqrtClamped(double[] w) {
        double[] out = new double[w.length];
        for (int i = 0; i < w.length; i++) out[i] = Math.sqrt(Math.max(w[i], 0));
        return out;
    }
}
