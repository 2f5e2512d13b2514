package org.dit4j.diffusion;

import org.dit4j.Fixtures;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.models.TinyDiTAccess;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

import static org.dit4j.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** DDIM and DDPM loops and single p_sample steps against the official diffusion code, step by step. */
class SamplerParityTest {
    private static final double TRAJECTORY_RTOL = 1e-4;

    private static DenoiseFn guided(DiTModel m, long[] y, List<double[]> seen) {
        DenoiseFn cfg = Fixtures.forwardWithCfg(m, y, 4.0, 3);
        return (x, ts) -> {
            seen.add(ts.clone());
            return cfg.apply(x, ts);
        };
    }

    /** max|Δ| relative to the reference's largest magnitude: the unclipped random-weight trajectory reaches ~1e3. */
    private static void assertTrajectoryClose(INDArray ref, INDArray got, String what) {
        double scale = Math.max(1.0, ref.amaxNumber().doubleValue());
        double err = maxAbsDiff(ref, got) / scale;
        assertTrue(err <= TRAJECTORY_RTOL, what + ": relative error " + err);
    }

    @Test
    void ddim10WithGuidanceMatchesEveryStep() {
        DiTModel m = TinyDiTAccess.model();
        GaussianDiffusion d = GaussianDiffusion.create("10");
        List<double[]> seen = new ArrayList<>();
        INDArray samples = npy("ddim10/samples.npy"), preds = npy("ddim10/pred_xstart.npy");
        long[] respaced = longs("ddim10/respaced_t.npy");
        int[] map = d.timestepMap();
        INDArray fin = new DdimSampler(d, false, 0.0).sample(guided(m, longs("ddim10/y.npy"), seen), npy("ddim10/noise.npy"),
                NoiseSource.seeded(0), (k, t, sample, pred) -> {
                    assertEquals(map[(int) respaced[k]], t, "model timestep of respaced index " + respaced[k] + " at step " + k);
                    assertTrajectoryClose(samples.slice(k), sample, "ddim step " + k + " sample");
                    assertTrajectoryClose(preds.slice(k), pred, "ddim step " + k + " pred_xstart");
                });
        assertTrajectoryClose(npy("ddim10/final.npy"), fin, "ddim final");
        assertTrajectoryClose(npy("ddim10/final_f64.npy"), fin, "ddim final vs float64");
        long[] modelT = longs("ddim10/model_t.npy");
        for (int k = 0; k < modelT.length; k++) assertEquals(modelT[k], seen.get(k)[0], "model timestep at step " + k);
    }

    @Test
    void ddim10ClippedMatches() {
        DiTModel m = TinyDiTAccess.model();
        INDArray fin = new DdimSampler(GaussianDiffusion.create("10"), true, 0.0)
                .sample(guided(m, longs("ddim10/y.npy"), new ArrayList<>()), npy("ddim10/noise.npy"), NoiseSource.seeded(0), null);
        assertTrajectoryClose(npy("ddim10/final_clip.npy"), fin, "ddim clip_denoised final");
    }

    @Test
    void ddpm10WithRecordedNoiseMatchesEveryStep() {
        DiTModel m = TinyDiTAccess.model();
        INDArray samples = npy("ddpm10/samples.npy");
        INDArray fin = new DdpmSampler(GaussianDiffusion.create("10"), false).sample(guided(m, longs("ddpm10/y.npy"), new ArrayList<>()),
                npy("ddpm10/noise.npy"), NoiseSource.replay(npy("ddpm10/step_noise.npy")),
                (k, t, sample, pred) -> assertTrajectoryClose(samples.slice(k), sample, "ddpm step " + k));
        assertTrajectoryClose(npy("ddpm10/final.npy"), fin, "ddpm final");
    }

    @Test
    void singlePSampleStepsOf250StepProcess() {
        for (String dir : new String[]{"p_sample_250_t125", "p_sample_250_t0"}) {
            GaussianDiffusion d = GaussianDiffusion.create("250");
            long[] t = longs(dir + "/t.npy");
            INDArray modelOut = npy(dir + "/model_output.npy");
            assertArrayEquals(times(dir + "/model_t.npy"), d.modelTimesteps(t), dir + " model timesteps");
            DenoiseFn replay = (x, ts) -> modelOut;
            var mv = d.pMeanVariance(replay, npy(dir + "/x_t.npy"), t, false);
            assertClose(npy(dir + "/mean.npy"), mv.mean(), 1e-5, 1e-5, dir + " mean");
            assertClose(npy(dir + "/log_variance.npy"), mv.logVariance(), 1e-5, 1e-5, dir + " log_variance");
            assertClose(npy(dir + "/pred_xstart.npy"), mv.predXstart(), 1e-5, 1e-5, dir + " pred_xstart");
            var step = d.pSample(replay, npy(dir + "/x_t.npy"), t, false, npy(dir + "/noise.npy"));
            assertClose(npy(dir + "/sample.npy"), step.sample(), 1e-5, 1e-5, dir + " sample");
        }
    }

    @Test
    void seededNoiseIsReproducible() {
        INDArray a = NoiseSource.seeded(7).next(2, 4, 8, 8), b = NoiseSource.seeded(7).next(2, 4, 8, 8);
        assertEquals(a, b);
        assertNotEquals(a, NoiseSource.seeded(8).next(2, 4, 8, 8));
        double mean = a.meanNumber().doubleValue(), std = a.stdNumber().doubleValue();
        assertEquals(0, mean, 0.15);
        assertEquals(1, std, 0.15);
    }
}
