package org.dit4j.diffusion;

import org.dit4j.Fixtures;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.models.TinyDiTAccess;
import org.dit4j.util.Slices;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.dit4j.diffusion.DpmSolverReplayTest.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The official DPM-Solver++ run on the tiny DiT (fixtures/dpm/dit/order2_time_uniform_steps10): multistep order 2,
 * 10 time-uniform steps from 1 to 1e-3, classifier-free guidance 4.0 on all four channels with null class 10,
 * learned-sigma channels dropped. The guided batch is cat([z, z]) as DiT's sampling does; its first half is the run.
 */
class DpmSolverTinyDiTTest {
    @Test
    void dpmSolverPlusPlusOnTheTinyDiTMatchesEveryStep() {
        String dir = "dpm/dit/order2_time_uniform_steps10/";
        DiTModel m = TinyDiTAccess.model();
        DiscreteVpSchedule ns = DiscreteVpSchedule.dpmSolver(NoiseSchedule.betas("linear", 1000));
        DpmSolver solver = DpmSolver.builder(ns, ModelTime.discrete(ns.totalN())).algorithm(DpmSolver.Algorithm.DPMSOLVER_PP)
                .steps(10).order(2).method(DpmSolver.Method.MULTISTEP).skipType(DpmSolver.SkipType.TIME_UNIFORM)
                .lowerOrderFinal(true).denoiseToZero(false).tStart(1.0).tEnd(1e-3).build();
        INDArray z = fixture("dpm/dit/noise.npy");   // (2, 4, 8, 8)
        long[] labels = fixture("dpm/dit/y.npy").toLongVector();
        long[] y = {labels[0], labels[1], 10, 10};
        List<Double> modelT = new ArrayList<>();
        DenoiseFn cfg = Fixtures.forwardWithCfg(m, y, 4.0, 4);
        DenoiseFn guided = (x, ts) -> {
            modelT.add(ts[0]);
            return cfg.apply(x, ts);   // (4, 8, 8, 8)
        };
        INDArray x0Pred = fixture(dir + "x0_pred.npy"), intermediates = fixture(dir + "intermediates.npy");
        INDArray fin = solver.sample(guided, Nd4j.concat(0, z, z), NoiseSource.seeded(0), (k, t, sample, pred) -> {
            assertTrajectoryClose(intermediates.slice(k + 1), Slices.range(sample, 0, 0, 2), "intermediate " + (k + 1));
            assertTrajectoryClose(x0Pred.slice(k), Slices.range(pred, 0, 0, 2), "x0 of step " + k);
        });
        INDArray sample = Slices.range(fin, 0, 0, 2);   // (2, 4, 8, 8)
        assertTrajectoryClose(fixture(dir + "final.npy"), sample, "final");
        assertTrajectoryClose(fixture(dir + "final_f64.npy"), sample, "final vs float64");
        double[] refT = doubles(dir + "model_t.npy");
        assertEquals(refT.length, modelT.size());
        for (int k = 0; k < refT.length; k++) assertEquals(refT[k], modelT.get(k), 1e-6 * refT[k], "model_t[" + k + "]");
    }
}
