package org.dit4j;

import org.dit4j.io.Npy;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** The official-code fixtures in ../shared/fixtures (see its README) and comparison helpers. */
public final class Fixtures {
    private Fixtures() {}

    public static Path root() {
        String prop = System.getProperty("dit4j.fixtures");
        Path p = prop != null ? Paths.get(prop) : Paths.get("..", "shared", "fixtures");
        if (!Files.isDirectory(p)) fail("fixtures not found at " + p.toAbsolutePath() + " (CI keeps ../shared beside the checkout)");
        return p;
    }

    public static Path tiny(String rel) {
        return root().resolve("dit-tiny").resolve(rel);
    }

    public static INDArray npy(String relToTiny) {
        return Npy.read(tiny(relToTiny));
    }

    /** Timesteps as the model takes them (integer-valued files included). */
    public static double[] times(String relToTiny) {
        return npy(relToTiny).castTo(DataType.DOUBLE).toDoubleVector();
    }

    public static long[] longs(String relToTiny) {
        return npy(relToTiny).castTo(DataType.LONG).toLongVector();
    }

    /** |actual − expected| ≤ atol + rtol·|expected| elementwise, reporting the worst element. */
    public static void assertClose(INDArray expected, INDArray actual, double atol, double rtol, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] e = expected.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] a = actual.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < e.length; i++) {
            double excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
            if (Double.isNaN(a[i]) || excess > worst) {
                worst = Double.isNaN(a[i]) ? Double.POSITIVE_INFINITY : excess;
                worstAt = i;
            }
        }
        if (worstAt >= 0)
            fail(what + ": element " + worstAt + " is " + a[worstAt] + ", expected " + e[worstAt]
                    + " (tolerance " + atol + " + " + rtol + "·|ref|) of shape " + Arrays.toString(expected.shape()));
    }

    /** The official {@code forward_with_cfg} over a guidance batch whose labels {@code y} are cond then null rows. */
    public static org.dit4j.diffusion.DenoiseFn forwardWithCfg(org.dit4j.models.Denoiser m, long[] y, double scale, int channels) {
        int h = y.length / 2;
        return org.dit4j.pipeline.Guidance.batched(scale, channels).denoiser(m, org.dit4j.models.Conditioning.labels(Arrays.copyOfRange(y, 0, h)),
                org.dit4j.models.Conditioning.labels(Arrays.copyOfRange(y, h, y.length)));
    }

    public static double maxAbsDiff(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }
}
