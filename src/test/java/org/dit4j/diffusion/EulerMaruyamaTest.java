package org.dit4j.diffusion;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Euler–Maruyama on data whose optimal noise prediction is known in closed form: x0 ~ N(0, s²) gives
 * E[ε | x_t] = σ_t·x_t / (α_t²·s² + σ_t²). Both the reverse SDE and the probability-flow ODE must then carry N(0, 1)
 * to N(0, s²).
 */
class EulerMaruyamaTest {
    private static final double S = 0.5;
    private static final LinearVpSchedule VP = LinearVpSchedule.standard();

    /** The exact ε̂ for Gaussian data, called with U-ViT's network time t·999. */
    private static DenoiseFn gaussianOracle(List<Double> seen) {
        return (x, modelT) -> {
            seen.add(modelT[0]);
            double t = modelT[0] / 999, alphaBar = VP.alphaBar(t), sigma = Math.sqrt(1 - alphaBar);
            return x.mul((float) (sigma / (alphaBar * S * S + 1 - alphaBar)));
        };
    }

    private static double variance(INDArray x) {
        return x.varNumber().doubleValue();
    }

    @Test
    void reverseSdeAndOdeCarryNoiseToTheDataDistribution() {
        INDArray noise = NoiseSource.seeded(1).next(2000, 1, 2, 2);
        for (boolean ode : new boolean[]{false, true}) {
            List<Double> seen = new ArrayList<>();
            EulerMaruyama em = new EulerMaruyama(VP, 200, 1e-3, ode);
            INDArray x = em.sample(gaussianOracle(seen), noise, NoiseSource.seeded(2), null);
            assertEquals(S * S, variance(x), 0.08 * S * S, (ode ? "ODE" : "SDE") + " sample variance");
            assertEquals(200, seen.size());
            assertEquals(999.0, seen.get(0), 1e-4, "first call at t = 1");
            assertEquals((float) 1e-3 * 999f, seen.get(199), 1e-5, "last call at t = eps");
        }
    }

    @Test
    void theOdeIsDeterministicAndTheSdeIsNot() {
        INDArray noise = NoiseSource.seeded(3).next(4, 1, 2, 2);
        DenoiseFn f = gaussianOracle(new ArrayList<>());
        EulerMaruyama ode = new EulerMaruyama(VP, 10, 1e-3, true), sde = new EulerMaruyama(VP, 10);
        assertEquals(ode.sample(f, noise, NoiseSource.seeded(4), null), ode.sample(f, noise, NoiseSource.seeded(5), null));
        assertNotEquals(sde.sample(f, noise, NoiseSource.seeded(4), null), sde.sample(f, noise, NoiseSource.seeded(5), null));
        assertThrows(IllegalArgumentException.class, () -> new EulerMaruyama(VP, 0));
        assertThrows(IllegalArgumentException.class, () -> new EulerMaruyama(VP, 10, 0, false));
    }
}
