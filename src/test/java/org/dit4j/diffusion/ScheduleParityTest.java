package org.dit4j.diffusion;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Respaced schedules against the official float64 tables (relative error ≤ 1e-12). */
class ScheduleParityTest {
    private static final String[] TABLES = {"betas", "alphas_cumprod", "alphas_cumprod_prev", "alphas_cumprod_next",
            "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod", "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod",
            "sqrt_recipm1_alphas_cumprod", "posterior_variance", "posterior_log_variance_clipped", "posterior_mean_coef1",
            "posterior_mean_coef2"};

    @ParameterizedTest
    @ValueSource(strings = {"1000", "250", "50", "ddim50", "10"})
    void tablesAndTimestepMapMatch(String name) {
        Path dir = Fixtures.root().resolve("diffusion/respacing_" + name);
        GaussianDiffusion d = GaussianDiffusion.create(name.equals("1000") ? "" : name);
        long[] map = Npy.read(dir.resolve("timestep_map.npy")).toLongVector();
        int[] ours = d.timestepMap();
        assertEquals(map.length, ours.length);
        for (int i = 0; i < map.length; i++) assertEquals(map[i], ours[i], "timestep_map[" + i + "]");
        for (String table : TABLES) {
            double[] ref = Npy.read(dir.resolve(table + ".npy")).toDoubleVector(), got = d.table(table);
            assertEquals(ref.length, got.length, table);
            for (int i = 0; i < ref.length; i++)
                assertTrue(Math.abs(got[i] - ref[i]) <= 1e-12 * Math.abs(ref[i]) + 1e-300,
                        name + "/" + table + "[" + i + "]: " + got[i] + " vs " + ref[i]);
        }
    }

    @Test
    void respacingRoundsHalfToEvenLikePython() {
        // 100 steps into 8: stride 99/7 = 14.142..; and a case with exact halves: 11 steps into 3 (stride 5.0) and 7 into 5 (1.5).
        assertArrayEquals(new int[]{0, 2, 3, 4, 6}, Respacing.spaceTimesteps(7, "5"));
        assertArrayEquals(new int[]{0, 5, 10}, Respacing.spaceTimesteps(11, "3"));
    }

    @Test
    void badRespacingGetsAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> Respacing.spaceTimesteps(1000, "ddim999"));
        assertTrue(e.getMessage().contains("ddim999"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Respacing.spaceTimesteps(1000, "fast"));
        assertTrue(e.getMessage().contains("fast"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Respacing.spaceTimesteps(10, "20"));
        assertTrue(e.getMessage().contains("cannot divide"), e.getMessage());
    }
}
