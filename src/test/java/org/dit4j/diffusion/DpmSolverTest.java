package org.dit4j.diffusion;

import org.dit4j.diffusion.DpmSolver.Algorithm;
import org.dit4j.diffusion.DpmSolver.Method;
import org.dit4j.diffusion.DpmSolver.SkipType;
import org.dit4j.diffusion.DpmSolver.Variant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** DpmSolver's plans (time grids, orders, intermediate points), its refusals, and its convergence on a known ODE. */
class DpmSolverTest {
    private static final DiscreteVpSchedule DIT = DiscreteVpSchedule.dpmSolver(NoiseSchedule.betas("linear", 1000));

    private static DpmSolver.Builder solver(Schedule ns) {
        return DpmSolver.builder(ns, ModelTime.discrete(ns.totalN()));
    }

    private static int[] repeat(int value, int n, int... tail) {
        int[] out = new int[n + tail.length];
        Arrays.fill(out, 0, n, value);
        System.arraycopy(tail, 0, out, n, tail.length);
        return out;
    }

    @Test
    void timeGridsOfEachSkipType() {
        double t0 = 1e-3;
        double[] uniform = solver(DIT).steps(4).order(1).tEnd(t0).build().plan().times();
        double[] quadratic = solver(DIT).steps(4).order(1).tEnd(t0).skipType(SkipType.TIME_QUADRATIC).build().plan().times();
        double[] logSnr = solver(DIT).steps(4).order(1).tEnd(t0).skipType(SkipType.LOG_SNR).build().plan().times();
        for (int i = 0; i <= 4; i++) {
            // linspace(1, t0, 5); linspace(√1, √t0, 5)²; inverse_lambda(linspace(λ(1), λ(t0), 5))
            assertEquals(1 + i * (t0 - 1) / 4, uniform[i], 1e-15, "time_uniform[" + i + "]");
            double root = 1 + i * (Math.sqrt(t0) - 1) / 4;
            assertEquals(root * root, quadratic[i], 1e-15, "time_quadratic[" + i + "]");
            double lambda = DIT.lambda(1) + i * (DIT.lambda(t0) - DIT.lambda(1)) / 4;
            assertEquals(lambda, DIT.lambda(logSnr[i]), 1e-9, "logSNR[" + i + "]");
        }
        assertEquals(0.25075, uniform[3], 1e-15);
        assertEquals(0.2660, quadratic[2], 1e-4);   // ((1 + 0.0316)/2)²
        assertEquals(1, logSnr[0], 1e-9);
        assertEquals(t0, logSnr[4], 1e-12);
    }

    @Test
    void fastPlanOrdersFollowTheOfficialFormulas() {
        // Worked from get_orders_and_timesteps_for_singlestep_solver (current) and get_time_steps_for_dpm_solver_fast
        // (U-ViT), which agree for orders 2 and 3:
        //  order 3: K = steps // 3 + 1 updates, the tail by steps % 3 (0 → [2, 1], 1 → [1], 2 → [2]) after 3s:
        //    10 = 3·3 + 1 → K = 4: [3, 3, 3, 1];  20 = 3·6 + 2 → K = 7: [3 ×6, 2];  25 = 3·8 + 1 → K = 9: [3 ×8, 1];
        //    21 = 3·7 + 0 → K = 8: [3 ×6, 2, 1]. Every plan spends exactly `steps` evaluations.
        //  order 2: steps // 2 updates of order 2, one of order 1 when steps is odd: 10 → [2 ×5]; 20 → [2 ×10]; 25 → [2 ×12, 1].
        //  order 1: steps updates of order 1 (the current release only; U-ViT's raises "order must >= 2").
        int[][][] cases = {
                {{10, 3}, {3, 3, 3, 1}}, {{20, 3}, repeat(3, 6, 2)}, {{25, 3}, repeat(3, 8, 1)}, {{21, 3}, repeat(3, 6, 2, 1)},
                {{10, 2}, repeat(2, 5)}, {{20, 2}, repeat(2, 10)}, {{25, 2}, repeat(2, 12, 1)},
                {{10, 1}, repeat(1, 10)}, {{20, 1}, repeat(1, 20)}, {{25, 1}, repeat(1, 25)}};
        for (int[][] c : cases) {
            int steps = c[0][0], order = c[0][1];
            for (Variant v : Variant.values()) {
                if (v == Variant.UVIT_PP && order == 1) continue;
                DpmSolver s = solver(DIT).variant(v).method(Method.SINGLESTEP).steps(steps).order(order).build();
                assertArrayEquals(c[1], s.plan().orders(), v + " steps " + steps + " order " + order);
                assertEquals(steps, Arrays.stream(s.plan().orders()).sum(), "NFE");
                assertEquals(c[1].length, s.steps());
            }
        }
    }

    @Test
    void singlestepPlansOfTheTwoVariants() {
        // time_uniform: both take the steps + 1 grid and put each update's inner points on it (the current release
        // through a time-uniform inner grid between s and t, which is the same points)
        DpmSolver.Plan cur = solver(DIT).method(Method.SINGLESTEP).steps(10).order(3).build().plan();
        DpmSolver.Plan uvit = solver(DIT).variant(Variant.UVIT_PP).method(Method.SINGLESTEP).steps(10).order(3).build().plan();
        double[] fine = NoiseSchedule.linspace(1, 1e-3, 11);
        int[] at = {0, 3, 6, 9, 10};
        for (int i = 0; i < at.length; i++) {
            assertEquals(fine[at[i]], cur.times()[i], 1e-15);
            assertEquals(fine[at[i]], uvit.times()[i], 1e-15);
        }
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) {
                double r = (DIT.lambda(fine[at[i] + j + 1]) - DIT.lambda(fine[at[i]])) / (DIT.lambda(fine[at[i + 1]]) - DIT.lambda(fine[at[i]]));
                assertEquals(r, cur.ratios()[i][j], 1e-12);
                assertEquals(r, uvit.ratios()[i][j], 1e-12);
            }
        assertEquals(0, cur.ratios()[3].length);

        // logSNR: the current release takes K + 1 = 5 points uniform in λ and r = 1/3, 2/3; U-ViT groups the
        // 11-point λ-uniform grid by the orders, so its outer steps are 3/10, 3/10, 3/10, 1/10 of the λ range
        cur = solver(DIT).method(Method.SINGLESTEP).steps(10).order(3).skipType(SkipType.LOG_SNR).build().plan();
        uvit = solver(DIT).variant(Variant.UVIT_PP).method(Method.SINGLESTEP).steps(10).order(3).skipType(SkipType.LOG_SNR).build().plan();
        double l0 = DIT.lambda(1), range = DIT.lambda(1e-3) - l0;
        double[] uvitAt = {0, 0.3, 0.6, 0.9, 1};
        for (int i = 0; i <= 4; i++) {
            assertEquals(l0 + i * range / 4, DIT.lambda(cur.times()[i]), 1e-9, "current outer λ " + i);
            assertEquals(l0 + uvitAt[i] * range, DIT.lambda(uvit.times()[i]), 1e-9, "U-ViT outer λ " + i);
        }
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(new double[]{1.0 / 3, 2.0 / 3}, cur.ratios()[i], 1e-9);
            assertArrayEquals(new double[]{1.0 / 3, 2.0 / 3}, uvit.ratios()[i], 1e-9);
        }
    }

    @Test
    void fixedSinglestepRatios() {
        // U-ViT's 'singlestep' passes no r (1/2 in λ); the current 'singlestep_fixed' measures r on the time-uniform inner grid
        DpmSolver.Plan uvit = solver(DIT).variant(Variant.UVIT_PP).method(Method.SINGLESTEP_FIXED).steps(11).order(2).build().plan();
        DpmSolver.Plan cur = solver(DIT).method(Method.SINGLESTEP_FIXED).steps(11).order(2).build().plan();
        assertArrayEquals(repeat(2, 5), uvit.orders());
        assertArrayEquals(NoiseSchedule.linspace(1, 1e-3, 6), cur.times(), 1e-15);
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(new double[]{0.5}, uvit.ratios()[i]);
            double s = cur.times()[i], t = cur.times()[i + 1];
            double r = (DIT.lambda((s + t) / 2) - DIT.lambda(s)) / (DIT.lambda(t) - DIT.lambda(s));
            assertEquals(r, cur.ratios()[i][0], 1e-12);
            assertTrue(Math.abs(r - 0.5) > 1e-3, "time-uniform midpoint is not the λ midpoint: " + r);
        }
    }

    @Test
    void multistepOrdersWarmUpAndLowerTheFinalOnesBelowTenSteps() {
        // update k has order min(k, order); lower_order_final (only when steps < 10) makes it min(order, steps + 1 − k)
        assertArrayEquals(new int[]{1, 2, 3, 2, 1}, solver(DIT).steps(5).order(3).build().plan().orders());
        assertArrayEquals(new int[]{1, 2, 3, 3, 3}, solver(DIT).steps(5).order(3).lowerOrderFinal(false).build().plan().orders());
        assertArrayEquals(new int[]{1, 2, 1}, solver(DIT).steps(3).order(3).build().plan().orders());
        assertArrayEquals(repeat(3, 8), Arrays.copyOfRange(solver(DIT).steps(10).order(3).build().plan().orders(), 2, 10));
        assertArrayEquals(repeat(1, 1, repeat(2, 9)), solver(DIT).steps(10).order(2).build().plan().orders());
        assertArrayEquals(new int[]{1, 2, 2, 2, 1}, solver(DIT).steps(5).order(2).build().plan().orders());
    }

    @Test
    void uvitQuadraticGridSnapsUpToTheTenMillionPointGrid() {
        double t0 = 1e-3, dt = (1 - t0) / (10_000_000 - 1);
        double[] t = solver(DIT).variant(Variant.UVIT_PP).method(Method.SINGLESTEP_FIXED).order(1).steps(5)
                .skipType(SkipType.TIME_QUADRATIC).tEnd(t0).build().plan().times();
        assertEquals(1, t[0]);
        assertEquals(t0, t[5], 1e-15);
        for (int i = 1; i < 5; i++) {
            double root = 1 + i * (Math.sqrt(t0) - 1) / 5, square = root * root;
            assertTrue(t[i] >= square - 1e-15 && t[i] < square + dt, "point " + i + ": " + t[i] + " vs " + square);
            double k = (t[i] - t0) / dt;
            assertEquals(Math.rint(k), k, 1e-6, "on the grid");
        }
    }

    @Test
    void denoiseToZeroEndsWithTheDataPredictionAtTEnd() {
        INDArray noise = Nd4j.ones(DataType.FLOAT, 1, 1, 2, 2);   // (1, 1, 2, 2)
        List<Double> modelT = new ArrayList<>();
        DenoiseFn half = (x, ts) -> {
            modelT.add(ts[0]);
            return x.mul(0.5f);   // ε = x/2
        };
        DpmSolver plain = solver(DIT).steps(2).order(1).build(), denoised = solver(DIT).steps(2).order(1).denoiseToZero(true).build();
        assertEquals(2, plain.steps());
        assertEquals(3, denoised.steps());
        double xEnd = plain.sample(half, noise, null, null).getDouble(0);
        modelT.clear();
        List<Integer> updates = new ArrayList<>();
        double out = denoised.sample(half, noise, null, (k, t, sample, pred) -> updates.add(k)).getDouble(0);
        assertEquals(List.of(0, 1, 2), updates);
        assertEquals(0, modelT.get(2), 1e-12, "the last call is at t_end = 1/N: model time 0");
        double expected = (xEnd - DIT.sigma(1e-3) * xEnd / 2) / Math.exp(DIT.logAlpha(1e-3));   // x0 = (x − σ·ε)/α
        assertEquals(expected, out, 1e-6 * Math.abs(expected));
    }

    /**
     * Gaussian data x0 ~ N(0, v): E[x0 | x_t] = α_t·v/(α_t²·v + σ_t²)·x_t, and the probability-flow ODE scales x by
     * √(α_t²·v + σ_t²) exactly. Doubling the steps must divide the error by ~2 at order 1 and by ≥ ~4 at orders 2
     * and 3 (multistep order 3 is held to ~4 by its first-order first update): a wrong sign or factor in a correction
     * term leaves a first-order error. Measured 48 → 96 steps: order 1 ×1.98, order 2 ×3.8-4.1, order 3 ×4.1-17.
     */
    @Test
    void everySolverConvergesAtItsOrderOnAGaussianOde() {
        for (Algorithm alg : Algorithm.values())
            for (Method m : Method.values())
                for (int order = 1; order <= 3; order++) {
                    double coarse = gaussianOdeError(alg, m, order, 48), fine = gaussianOdeError(alg, m, order, 96);
                    String what = alg + " " + m + " order " + order + ": error " + coarse + " at 48 steps, " + fine + " at 96";
                    if (order == 1) assertEquals(2, coarse / fine, 0.3, what);
                    else assertTrue(coarse / fine > 3.3, what);
                    assertTrue(fine < 0.05, what);
                }
    }

    private static double gaussianOdeError(Algorithm alg, Method m, int order, int steps) {
        double v = 0.25, tEnd = 1e-3;
        LinearVpSchedule ns = LinearVpSchedule.standard();
        DenoiseFn exact = (x, ts) -> {
            double t = ts[0], a = Math.exp(ns.logAlpha(t)), s = ns.sigma(t);
            double x0Coef = a * v / (a * a * v + s * s);
            return x.mul((float) ((1 - a * x0Coef) / s));   // ε = (x − α·E[x0|x])/σ
        };
        INDArray noise = Nd4j.createFromArray(new float[]{1.5f, -0.7f, 0.2f, 2.0f}).reshape(1, 1, 2, 2);   // (1, 1, 2, 2)
        double ratio = Math.sqrt(Math.exp(2 * ns.logAlpha(tEnd)) * v + Math.pow(ns.sigma(tEnd), 2))
                / Math.sqrt(Math.exp(2 * ns.logAlpha(1)) * v + Math.pow(ns.sigma(1), 2));
        INDArray expected = noise.mul((float) ratio);   // (1, 1, 2, 2)
        DpmSolver s = DpmSolver.builder(ns, ModelTime.continuous()).algorithm(alg).method(m).order(order).steps(steps)
                .skipType(SkipType.LOG_SNR).tEnd(tEnd).lowerOrderFinal(false).build();
        return s.sample(exact, noise, null, null).sub(expected).amaxNumber().doubleValue() / expected.amaxNumber().doubleValue();
    }

    /**
     * The official update formulas transcribed branch by branch for scalars in double, without the solver's shared
     * form for both algorithms (h → −h, α ↔ σ), on a model whose ε depends on x and t: ε = 0.3·x + sin(5t).
     */
    private record Official(Schedule ns, boolean pp) {
        double eps(double x, double t) {
            return 0.3 * x + Math.sin(5 * t);
        }

        double model(double x, double t) {
            return pp ? (x - ns.sigma(t) * eps(x, t)) / alpha(t) : eps(x, t);
        }

        double alpha(double t) {
            return Math.exp(ns.logAlpha(t));
        }

        double first(double x, double s, double t, double ms) {
            double h = ns.lambda(t) - ns.lambda(s);
            return pp ? ns.sigma(t) / ns.sigma(s) * x - alpha(t) * Math.expm1(-h) * ms
                    : Math.exp(ns.logAlpha(t) - ns.logAlpha(s)) * x - ns.sigma(t) * Math.expm1(h) * ms;
        }

        double singlestep2(double x, double s, double t, double r1) {
            double h = ns.lambda(t) - ns.lambda(s), s1 = ns.inverseLambda(ns.lambda(s) + r1 * h), ms = model(x, s);
            if (pp) {
                double phi11 = Math.expm1(-r1 * h), phi1 = Math.expm1(-h);
                double xs1 = ns.sigma(s1) / ns.sigma(s) * x - alpha(s1) * phi11 * ms, ms1 = model(xs1, s1);
                return ns.sigma(t) / ns.sigma(s) * x - alpha(t) * phi1 * ms - 0.5 / r1 * alpha(t) * phi1 * (ms1 - ms);
            }
            double phi11 = Math.expm1(r1 * h), phi1 = Math.expm1(h);
            double xs1 = Math.exp(ns.logAlpha(s1) - ns.logAlpha(s)) * x - ns.sigma(s1) * phi11 * ms, ms1 = model(xs1, s1);
            return Math.exp(ns.logAlpha(t) - ns.logAlpha(s)) * x - ns.sigma(t) * phi1 * ms - 0.5 / r1 * ns.sigma(t) * phi1 * (ms1 - ms);
        }

        double singlestep3(double x, double s, double t, double r1, double r2) {
            double ls = ns.lambda(s), h = ns.lambda(t) - ls, ms = model(x, s);
            double s1 = ns.inverseLambda(ls + r1 * h), s2 = ns.inverseLambda(ls + r2 * h);
            if (pp) {
                double phi11 = Math.expm1(-r1 * h), phi12 = Math.expm1(-r2 * h), phi1 = Math.expm1(-h);
                double phi22 = Math.expm1(-r2 * h) / (r2 * h) + 1, phi2 = phi1 / h + 1;
                double xs1 = ns.sigma(s1) / ns.sigma(s) * x - alpha(s1) * phi11 * ms, ms1 = model(xs1, s1);
                double xs2 = ns.sigma(s2) / ns.sigma(s) * x - alpha(s2) * phi12 * ms + r2 / r1 * alpha(s2) * phi22 * (ms1 - ms);
                double ms2 = model(xs2, s2);
                return ns.sigma(t) / ns.sigma(s) * x - alpha(t) * phi1 * ms + 1 / r2 * alpha(t) * phi2 * (ms2 - ms);
            }
            double phi11 = Math.expm1(r1 * h), phi12 = Math.expm1(r2 * h), phi1 = Math.expm1(h);
            double phi22 = Math.expm1(r2 * h) / (r2 * h) - 1, phi2 = phi1 / h - 1;
            double xs1 = Math.exp(ns.logAlpha(s1) - ns.logAlpha(s)) * x - ns.sigma(s1) * phi11 * ms, ms1 = model(xs1, s1);
            double xs2 = Math.exp(ns.logAlpha(s2) - ns.logAlpha(s)) * x - ns.sigma(s2) * phi12 * ms - r2 / r1 * ns.sigma(s2) * phi22 * (ms1 - ms);
            double ms2 = model(xs2, s2);
            return Math.exp(ns.logAlpha(t) - ns.logAlpha(s)) * x - ns.sigma(t) * phi1 * ms - 1 / r2 * ns.sigma(t) * phi2 * (ms2 - ms);
        }

        double multistep2(double x, double m1, double m0, double t1, double t0, double t) {
            double h = ns.lambda(t) - ns.lambda(t0), r0 = (ns.lambda(t0) - ns.lambda(t1)) / h, d10 = 1 / r0 * (m0 - m1);
            if (pp) {
                double phi1 = Math.expm1(-h);
                return ns.sigma(t) / ns.sigma(t0) * x - alpha(t) * phi1 * m0 - 0.5 * alpha(t) * phi1 * d10;
            }
            double phi1 = Math.expm1(h);
            return Math.exp(ns.logAlpha(t) - ns.logAlpha(t0)) * x - ns.sigma(t) * phi1 * m0 - 0.5 * ns.sigma(t) * phi1 * d10;
        }

        double multistep3(double x, double m2, double m1, double m0, double t2, double t1, double t0, double t) {
            double h = ns.lambda(t) - ns.lambda(t0), r0 = (ns.lambda(t0) - ns.lambda(t1)) / h, r1 = (ns.lambda(t1) - ns.lambda(t2)) / h;
            double d10 = 1 / r0 * (m0 - m1), d11 = 1 / r1 * (m1 - m2);
            double d1 = d10 + r0 / (r0 + r1) * (d10 - d11), d2 = 1 / (r0 + r1) * (d10 - d11);
            if (pp) {
                double phi1 = Math.expm1(-h), phi2 = phi1 / h + 1, phi3 = phi2 / h - 0.5;
                return ns.sigma(t) / ns.sigma(t0) * x - alpha(t) * phi1 * m0 + alpha(t) * phi2 * d1 - alpha(t) * phi3 * d2;
            }
            double phi1 = Math.expm1(h), phi2 = phi1 / h - 1, phi3 = phi2 / h - 0.5;
            return Math.exp(ns.logAlpha(t) - ns.logAlpha(t0)) * x - ns.sigma(t) * phi1 * m0 - ns.sigma(t) * phi2 * d1 - ns.sigma(t) * phi3 * d2;
        }
    }

    @Test
    void updatesMatchTheOfficialFormulasTranscribedPerAlgorithm() {
        LinearVpSchedule ns = LinearVpSchedule.standard();
        double x = 0.8, tStart = 0.8, tEnd = 0.2;
        DenoiseFn model = (xs, ts) -> {
            INDArray eps = xs.mul(0.3f);   // (N, C, H, W)
            return eps.addi((float) Math.sin(5 * ts[0]));
        };
        INDArray noise = Nd4j.createFromArray(new float[]{(float) x}).reshape(1, 1, 1, 1);
        for (Algorithm alg : Algorithm.values()) {
            Official o = new Official(ns, alg == Algorithm.DPMSOLVER_PP);
            DpmSolver.Builder b = DpmSolver.builder(ns, ModelTime.continuous()).algorithm(alg).tStart(tStart).tEnd(tEnd);

            DpmSolver two = b.method(Method.SINGLESTEP_FIXED).order(2).steps(2).build();
            double ref2 = o.singlestep2(x, tStart, tEnd, two.plan().ratios()[0][0]);
            assertEquals(ref2, two.sample(model, noise, null, null).getDouble(0), 1e-5 * Math.abs(ref2), alg + " singlestep 2");

            DpmSolver three = b.method(Method.SINGLESTEP_FIXED).order(3).steps(3).build();
            double[] r = three.plan().ratios()[0];
            double ref3 = o.singlestep3(x, tStart, tEnd, r[0], r[1]);
            assertEquals(ref3, three.sample(model, noise, null, null).getDouble(0), 1e-5 * Math.abs(ref3), alg + " singlestep 3");

            DpmSolver multi = b.method(Method.MULTISTEP).order(3).steps(3).lowerOrderFinal(false).build();
            double[] t = multi.plan().times();
            assertArrayEquals(new int[]{1, 2, 3}, multi.plan().orders());
            double m0 = o.model(x, t[0]), x1 = o.first(x, t[0], t[1], m0);
            double m1 = o.model(x1, t[1]), x2 = o.multistep2(x1, m0, m1, t[0], t[1], t[2]);
            double m2 = o.model(x2, t[2]), x3 = o.multistep3(x2, m0, m1, m2, t[0], t[1], t[2], t[3]);
            double[] refs = {x1, x2, x3};
            multi.sample(model, noise, null, (k, mt, sample, pred) ->
                    assertEquals(refs[k], sample.getDouble(0), 1e-5 * Math.abs(refs[k]), alg + " multistep update " + k));
        }
    }

    @Test
    void badCombinationsAreRefusedWithOneLineMessages() {
        List<Executable> bad = List.of(
                () -> solver(DIT).order(4).build(),
                () -> solver(DIT).order(0).build(),
                () -> solver(DIT).steps(0).build(),
                () -> solver(DIT).method(Method.MULTISTEP).order(3).steps(2).build(),
                () -> solver(DIT).method(Method.SINGLESTEP_FIXED).order(3).steps(2).build(),
                () -> solver(DIT).tEnd(0).build(),
                () -> solver(DIT).tStart(0.5).tEnd(0.6).build(),
                () -> solver(DIT).variant(Variant.UVIT_PP).method(Method.MULTISTEP).build(),
                () -> solver(DIT).variant(Variant.UVIT_PP).method(Method.SINGLESTEP).order(1).build(),
                () -> solver(DIT).variant(Variant.UVIT_PP).method(Method.SINGLESTEP).denoiseToZero(true).build(),
                () -> solver(DIT).steps(1).order(1).build().sample((x, ts) -> Nd4j.concat(1, x, x, x), Nd4j.ones(DataType.FLOAT, 1, 2, 2, 2), null, null),
                () -> NoiseSchedule.betas("scaled", 1000));
        for (Executable e : bad) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
            String msg = ex.getMessage();
            assertFalse(msg.contains("\n") || msg.contains("--"), msg);
        }
        assertTrue(assertThrows(IllegalArgumentException.class, bad.get(0)).getMessage().contains("got 4"));
        assertDoesNotThrow(() -> solver(DIT).method(Method.SINGLESTEP).order(3).steps(2).build());   // fast plan: [2]
    }
}
