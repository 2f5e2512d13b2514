package org.dit4j.evaluation;

import org.dit4j.io.Npz;
import org.dit4j.io.WeightsFormatException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The Gaussian of a feature set: {@code mu = np.mean(x, 0)} and {@code sigma = np.cov(x, rowvar=False)} (ddof 1), both
 * float64 as pytorch-fid computes them from its float64 activations (ADM keeps a float32 mean; the FID moves by ~1e-11
 * relative). The covariance is accumulated over row chunks, so memory is the (D, D) matrix plus one chunk.
 */
public record FidStatistics(double[] mu, INDArray sigma) {
    private static final int CHUNK = 4096;

    public FidStatistics {
        if (sigma.rank() != 2 || sigma.size(0) != mu.length || sigma.size(1) != mu.length)
            throw new IllegalArgumentException("sigma " + Arrays.toString(sigma.shape()) + " does not fit mu (" + mu.length + ")");
    }

    public int dim() {
        return mu.length;
    }

    /** Statistics of {@code n} rows of {@code d} float32 features, row-major. */
    public static FidStatistics of(float[] x, int n, int d) {
        if (n < 2) throw new IllegalArgumentException("statistics need at least 2 feature vectors, got " + n);
        double[] mu = new double[d];
        for (int i = 0; i < n; i++)                       // sequential over rows, as numpy reduces axis 0
            for (int j = 0; j < d; j++) mu[j] += x[i * d + j];
        for (int j = 0; j < d; j++) mu[j] /= n;
        INDArray c = Nd4j.zeros(DataType.DOUBLE, d, d);
        for (int from = 0; from < n; from += CHUNK) {
            int rows = Math.min(CHUNK, n - from);
            double[] centred = new double[rows * d];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < d; j++) centred[i * d + j] = x[(from + i) * d + j] - mu[j];
            INDArray m = Nd4j.create(centred, new long[]{rows, d}, 'c');
            c.addi(m.transpose().mmul(m));                // (D, D)
        }
        return new FidStatistics(mu, c.muli(1.0 / (n - 1)));   // numpy: c *= np.true_divide(1, fact)
    }

    /**
     * Statistics stored under {@code muKey}/{@code sigmaKey} of an {@code .npz} (pytorch-fid's {@code mu}/{@code sigma},
     * ADM's {@code mu}/{@code sigma} and {@code mu_s}/{@code sigma_s}); float32 or float64.
     */
    public static FidStatistics read(Path npz, String muKey, String sigmaKey) {
        List<String> keys = Npz.keys(npz);
        for (String k : List.of(muKey, sigmaKey))
            if (!keys.contains(k)) throw new WeightsFormatException(npz, "has no '" + k + "' array (keys: " + String.join(", ", keys) + ")");
        INDArray mu = Npz.read(npz, muKey), sigma = Npz.read(npz, sigmaKey);
        if (!mu.dataType().isFPType() || mu.rank() != 1)
            throw new WeightsFormatException(npz, "'" + muKey + "' is " + mu.dataType() + " " + Arrays.toString(mu.shape()) + ", expected a float32/float64 vector (D,)");
        if (!sigma.dataType().isFPType() || sigma.rank() != 2 || sigma.size(0) != mu.length() || sigma.size(1) != mu.length())
            throw new WeightsFormatException(npz, "'" + sigmaKey + "' is " + sigma.dataType() + " " + Arrays.toString(sigma.shape())
                    + ", expected float32/float64 (" + mu.length() + ", " + mu.length() + ")");
        return new FidStatistics(mu.castTo(DataType.DOUBLE).toDoubleVector(), sigma.castTo(DataType.DOUBLE).dup('c'));
    }

    public INDArray muArray() {
        return Nd4j.createFromArray(mu);
    }
}
