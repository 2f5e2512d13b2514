package org.dit4j.diffusion;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * DPM-Solver runs of the official code replayed without a network: a fake model returns the noise prediction that
 * reproduces the recorded x0 predictions, so the solver's grid, orders, model timesteps and every update are checked
 * on their own (fixtures/dpm/dit/order2_time_uniform_steps10), and U-ViT's dpm_solver_pp.py plan on its 10-step run
 * (fixtures/uvit/dpm_solver/steps10, which records no x0 history: grid, orders and model timesteps only).
 */
class DpmSolverReplayTest {
    /** Trajectories relative to the reference's largest magnitude: float32 and float64 official runs differ by 4.6e-6. */
    static final double TRAJECTORY_RTOL = 1e-4;

    static INDArray fixture(String rel) {
        return Npy.read(Fixtures.root().resolve(rel));
    }

    static double[] doubles(String rel) {
        return fixture(rel).castTo(DataType.DOUBLE).toDoubleVector();
    }

    static double relativeError(INDArray ref, INDArray got) {
        assertArrayEquals(ref.shape(), got.shape());
        return Fixtures.maxAbsDiff(ref, got) / Math.max(1.0, ref.amaxNumber().doubleValue());
    }

    static void assertTrajectoryClose(INDArray ref, INDArray got, String what) {
        double err = relativeError(ref, got);
        assertTrue(err <= TRAJECTORY_RTOL, what + ": relative error " + err);
    }

    /** λ of float32 grid points: 1e-6 plus the official float32 cancellation of 1 − α² (half an ulp of 1 over σ²). */
    static void assertLambdaGrid(Schedule ns, double[] times, double[] ref, String what) {
        for (int i = 0; i < ref.length; i++) {
            double got = ns.lambda(times[i]), sigma = ns.sigma(times[i]);
            double rtol = 1e-6 + Math.ulp(1f) / 2 / (sigma * sigma);
            assertEquals(ref[i], got, rtol * Math.abs(ref[i]), what + "[" + i + "]");
        }
    }

    @Test
    void ditOrder2MultistepReplaysEveryUpdate() {
        String dir = "dpm/dit/order2_time_uniform_steps10/";
        DiscreteVpSchedule ns = DiscreteVpSchedule.dpmSolver(NoiseSchedule.betas("linear", 1000));
        DpmSolver solver = DpmSolver.builder(ns, ModelTime.discrete(ns.totalN()))
                .algorithm(DpmSolver.Algorithm.DPMSOLVER_PP).steps(10).order(2).method(DpmSolver.Method.MULTISTEP)
                .skipType(DpmSolver.SkipType.TIME_UNIFORM).lowerOrderFinal(true).tStart(1.0).tEnd(1e-3).build();
        DpmSolver.Plan plan = solver.plan();

        double[] gridF64 = doubles(dir + "time_grid_f64.npy"), gridF32 = doubles(dir + "time_grid.npy");
        for (int i = 0; i < gridF64.length; i++) {
            assertEquals(gridF64[i], plan.times()[i], 1e-12 * gridF64[i], "time_grid_f64[" + i + "]");
            assertEquals(gridF32[i], plan.times()[i], 1e-7 * gridF32[i], "time_grid[" + i + "]");
        }
        assertLambdaGrid(ns, plan.times(), doubles(dir + "lambda_grid.npy"), "lambda_grid");
        long[] orders = fixture(dir + "orders.npy").castTo(DataType.LONG).toLongVector();
        assertArrayEquals(orders, Arrays.stream(plan.orders()).asLongStream().toArray(), "orders");

        INDArray x0Pred = fixture(dir + "x0_pred.npy"), intermediates = fixture(dir + "intermediates.npy");
        List<Double> modelT = new ArrayList<>();
        DenoiseFn replay = (x, ts) -> {
            int k = modelT.size();
            modelT.add(ts[0]);
            double t = ts[0] / 1000 + 1.0 / ns.totalN();   // back from (t − 1/N)·1000
            INDArray eps = x.sub(x0Pred.slice(k).mul((float) Math.exp(ns.logAlpha(t)))).divi((float) ns.sigma(t));   // (N, C, H, W)
            return Nd4j.concat(1, eps, Nd4j.onesLike(eps).muli(1e3f));   // learned-sigma channels the solver must drop
        };
        INDArray noise = fixture("dpm/dit/noise.npy");
        assertEquals(intermediates.slice(0), noise);
        INDArray fin = solver.sample(replay, noise, NoiseSource.seeded(0), (k, t, sample, pred) -> {
            assertTrajectoryClose(intermediates.slice(k + 1), sample, "intermediate " + (k + 1));
            assertTrajectoryClose(x0Pred.slice(k), pred, "x0 of step " + k);
        });
        assertTrajectoryClose(fixture(dir + "final.npy"), fin, "final");
        assertTrajectoryClose(fixture(dir + "final_f64.npy"), fin, "final vs float64");

        double[] refT = doubles(dir + "model_t.npy");
        assertEquals(refT.length, modelT.size(), "model calls");
        for (int k = 0; k < refT.length; k++) assertEquals(refT[k], modelT.get(k), 1e-6 * refT[k], "model_t[" + k + "]");
    }

    @Test
    void uvitFastPlanHasTheOfficialGridOrdersAndModelTimesteps() {
        String dir = "uvit/dpm_solver/steps10/";
        DiscreteVpSchedule ns = DiscreteVpSchedule.uvitPp(NoiseSchedule.betas("scaled_linear", 1000));
        // eval_ldm_discrete.sample_z: predict_x0=True, steps=10, eps=1/N, T=1, defaults order 3, time_uniform, 'fast'
        DpmSolver solver = DpmSolver.builder(ns, ModelTime.scaled(1000)).variant(DpmSolver.Variant.UVIT_PP)
                .algorithm(DpmSolver.Algorithm.DPMSOLVER_PP).method(DpmSolver.Method.SINGLESTEP).order(3).steps(10)
                .skipType(DpmSolver.SkipType.TIME_UNIFORM).tStart(1.0).tEnd(1.0 / 1000).build();
        DpmSolver.Plan plan = solver.plan();
        assertArrayEquals(new int[]{3, 3, 3, 1}, plan.orders());
        double[] grid = doubles(dir + "time_grid.npy");
        int[] outerAt = {0, 3, 6, 9, 10};
        for (int i = 0; i < outerAt.length; i++) assertEquals(grid[outerAt[i]], plan.times()[i], 1e-7 * grid[outerAt[i]], "outer time " + i);
        assertLambdaGrid(ns, grid, doubles(dir + "lambda_grid.npy"), "lambda_grid");

        List<Double> modelT = new ArrayList<>();
        INDArray noise = fixture("uvit/dpm_solver/noise.npy");
        solver.sample((x, ts) -> {
            modelT.add(ts[0]);
            return Nd4j.zeros(DataType.FLOAT, x.shape());
        }, noise, NoiseSource.seeded(0), null);
        double[] refT = doubles(dir + "model_t.npy");
        assertEquals(refT.length, modelT.size(), "model calls (NFE = steps)");
        // the intermediate times are inverse_lambda(λ(grid point)), float32 round trips in the reference (6e-8 measured)
        for (int k = 0; k < refT.length; k++) assertEquals(refT[k], modelT.get(k), 1e-6 * refT[k], "model_t[" + k + "]");
    }
}
