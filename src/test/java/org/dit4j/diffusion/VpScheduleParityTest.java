package org.dit4j.diffusion;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.function.DoubleUnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * DPM-Solver's {@code NoiseScheduleVP} against the official code's files: fixtures/dpm/dit/schedule (current release,
 * DiT betas), fixtures/uvit/dpm_solver/schedule (U-ViT's dpm_solver_pp.py, Stable Diffusion betas) and
 * fixtures/uvit/dpm_continuous/schedule (the linear VP schedule). Tables are compared bit for bit, the float32 probes
 * relatively: 1e-6 where float32 and float64 agree, looser at small t where the official float32 1 − exp(2 log α)
 * cancels (the READMEs' tolerances).
 */
class VpScheduleParityTest {
    static double[] doubles(String rel) {
        return Npy.read(Fixtures.root().resolve(rel)).castTo(DataType.DOUBLE).toDoubleVector();
    }

    private static void assertRelative(double[] ref, double[] got, double rtol, String what) {
        assertEquals(ref.length, got.length, what + ": length");
        for (int i = 0; i < ref.length; i++)
            assertTrue(Math.abs(got[i] - ref[i]) <= rtol * Math.abs(ref[i]), what + "[" + i + "]: " + got[i] + " vs " + ref[i]);
    }

    private static void assertBitExact(double[] ref, double[] got, String what) {
        assertEquals(ref.length, got.length, what + ": length");
        for (int i = 0; i < ref.length; i++) assertEquals(ref[i], got[i], 0.0, what + "[" + i + "]");
    }

    /**
     * Probe i against the float32 reference: 1e-6 relative, plus what the official float32 1 − exp(2 log α) loses when
     * it cancels: half an ulp of 1 relative to σ² (6e-4 at σ² = 1e-4) per float32 evaluation of it, {@code cancellations}
     * of them (none for log α, two for the round trip λ then inverse λ).
     */
    private static void assertProbes(Schedule ns, double[] t, double[] ref, DoubleUnaryOperator f, int cancellations, String what) {
        for (int i = 0; i < t.length; i++) {
            double got = f.applyAsDouble(t[i]), sigma = ns.sigma(t[i]);
            double rtol = 1e-6 + cancellations * Math.ulp(1f) / 2 / (sigma * sigma);
            assertTrue(Math.abs(got - ref[i]) <= rtol * Math.abs(ref[i]),
                    what + " at t=" + t[i] + ": " + got + " vs " + ref[i] + " (relative " + Math.abs(got - ref[i]) / Math.abs(ref[i]) + ")");
        }
    }

    /** The four functions of {@code NoiseScheduleVP} at the probe times of {@code dir}. */
    private static void assertAllProbes(Schedule ns, String dir) {
        double[] t = doubles(dir + "probe_t.npy");
        assertProbes(ns, t, doubles(dir + "probe_log_alpha.npy"), ns::logAlpha, 0, "log_alpha");
        assertProbes(ns, t, doubles(dir + "probe_sigma.npy"), ns::sigma, 1, "sigma");
        assertProbes(ns, t, doubles(dir + "probe_lambda.npy"), ns::lambda, 1, "lambda");
        assertProbes(ns, t, doubles(dir + "probe_inverse_lambda.npy"), x -> ns.inverseLambda(ns.lambda(x)), 2, "inverse_lambda");
    }

    @Test
    void currentReleaseDiscreteScheduleOfDiTBetas() {
        String dir = "dpm/dit/schedule/";
        double[] betas = doubles(dir + "betas.npy");
        assertRelative(betas, NoiseSchedule.betas("linear", 1000), 1e-12, "betas");
        DiscreteVpSchedule ns = DiscreteVpSchedule.dpmSolver(betas);
        assertEquals(1000, ns.totalN());
        assertBitExact(doubles(dir + "log_alpha_array.npy"), ns.logAlphaArray(), "log_alpha_array");
        assertBitExact(doubles(dir + "t_array.npy"), ns.tArray(), "t_array");
        // float32 cancellation at t = 1e-3: 8.3e-5 (σ) and 1.8e-5 (λ) relative, the round trip 1.00005e-3
        assertAllProbes(ns, dir);
        // the ADM process behind the same seam: DiT's training diffusion as a continuous-time schedule
        assertBitExact(ns.logAlphaArray(), GaussianDiffusion.create("").schedule().logAlphaArray(), "GaussianDiffusion.schedule()");
    }

    @Test
    void uvitDiscreteScheduleOfStableDiffusionBetas() {
        String dir = "uvit/dpm_solver/schedule/";
        double[] betas = NoiseSchedule.betas("scaled_linear", 1000);
        assertRelative(doubles(dir + "betas.npy"), betas, 1e-12, "scaled_linear betas");
        double[] alphasCumprod = new double[betas.length];
        double prod = 1;
        for (int i = 0; i < betas.length; i++) alphasCumprod[i] = prod *= 1 - betas[i];
        assertRelative(doubles(dir + "alphas_cumprod.npy"), alphasCumprod, 1e-12, "alphas_cumprod");
        DiscreteVpSchedule ns = DiscreteVpSchedule.uvitPp(betas);
        assertBitExact(doubles(dir + "log_alpha_discrete.npy"), ns.logAlphaArray(), "log_alpha_discrete");
        assertBitExact(doubles(dir + "t_discrete.npy"), ns.tArray(), "t_discrete");
        // the current release's table for the same betas is another one: float64 cumsum, and t one ulp off in places
        assertNotEquals(ns.logAlphaArray()[0], DiscreteVpSchedule.dpmSolver(betas).logAlphaArray()[0]);
    }

    @Test
    void linearContinuousSchedule() {
        String dir = "uvit/dpm_continuous/schedule/";
        LinearVpSchedule ns = LinearVpSchedule.standard();
        // float32 cancellation at t = 1e-4: λ 5.75281 there vs 5.75151 in float64, the round trip 1.00326e-4
        assertAllProbes(ns, dir);
        for (double x : doubles(dir + "probe_t.npy")) assertEquals(x, ns.inverseLambda(ns.lambda(x)), 1e-10 * x, "float64 round trip at t=" + x);
    }

    @Test
    void clippingDropsTheCosineTailBelowMinus5Point1() {
        double[] betas = NoiseSchedule.betas("squaredcos_cap_v2", 1000);
        DiscreteVpSchedule ns = DiscreteVpSchedule.dpmSolver(betas);
        int n = ns.totalN();
        assertTrue(n < 1000, "kept " + n);
        double[] la = ns.logAlphaArray();
        double sum = 0;
        for (int i = 0; i <= n; i++) sum += Math.log(1 - betas[i]);
        double firstDropped = 0.5 * sum;
        assertTrue(ns.lambda(ns.tArray()[n - 1]) >= -5.1 - 1e-6, "last kept λ " + ns.lambda(ns.tArray()[n - 1]));
        assertTrue(firstDropped - 0.5 * Math.log(1 - Math.exp(2 * firstDropped)) < -5.1, "first dropped entry");
        assertEquals(1.0 / n, ns.tArray()[0], 1e-7, "t is rescaled to the kept N");
        assertEquals(la[0], ns.logAlpha(1.0 / n), 1e-9);
    }

    @Test
    void torchFloat32LinspaceEndsExactly() {
        float[] l = DiscreteVpSchedule.torchLinspaceF32(1.0, 1e-3, 11);
        assertEquals(1f, l[0]);
        assertEquals(1e-3f, l[10]);
        assertEquals(0.5005f, l[5], 1e-7f);
    }

    @Test
    void interpolationExtrapolatesWithTheOuterSegments() {
        double[] xp = {0, 1, 3}, yp = {0, 2, 4};
        assertEquals(-2, DiscreteVpSchedule.interpolate(-1, xp, yp), 1e-15);
        assertEquals(1, DiscreteVpSchedule.interpolate(0.5, xp, yp), 1e-15);
        assertEquals(2, DiscreteVpSchedule.interpolate(1, xp, yp), 1e-15);
        assertEquals(3, DiscreteVpSchedule.interpolate(2, xp, yp), 1e-15);
        assertEquals(5, DiscreteVpSchedule.interpolate(4, xp, yp), 1e-15);
    }
}
