package org.dit4j.diffusion;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.*;

/** MindONE's float32 GaussianDiffusion (examples/fit/diffusion) against the arrays its port builds. */
class MindOneScheduleParityTest {
    private static final List<String> TABLES = List.of("betas", "alphas_cumprod", "alphas_cumprod_prev", "alphas_cumprod_next",
            "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod", "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod",
            "sqrt_recipm1_alphas_cumprod", "posterior_variance", "posterior_log_variance_clipped", "posterior_mean_coef1",
            "posterior_mean_coef2");

    private static Path fixture(String rel) {
        return Fixtures.root().resolve("fit-mindone").resolve("schedule").resolve(rel);
    }

    private static double[] read(String rel) {
        return Npy.read(fixture(rel)).castTo(DataType.DOUBLE).toDoubleVector();
    }

    private static double maxRel(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double scale = Math.max(Math.abs(expected[i]), 1e-30);
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / scale);
        }
        return worst;
    }

    private static GaussianDiffusion mindOne(String respacing) {
        return GaussianDiffusion.create(DiffusionConfig.of(respacing).withFloat32Tables(true));
    }

    @Test
    void tenStepTablesAreMindOnesFloat32Arrays() {
        GaussianDiffusion d = mindOne("10");
        double worst = 0;
        for (String name : TABLES) {
            double rel = maxRel(read("respacing_10/" + name + ".npy"), d.table(name));
            assertTrue(rel <= 1e-6, name + ": " + rel + " relative");
            worst = Math.max(worst, rel);
        }
        long[] map = Npy.read(fixture("respacing_10/timestep_map.npy")).castTo(DataType.LONG).toLongVector();
        int[] ours = d.timestepMap();
        for (int i = 0; i < map.length; i++) assertEquals(map[i], ours[i]);
        // β₀ = 1 − fl32(1 − fl32(1e-4)), exactly as the port computes it
        assertEquals(1f - (1f - (float) 1e-4), (float) d.table("betas")[0]);
        System.out.printf(Locale.ROOT, "MindONE schedule (10 steps): max relative error %.3g over %d tables%n", worst, TABLES.size());
    }

    @Test
    void thousandStepCumulativeProductIsRederivedInFloat32() {
        double rel = maxRel(read("respacing_1000/alphas_cumprod.npy"), mindOne("").table("alphas_cumprod"));
        assertTrue(rel <= 1e-6, "alphas_cumprod: " + rel);
    }

    @Test
    void theFloat64ScheduleIsMeasurablyDifferent() {
        // DiT's float64 tables are up to 3.3e-5 relative away (sqrt(1/ᾱ − 1) near ᾱ ≈ 1), β₀ 1.7e-4: the flag matters.
        GaussianDiffusion dit = GaussianDiffusion.create(DiffusionConfig.of("10"));
        assertTrue(maxRel(read("respacing_10/betas.npy"), dit.table("betas")) > 1e-4);
        assertTrue(maxRel(read("respacing_10/sqrt_recipm1_alphas_cumprod.npy"), dit.table("sqrt_recipm1_alphas_cumprod")) > 1e-5);
    }
}
