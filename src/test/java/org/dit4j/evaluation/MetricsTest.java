package org.dit4j.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.io.Npy;
import org.dit4j.io.Npz;
import org.dit4j.models.inception.InceptionFixtureWeights;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.util.Random;

import static org.dit4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.*;

/** FID (pytorch-fid's and ADM's official values on the fixture pair), statistics, Inception Score and precision/recall rules. */
class MetricsTest {
    private static INDArray fid(String f) {
        return Npy.read(InceptionFixtureWeights.eval("fid/pair_d64/" + f));
    }

    private static float[] floats(INDArray a) {
        return a.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    @Test
    void statisticsAreNumpysMeanAndCov() {
        INDArray x1 = fid("x1.npy");
        FidStatistics s = FidStatistics.of(floats(x1), 500, 64);
        assertClose(fid("mu1.npy"), s.muArray(), 0, 1e-15, "mu1");
        assertClose(fid("sigma1.npy"), s.sigma(), 1e-15, 1e-13, "sigma1");
    }

    @Test
    void frechetDistanceMatchesBothOfficialRoutes() throws IOException {
        JsonNode r = new ObjectMapper().readTree(InceptionFixtureWeights.eval("fid/pair_d64/result.json").toFile());
        FidStatistics a = FidStatistics.of(floats(fid("x1.npy")), 500, 64), b = FidStatistics.of(floats(fid("x2.npy")), 400, 64);
        FrechetDistance.Terms t = FrechetDistance.terms(a, b);
        JsonNode c = r.get("components");
        assertEquals(c.get("tr_covmean").asDouble(), t.traceCovmean(), 1e-12 * 15.7);
        assertEquals(c.get("diff_dot_diff").asDouble(), t.diffDotDiff(), 1e-13);
        for (String route : new String[]{"pytorch_fid", "adm"}) {
            double want = r.get(route).get("value").asDouble();
            assertEquals(want, t.value(), 1e-9 * want, route);
        }
        double fromStored = FrechetDistance.compute(new FidStatistics(fid("mu1.npy").toDoubleVector(), fid("sigma1.npy")),
                new FidStatistics(fid("mu2.npy").toDoubleVector(), fid("sigma2.npy")));
        assertEquals(r.get("pytorch_fid").get("value").asDouble(), fromStored, 1e-9 * fromStored);
        assertEquals(0, FrechetDistance.compute(a, a), 1e-9);
    }

    @Test
    void rankDeficientCovariancesGiveAFiniteDistance() {
        // 20 samples in 64 dimensions: rank 19, most eigenvalues rounding noise around zero
        Random rnd = new Random(3);
        float[] x = new float[20 * 64], y = new float[20 * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
            y[i] = (float) (0.5 + rnd.nextGaussian());
        }
        FidStatistics a = FidStatistics.of(x, 20, 64), b = FidStatistics.of(y, 20, 64);
        double f = FrechetDistance.compute(a, b);
        assertTrue(Double.isFinite(f) && f > 0, "FID " + f);
        assertEquals(0, FrechetDistance.compute(a, a), 1e-6 * FrechetDistance.trace(a.sigma()));
    }

    @Test
    void rankDeficientCaseMatchesScipysSqrtm() throws IOException {
        // N < D (100 and 120 samples, 256 dimensions): scipy's sqrtm returns small imaginary parts; the reference is
        // pytorch-fid's function on scipy 1.10 (scripts/reference/make_fid_rank_deficient.py)
        java.nio.file.Path dir = java.nio.file.Paths.get("src/test/resources/reference/fid-rank-deficient");
        FidStatistics a = FidStatistics.of(floats(Npy.read(dir.resolve("x1.npy"))), 100, 256);
        FidStatistics b = FidStatistics.of(floats(Npy.read(dir.resolve("x2.npy"))), 120, 256);
        double want = new ObjectMapper().readTree(dir.resolve("result.json").toFile()).get("fid").asDouble();
        assertEquals(want, FrechetDistance.compute(a, b), 1e-6 * want);
    }

    @Test
    void scipysRetryOnASingularProductIsTakenWhereScipyTakesIt() throws IOException {
        // scripts/reference/make_fid_retry.py: 3 samples in 16 dimensions; with a feature constant in each set, scipy's
        // sqrtm meets 0/0 and the official code adds 1e-6·I (the FID moves by ~1e-5 relative); without, it does not
        java.nio.file.Path dir = java.nio.file.Paths.get("src/test/resources/reference/fid-retry");
        JsonNode r = new ObjectMapper().readTree(dir.resolve("result.json").toFile());
        for (String c : new String[]{"retry_n3_d16", "plain_n3_d16"}) {
            FidStatistics a = FidStatistics.read(dir.resolve(c + "_a.npz"), "mu", "sigma"), b = FidStatistics.read(dir.resolve(c + "_b.npz"), "mu", "sigma");
            double want = r.get(c).get("fid").asDouble();
            assertEquals(!r.get(c).get("sqrtm_finite").asBoolean(), ScipySqrtmFailure.fails(a.sigma().data().asDouble(), b.sigma().data().asDouble(), 16), c);
            // the retry's offset makes the product well-conditioned; the plain rank-2 case keeps its rounding noise
            assertEquals(want, FrechetDistance.compute(a, b), (c.startsWith("retry") ? 1e-9 : 1e-6) * want, c);
        }
    }

    @Test
    void pytorchFidStatisticsFileIsReadAndMatchesItsImages() {
        var file = InceptionFixtureWeights.eval("npz/pytorch_fid_stats_dims64_public.npz");   // DEFLATED members
        FidStatistics stored = FidStatistics.read(file, "mu", "sigma");
        float[] f = new float[3 * 64];
        for (int i = 0; i < 3; i++)
            System.arraycopy(floats(Npy.read(InceptionFixtureWeights.eval("inception/img" + i + "/block0_mean.npy"))), 0, f, i * 64, 64);
        FidStatistics ours = FidStatistics.of(f, 3, 64);
        assertClose(stored.muArray(), ours.muArray(), 1e-12, 0, "mu");
        assertClose(stored.sigma(), ours.sigma(), 1e-12, 0, "sigma");
        var e = assertThrows(RuntimeException.class, () -> FidStatistics.read(file, "mu_s", "sigma_s"));
        assertTrue(e.getMessage().contains("has no 'mu_s' array (keys: mu, sigma)"), e.getMessage());
    }

    @Test
    void samplBatchStreamsItsUint8Images() throws IOException {
        try (Npz.ArrayStream s = Npz.stream(InceptionFixtureWeights.eval("npz/dit_sample_batch.npz"), "arr_0")) {
            assertEquals("u1", s.dtype);
            assertArrayEquals(new long[]{4, 32, 32, 3}, s.shape);
            byte[] b = new byte[4 * 32 * 32 * 3];
            s.readFully(b, b.length);
            // DiT's sample_ddp.py: clamp(127.5 x + 128, 0, 255) truncated; the first floats are pinned to −1, 1, 0, …
            float[] x = floats(Npy.read(InceptionFixtureWeights.eval("npz/dit_samples_float.npy")));    // (4, 3, 32, 32)
            for (int n = 0; n < 4; n++)
                for (int c = 0; c < 3; c++)
                    for (int p = 0; p < 32 * 32; p++) {
                        int want = (int) Math.min(255f, Math.max(0f, 127.5f * x[(n * 3 + c) * 1024 + p] + 128.0f));
                        assertEquals(want, b[(n * 1024 + p) * 3 + c] & 0xff);
                    }
        }
    }

    @Test
    void inceptionScoreFollowsTheSplitRule() {
        int classes = 4;
        // one-hot over 4 classes, each used equally: IS = 4; uniform rows: IS = 1
        float[] oneHot = new float[8 * classes], uniform = new float[8 * classes];
        for (int i = 0; i < 8; i++) {
            for (int c = 0; c < classes; c++) {
                oneHot[i * classes + c] = c == i % 4 ? 1 - 3e-6f : 1e-6f;
                uniform[i * classes + c] = 0.25f;
            }
        }
        assertEquals(1.0, InceptionScore.compute(uniform, 8, classes, 5000), 1e-6);
        assertEquals(4.0, InceptionScore.compute(oneHot, 8, classes, 5000), 4e-4);
        // splits of 3: [0,1,2] [3,4,5] [6,7] -> scores 3, 3, 2 (the short split counts as one): mean 8/3
        assertEquals(8.0 / 3, InceptionScore.compute(oneHot, 8, classes, 3), 4e-4);
    }

    @Test
    void inceptionScoreAndPrecisionRecallMatchAdmsArithmetic() throws IOException {
        // scripts/reference/make_adm_is_pr.py: evaluator.py's IS (5003 rows: a full split and a 3-row one) and its
        // manifold estimator on float32 distances, in numpy
        java.nio.file.Path dir = java.nio.file.Paths.get("src/test/resources/reference/adm-is-pr");
        JsonNode r = new ObjectMapper().readTree(dir.resolve("result.json").toFile());
        float[] probs = floats(Npy.read(dir.resolve("probs.npy")));
        double is = r.get("inception_score").asDouble(), is1000 = r.get("inception_score_split_1000").asDouble();
        assertEquals(is, InceptionScore.compute(probs, 5003, 8, 5000), 1e-6 * is);
        assertEquals(is1000, InceptionScore.compute(probs, 5003, 8, 1000), 1e-6 * is1000);
        PrecisionRecall.Result pr = PrecisionRecall.compute(floats(Npy.read(dir.resolve("ref.npy"))), 300,
                floats(Npy.read(dir.resolve("sample.npy"))), 250, 16);
        assertEquals(r.get("precision").asDouble(), pr.precision(), 0);
        assertEquals(r.get("recall").asDouble(), pr.recall(), 0);
    }

    @Test
    void numpyPairwiseSumOrder() {
        float[] a = new float[300];
        for (int i = 0; i < a.length; i++) a[i] = 1f / (i + 1);
        double exact = 0;
        for (float v : a) exact += v;
        assertEquals(exact, InceptionScore.pairwiseSum(a, 0, 300), 1e-5);
        assertEquals(a[0] + a[1] + a[2], InceptionScore.pairwiseSum(a, 0, 3));
    }

    @Test
    void precisionRecallUseTheKthNeighbourRadius() {
        // references: 5 points on a line at 0..4 (radius² of point 0: 4th smallest of {0,1,4,9,16} = 9; of point 2: {0,1,1,4,4} -> 4)
        float[] ref = {0, 1, 2, 3, 4};
        float[] sample = {2.5f, 7f, 10f, 11f, 12f};
        PrecisionRecall.Result r = PrecisionRecall.compute(ref, 5, sample, 5, 1);
        // 2.5 is inside; 7 is at d² 9 from 4 (radius of 4 is 9: {0,1,4,9,16}) -> inside (<=); 10, 11, 12 are outside
        assertEquals(2 / 5.0, r.precision(), 0);
        // sample radii: 2.5 -> {0, 20.25, 56.25, 72.25, 90.25}[3] = 72.25 covers all refs
        assertEquals(1.0, r.recall(), 0);
        PrecisionRecall.Result same = PrecisionRecall.compute(ref, 5, ref, 5, 1);
        assertEquals(new PrecisionRecall.Result(1, 1), same);
    }
}
