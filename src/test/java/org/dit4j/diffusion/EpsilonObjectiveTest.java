package org.dit4j.diffusion;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** U-ViT's two objectives: x_t, the network's time and the draws (the discrete one is also checked by the train-step fixture). */
class EpsilonObjectiveTest {
    @Test
    void continuousVpNoisesWithTheSdeMarginalAndFeedsTTimes999() {
        EpsilonObjective o = EpsilonObjective.continuousVp();
        double[] t = {0.0, 1e-3, 0.25, 0.5, 0.999};
        INDArray x0 = Nd4j.ones(5, 2, 2, 2), eps = Nd4j.ones(5, 2, 2, 2).muli(-2);
        EpsilonObjective.Noised n = o.noise(x0, t, eps);
        for (int i = 0; i < t.length; i++) {
            double alphaBar = Math.exp(-(0.1 * t[i] + 19.9 * t[i] * t[i] / 2));   // sde.VPSDE.cum_alpha in float64
            double want = Math.sqrt(alphaBar) - 2 * Math.sqrt(1 - alphaBar);
            // float32's 1 − ᾱ loses half an ulp of 1, which √ turns into ulp/(4√(1 − ᾱ)) per unit of ε
            double tol = t[i] == 0 ? 0 : 2e-6 + 2 * Math.ulp(1f) / (4 * Math.sqrt(1 - alphaBar));
            assertEquals(want, n.xt().getDouble(i, 0, 0, 0), tol, "x_t at t=" + t[i]);
            assertEquals((float) t[i] * 999f, n.modelTimes()[i], 0.0, "t·999 in float32");
        }
        double[] drawn = o.drawTimes(1000, new SplittableRandom(3));
        for (double v : drawn) assertTrue(v >= 0 && v < 1 && v == (float) v, "t ~ U[0, 1) as a float32: " + v);
        assertThrows(IllegalArgumentException.class, () -> o.noise(x0, new double[]{0, 0, 0, 0, 1.5}, eps));
    }

    @Test
    void discreteUsesOneBasedStepsOfTheStableDiffusionBetas() {
        EpsilonObjective o = EpsilonObjective.stableDiffusionDiscrete();
        assertEquals(1000, o.steps());
        assertEquals(1, o.cumAlpha(0));
        assertEquals(1 - 0.00085, o.cumAlpha(1), 1e-15);   // β_1 = 0.00085: n = 1 is one step of noise, not the data
        for (int k = 1; k <= 1000; k += 37) assertEquals(1 - o.cumAlpha(k), o.cumBeta(k), 1e-14, "cum_betas[" + k + "]");
        for (double v : o.drawTimes(2000, new SplittableRandom(4))) assertTrue(v >= 1 && v <= 1000 && v == Math.rint(v), "n " + v);
        INDArray x = Nd4j.ones(1, 1, 1, 1);
        assertThrows(IllegalArgumentException.class, () -> o.noise(x, new double[]{0}, x));
        assertThrows(IllegalArgumentException.class, () -> o.noise(x, new double[]{2.5}, x));
        assertEquals(1000, o.noise(x, new double[]{1000}, x).modelTimes()[0]);
    }
}
