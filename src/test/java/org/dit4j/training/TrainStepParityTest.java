package org.dit4j.training;

import org.dit4j.Fixtures;
import org.dit4j.diffusion.DiffusionLoss;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.io.Npy;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

import static org.dit4j.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** training_losses, d(loss_mean)/d(param) and one AdamW step against the official code. */
class TrainStepParityTest {
    private static DiTModel model;
    private static TrainingStep step;
    private static GaussianDiffusion diffusion;

    @BeforeAll
    static void setUp() {
        model = DiTModel.create(DiTConfig.load(Fixtures.tiny("config.json")));
        model.loadStateDict(TorchCheckpoint.loadStateDict(Fixtures.tiny("weights/DiT-tiny.pt"), TorchCheckpoint.Pick.EMA), "DiT-tiny.pt");
        diffusion = GaussianDiffusion.create("");
        step = new TrainingStep(model, diffusion);
    }

    @Test
    void lossGraphMatchesTrainingLossesGivenTheModelOutput() {
        // The loss graph alone, fed the recorded model output: isolates the diffusion math from the model.
        SameDiff sd = SameDiff.create();
        var out = sd.placeHolder("model_output", DataType.FLOAT, -1, 8, 8, 8);
        new DiffusionLoss(diffusion).build(sd, out, 4, 8, 8);
        Map<String, INDArray> ph = new HashMap<>(new DiffusionLoss(diffusion).placeholders(npy("training_losses/x0.npy"),
                longs("training_losses/t.npy"), npy("training_losses/noise.npy")));
        assertClose(npy("training_losses/x_t.npy"), ph.get(DiffusionLoss.X_T), 1e-6, 1e-6, "q_sample");
        ph.put("model_output", npy("training_losses/model_output.npy"));
        var got = sd.output(ph, DiffusionLoss.MSE, DiffusionLoss.VB, DiffusionLoss.LOSS, DiffusionLoss.LOSS_MEAN);
        assertClose(npy("training_losses/mse.npy"), got.get(DiffusionLoss.MSE), 0, 1e-5, "mse");
        assertClose(npy("training_losses/vb.npy"), got.get(DiffusionLoss.VB), 0, 1e-5, "vb (decoder NLL at t=0, KL otherwise)");
        assertClose(npy("training_losses/loss.npy"), got.get(DiffusionLoss.LOSS), 0, 1e-5, "loss");
        assertClose(npy("training_losses/loss_mean.npy").reshape(1), got.get(DiffusionLoss.LOSS_MEAN).reshape(1), 0, 1e-5, "loss_mean");
    }

    @Test
    void gradientsMatchAndOneAdamWStepMatches() {
        var r = step.compute(npy("training_losses/x0.npy"), longs("training_losses/t.npy"), npy("training_losses/noise.npy"),
                org.dit4j.models.Conditioning.labels(longs("training_losses/y.npy")), diffusion);
        assertEquals(npy("training_losses/loss_mean.npy").getDouble(0), r.lossMean(), 1e-5 * r.lossMean());
        assertEquals(31, r.gradients().size());
        for (var e : r.gradients().entrySet()) {
            INDArray ref = Npy.read(Fixtures.tiny("train_step/grads/" + e.getKey() + ".npy"));
            double scale = ref.amaxNumber().doubleValue();
            assertClose(ref, e.getValue(), 1e-4 * scale + 1e-7, 1e-3, "grad " + e.getKey());
        }
        Map<String, INDArray> params = step.trainableParameters();
        Map<String, INDArray> before = new HashMap<>(), refGrads = new HashMap<>();
        params.forEach((k, v) -> before.put(k, v.dup()));
        params.keySet().forEach(k -> refGrads.put(k, Npy.read(Fixtures.tiny("train_step/grads/" + k + ".npy"))));
        try {
            // The optimiser alone, fed the official gradients: PyTorch's AdamW to float32 rounding.
            AdamW.officialDefaults().step(params, refGrads);
            for (var e : params.entrySet())
                assertClose(Npy.read(Fixtures.tiny("train_step/after_adamw/" + e.getKey() + ".npy")), e.getValue(), 1e-7, 0, "AdamW " + e.getKey());
            // End to end with our gradients. The first AdamW step is lr·g/(|g| + 1e-8): where |g| is near 1e-8 it
            // amplifies float32 gradient noise, so those elements are excluded; everywhere else the step must agree.
            before.forEach((k, v) -> params.get(k).assign(v));
            AdamW.officialDefaults().step(params, r.gradients());
            int checked = 0;
            for (var e : params.entrySet()) {
                double[] ref = Npy.read(Fixtures.tiny("train_step/after_adamw/" + e.getKey() + ".npy")).dup().data().asDouble();
                double[] got = e.getValue().dup().data().asDouble(), g = refGrads.get(e.getKey()).dup().data().asDouble();
                for (int i = 0; i < ref.length; i++) {
                    if (Math.abs(g[i]) < 1e-5) continue;
                    checked++;
                    assertEquals(ref[i], got[i], 2e-7, "after AdamW " + e.getKey() + "[" + i + "]");
                }
            }
            assertTrue(checked > 150_000, "only " + checked + " elements had a gradient above 1e-5");
            INDArray pos = Npy.read(Fixtures.tiny("train_step/after_adamw/pos_embed.npy"));
            assertEquals(pos, model.stateDict().get("pos_embed"), "pos_embed is frozen");
        } finally {
            before.forEach((k, v) -> params.get(k).assign(v));
        }
    }
}
