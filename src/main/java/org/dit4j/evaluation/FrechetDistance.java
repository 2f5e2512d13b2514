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
 * square root is Σ√λᵢ over the eigenvalues of Σ₁Σ₂, which is similar to the symmetric R Σ₂ R with R = √Σ₁. So the
 * trace is computed here through two symmetric eigendecompositions (LAPACK {@code dsyev}), eigenvalues below zero
 * (rounding noise of a rank-deficient covariance) counting as zero, as the real part of scipy's answer does.
 */
public final class FrechetDistance {
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
        return new Terms(dd, trace(a.sigma()), trace(b.sigma()), traceSqrtProduct(a.sigma(), b.sigma()));
    }

    static double trace(INDArray m) {
        double t = 0;
        for (int i = 0; i < m.size(0); i++) t += m.getDouble(i, i);
        return t;
    }

    /** tr √(Σ₁Σ₂) = Σ √max(λ, 0), λ the eigenvalues of R Σ₂ R, R = V diag(√max(w, 0)) Vᵀ from Σ₁ = V diag(w) Vᵀ. */
    static double traceSqrtProduct(INDArray s1, INDArray s2) {
        INDArray v = symmetric(s1);
        INDArray w = Eigen.symmetricGeneralizedEigenvalues(v, true);               // v becomes the eigenvectors (columns)
        INDArray root = Nd4j.createFromArray(sqrtClamped(w.toDoubleVector()));
        INDArray r = v.mulRowVector(root).mmul(v.transpose());                     // (D, D) = √Σ₁
        INDArray m = symmetric(r.mmul(s2.castTo(DataType.DOUBLE)).mmul(r));        // (D, D)
        double[] lambda = Eigen.symmetricGeneralizedEigenvalues(m, false).toDoubleVector();
        double t = 0;
        for (double l : sqrtClamped(lambda)) t += l;
        return t;
    }

    private static INDArray symmetric(INDArray m) {
        INDArray d = m.castTo(DataType.DOUBLE);
        return d.add(d.transpose()).muli(0.5).dup('c');
    }

    private static double[] sqrtClamped(double[] w) {
        double[] out = new double[w.length];
        for (int i = 0; i < w.length; i++) out[i] = Math.sqrt(Math.max(w[i], 0));
        return out;
    }
}
