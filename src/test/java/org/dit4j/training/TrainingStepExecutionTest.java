package org.dit4j.training;

import org.dit4j.Fixtures;
import org.dit4j.diffusion.EpsilonObjective;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.models.Conditioning;
import org.dit4j.models.StateDicts;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.models.uvit.UViTConfig;
import org.dit4j.models.uvit.UViTFamily;
import org.dit4j.models.uvit.UViTModel;
import org.dit4j.runtime.Execution;
import org.dit4j.runtime.PlannedExecutorTest;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.function.Supplier;

import static org.dit4j.Fixtures.longs;
import static org.dit4j.Fixtures.npy;
import static org.junit.jupiter.api.Assertions.*;

/** A training step through the planned executor (stage graphs and their gradient functions) against SameDiff's session. */
class TrainingStepExecutionTest {
    /** The same float32 kernels in the same order; only buffers differ, which does not change values. */
    private static final double TOL = 1e-6;

    /** Two steps each (the second reuses the plans), both executors on the same inputs. */
    private static void assertSameResults(Supplier<TrainingStep.Result> step, String what) {
        TrainingStep.Result session = PlannedExecutorTest.with(Execution.Mode.SAMEDIFF, step);
        for (int call = 0; call < 2; call++) {
            TrainingStep.Result planned = PlannedExecutorTest.with(Execution.Mode.PLANNED, step);
            assertEquals(session.lossMean(), planned.lossMean(), TOL * Math.abs(session.lossMean()), what + " loss");
            assertEquals(session.gradients().keySet(), planned.gradients().keySet(), what);
            for (var e : session.gradients().entrySet()) {
                double diff = e.getValue().sub(planned.gradients().get(e.getKey())).amaxNumber().doubleValue();
                double scale = e.getValue().amaxNumber().doubleValue();
                assertTrue(diff <= TOL * scale + 1e-12, what + " call " + call + " grad " + e.getKey() + ": max |planned − session| = " + diff);
            }
        }
    }

    @Test
    void ditGradientsAreTheSessionsOnTheFixture() {
        DiTModel model = DiTModel.create(DiTConfig.load(Fixtures.tiny("config.json")));
        model.loadStateDict(TorchCheckpoint.loadStateDict(Fixtures.tiny("weights/DiT-tiny.pt"), TorchCheckpoint.Pick.EMA), "DiT-tiny.pt");
        GaussianDiffusion diffusion = GaussianDiffusion.create("");
        TrainingStep step = new TrainingStep(model, diffusion);
        assertSameResults(() -> step.compute(npy("training_losses/x0.npy"), longs("training_losses/t.npy"), npy("training_losses/noise.npy"),
                Conditioning.labels(longs("training_losses/y.npy")), diffusion), "DiT");
    }

    @Test
    void uvitGradientsAreTheSessionsThroughTheLongSkips() {
        UViTConfig cfg = UViTTrainerTest.pixelUViT("discrete");
        UViTFamily f = new UViTFamily(UViTFamily.NAME);
        UViTModel model = (UViTModel) f.create(cfg, StateDicts.copy(f.initialWeights(cfg, 2)), "init");
        TrainingStep step = new TrainingStep(model, EpsilonObjective.stableDiffusionDiscrete());
        Nd4j.getRandom().setSeed(5);
        INDArray x0 = Nd4j.randn(DataType.FLOAT, 3, 3, 16, 16), noise = Nd4j.randn(DataType.FLOAT, 3, 3, 16, 16);
        assertSameResults(() -> step.compute(x0, new double[]{3, 500, 999}, noise, Conditioning.labels(new long[]{0, 3, 2})), "U-ViT");
    }
}
