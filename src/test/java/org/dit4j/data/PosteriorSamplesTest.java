package org.dit4j.data;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.*;

/** U-ViT's {@code FrozenAutoencoderKL.sample(moments)} on stored moments, and the per-step draw of {@link PosteriorSamples}. */
class PosteriorSamplesTest {
    @Test
    void theSampleIsMeanPlusClampedStdTimesEpsilonTimesTheScaleFactor() {
        // one pixel per channel, C = 2: logvar −40 and 25 are clamped to −30 and 20
        double[] mean = {0.5, -1.25}, logvar = {-40, 25}, eps = {0.75, -0.5};
        INDArray moments = Nd4j.create(new float[]{0.5f, -1.25f, -40f, 25f}, new long[]{1, 4, 1, 1}, 'c');
        INDArray e = Nd4j.create(new float[]{0.75f, -0.5f}, new long[]{1, 2, 1, 1}, 'c');
        INDArray z = PosteriorSamples.sample(moments, e, 0.23010);
        double[] clamped = {-30, 20};
        for (int c = 0; c < 2; c++) {
            double expected = 0.23010 * (mean[c] + Math.exp(0.5 * clamped[c]) * eps[c]);
            assertEquals(expected, z.getDouble(0, c, 0, 0), 1e-6 * Math.abs(expected), "channel " + c);
        }
        assertArrayEquals(new long[]{1, 2, 1, 1}, z.shape());
    }

    @Test
    void theOfficialPosteriorOfTheTinyVaeIsReproduced() {
        Fixtures.assertClose(Npy.read(Fixtures.root().resolve("vae-tiny/latent_scaled.npy")),
                PosteriorSamples.sample(Npy.read(Fixtures.root().resolve("vae-tiny/moments.npy")), Npy.read(Fixtures.root().resolve("vae-tiny/eps.npy")), 0.18215),
                1e-6, 1e-5, "latent_scaled = 0.18215 · (mean + std · eps)");
    }

    @Test
    void eachDrawIsAFunctionOfSeedAndDrawAndDiffersBetweenDraws() {
        INDArray m = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 3, 8, 2, 2).subi(0.5);
        TensorData moments = new TensorData(m, new long[]{0, 1, 2});
        PosteriorSamples a = new PosteriorSamples(moments, 0.18215, 7), b = new PosteriorSamples(moments, 0.18215, 7);
        long[] idx = {2, 0};
        boolean[] flips = {false, false};
        INDArray z5 = a.batch(idx, flips, 5).x();
        assertArrayEquals(new long[]{2, 4, 2, 2}, z5.shape());
        assertArrayEquals(new long[]{4, 2, 2}, a.exampleShape());
        assertEquals(z5, b.batch(idx, flips, 5).x(), "the same (seed, draw), the same sample");
        assertNotEquals(z5, a.batch(idx, flips, 6).x(), "a fresh sample every draw");
        var e = assertThrows(IllegalArgumentException.class, () -> new PosteriorSamples(new TensorData(Nd4j.zeros(2, 3, 2, 2), new long[]{0, 1}), 0.18215, 0));
        assertTrue(e.getMessage().contains("even channel count"), e.getMessage());
    }
}
