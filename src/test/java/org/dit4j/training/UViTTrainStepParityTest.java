package org.dit4j.training;

import org.dit4j.Fixtures;
import org.dit4j.diffusion.EpsilonObjective;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.models.Conditioning;
import org.dit4j.models.StateDicts;
import org.dit4j.models.nn.SameDiffParams;
import org.dit4j.models.uvit.UViT;
import org.dit4j.models.uvit.UViTModel;
import org.dit4j.util.Graphs;
import org.dit4j.util.Quiet;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.*;

import static org.dit4j.models.uvit.TinyUViT.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * One {@code train_ldm_discrete.py} step on the tiny class-conditional U-ViT (fixtures/uvit/losses/discrete_cond):
 * x_n from the SD betas, {@code mos(ε − nnet(x_n, n, y))}, the gradient of its mean for every parameter, then
 * AdamW(lr 2e-4, betas (0.99, 0.99), weight decay 0.03 on every tensor) and the EMA at 0.9999.
 */
class UViTTrainStepParityTest {
    static final String DIR = "losses/discrete_cond/";

    @Test
    void discreteObjectiveGradientsAdamWAndEma() {
        UViTModel model = cond();
        EpsilonObjective objective = EpsilonObjective.stableDiffusionDiscrete();
        double[] cum = doubles("dpm_solver/schedule/cum_alphas.npy");
        for (int n = 0; n <= 1000; n++) assertEquals(cum[n], objective.cumAlpha(n), 1e-12 * cum[n], "cum_alphas[" + n + "]");

        INDArray x0 = npy(DIR + "x0.npy"), eps = npy(DIR + "noise.npy");
        double[] n = doubles(DIR + "n.npy");
        EpsilonObjective.Noised noised = objective.noise(x0, n, eps);
        assertEquals(0, Fixtures.maxAbsDiff(npy(DIR + "x_noisy.npy"), noised.xt()), "x_noisy bit for bit");
        assertArrayEquals(doubles(DIR + "model_t.npy"), noised.modelTimes());

        // the whole graph over the model's arrays: forward, loss, gradients
        SameDiff g = Graphs.create();
        SameDiffParams p = new SameDiffParams(g, model.stateDict());
        Map<String, SDVariable> in = model.declareInputs(g);
        SDVariable pred = new UViT(p, model.config()).forward(in.get(UViTModel.X), in.get(UViTModel.T_EMB), in.get(UViTModel.Y), null);
        EpsilonObjective.build(g, pred, model.sampleShape());
        g.setLossVariables(EpsilonObjective.LOSS_MEAN);
        Quiet.run(g::createGradFunction);
        Map<String, INDArray> ph = new HashMap<>(model.inputs(noised.xt(), noised.modelTimes(), Conditioning.labels(longs(DIR + "y.npy"))));
        ph.put(EpsilonObjective.NOISE, eps);
        List<String> names = new ArrayList<>(model.parameterShapes().keySet());
        var r = g.calculateGradientsAndOutputs(ph, List.of(EpsilonObjective.LOSS, EpsilonObjective.LOSS_MEAN), names);
        Fixtures.assertClose(npy(DIR + "loss.npy"), r.getOutputs().get(EpsilonObjective.LOSS), 0, 1e-5, "loss");
        Fixtures.assertClose(npy(DIR + "loss_mean.npy").reshape(1), r.getOutputs().get(EpsilonObjective.LOSS_MEAN).reshape(1), 0, 1e-5, "loss_mean");
        Map<String, INDArray> refGrads = TorchCheckpoint.loadStateDict(dir(DIR + "grads.pth"), TorchCheckpoint.Pick.EMA);
        assertEquals(69, refGrads.size());
        Map<String, INDArray> grads = new LinkedHashMap<>();
        double worst = 0;
        for (String name : names) {
            INDArray ref = refGrads.get(name), got = r.getGradients().get(name).dup();
            double scale = ref.amaxNumber().doubleValue();
            Fixtures.assertClose(ref, got, 1e-4 * scale, 0, "grad " + name);
            worst = Math.max(worst, Fixtures.maxAbsDiff(ref, got) / scale);
            grads.put(name, got);
        }
        System.out.printf("U-ViT discrete loss: gradients within %.3g of max|g| per tensor%n", worst);

        // AdamW and EMA, fed the official gradients: torch's op order, within 4 ulp
        Map<String, INDArray> params = StateDicts.copy(model.stateDict());
        Ema ema = new Ema(params, 0.9999, false);
        AdamW adamw = new AdamW(2e-4, 0.99, 0.99, 1e-8, 0.03);
        adamw.step(params, refGrads);
        ema.update(params);
        for (String t : List.of("pos_embed", "label_emb.weight", "in_blocks.0.norm1.weight", "mid_block.mlp.fc1.bias",
                "out_blocks.0.skip_linear.bias", "final_layer.weight", "final_layer.bias")) {
            assertUlps(npy(DIR + "adamw/" + t + "/param_step1.npy"), params.get(t), 4, "param " + t);
            assertUlps(npy(DIR + "adamw/" + t + "/exp_avg_step1.npy"), adamw.expAvg().get(t), 4, "exp_avg " + t);
            assertUlps(npy(DIR + "adamw/" + t + "/exp_avg_sq_step1.npy"), adamw.expAvgSq().get(t), 4, "exp_avg_sq " + t);
            assertUlps(npy(DIR + "adamw/" + t + "/ema_step1.npy"), ema.weights().get(t), 4, "ema " + t);
        }
        // and with our gradients: the first step is ≈ lr·sign(g), so elements with |g| near eps are left out
        Map<String, INDArray> ours = StateDicts.copy(model.stateDict());
        new AdamW(2e-4, 0.99, 0.99, 1e-8, 0.03).step(ours, grads);
        for (String t : List.of("pos_embed", "final_layer.weight", "mid_block.mlp.fc1.bias")) {
            double[] ref = npy(DIR + "adamw/" + t + "/param_step1.npy").dup().data().asDouble(), got = ours.get(t).dup().data().asDouble();
            double[] gr = refGrads.get(t).dup().data().asDouble();
            for (int i = 0; i < ref.length; i++) if (Math.abs(gr[i]) > 1e-5) assertEquals(ref[i], got[i], 2e-7, t + "[" + i + "]");
        }
    }

    /** The same step block by block ({@link TrainingStep} over the staged view, skips carried as states): the same gradients. */
    @Test
    void blockByBlockStepOverTheSkipStatesGivesTheSameGradients() {
        UViTModel model = cond();
        TrainingStep step = new TrainingStep(model, EpsilonObjective.stableDiffusionDiscrete());
        TrainingStep.Result r = step.compute(npy(DIR + "x0.npy"), doubles(DIR + "n.npy"), npy(DIR + "noise.npy"),
                Conditioning.labels(longs(DIR + "y.npy")));
        Fixtures.assertClose(npy(DIR + "loss.npy"), r.loss(), 0, 1e-5, "loss");
        assertEquals(npy(DIR + "loss_mean.npy").getDouble(0), r.lossMean(), 1e-5 * r.lossMean());
        Map<String, INDArray> refGrads = TorchCheckpoint.loadStateDict(dir(DIR + "grads.pth"), TorchCheckpoint.Pick.EMA);
        assertEquals(refGrads.keySet(), r.gradients().keySet());
        for (var e : r.gradients().entrySet()) {
            INDArray ref = refGrads.get(e.getKey());
            Fixtures.assertClose(ref, e.getValue(), 1e-4 * ref.amaxNumber().doubleValue(), 0, "block-by-block grad " + e.getKey());
        }
    }

    private static void assertUlps(INDArray ref, INDArray got, int ulps, String what) {
        float[] r = ref.dup().data().asFloat(), o = got.dup().data().asFloat();
        assertEquals(r.length, o.length, what);
        for (int i = 0; i < r.length; i++)
            assertTrue(Math.abs(r[i] - o[i]) <= ulps * Math.ulp(r[i]), what + "[" + i + "]: " + o[i] + " vs " + r[i]);
    }
}
