package org.dit4j.models.fit;

import org.dit4j.diffusion.DiffusionConfig;
import org.dit4j.diffusion.DiffusionLoss;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.io.Weights;
import org.dit4j.models.Conditioning;
import org.dit4j.models.TokenLayout;
import org.dit4j.training.TrainingStep;
import org.dit4j.util.Graphs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.HashMap;
import java.util.Map;

import static org.dit4j.models.fit.TinyFiT.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Training the fixture FiT block by block (FiTStaged through training.TrainingStep) on the fixture's padded training
 * batch: the staged loss equals the whole forward pass's, the gradients match central differences, and padding further
 * changes no gradient (only the unmasked VB term's value, as the official loss counts padding there).
 */
class FiTTrainStepTest {
    private static final GaussianDiffusion DIFFUSION = GaussianDiffusion.create(DiffusionConfig.of("").withLearnSigma(true));
    private static FiTModel model;
    private static long[] t, y;
    private static INDArray x, noise;
    private static TokenLayout layout;

    @BeforeAll
    static void load() {
        FiTConfig cfg = config();
        model = FiTModel.fromStateDict(cfg, Weights.load(fixture("weights/fit-tiny.pt"), null, cfg, null).weights(), "fit-tiny.pt");
        t = npy("training/t.npy").castTo(DataType.LONG).toLongVector();
        y = npy("y.npy").castTo(DataType.LONG).toLongVector();
        x = npy("x.npy");
        noise = npy("training/noise.npy");
        layout = batchLayout();
    }

    /** mse and vb per sample of a model output through the masked loss graph. */
    private static final Map<Long, SameDiff> LOSS_GRAPHS = new HashMap<>();

    private static INDArray[] terms(INDArray output, INDArray mask) {
        DiffusionLoss loss = new DiffusionLoss(DIFFUSION);
        SameDiff sd = LOSS_GRAPHS.computeIfAbsent(output.size(2), n -> {
            SameDiff g = Graphs.create();
            loss.build(g, g.placeHolder("out", DataType.FLOAT, -1, output.size(1), n), true, 16, n);
            return g;
        });
        Map<String, INDArray> ph = new HashMap<>(loss.placeholders(slice(x, output.size(2)), t, slice(noise, output.size(2))));
        ph.putAll(DiffusionLoss.maskPlaceholders(mask, 16));
        ph.put("out", output);
        Map<String, INDArray> r = sd.output(ph, DiffusionLoss.MSE, DiffusionLoss.VB);
        return new INDArray[]{r.get(DiffusionLoss.MSE).dup(), r.get(DiffusionLoss.VB).dup()};
    }

    private static INDArray slice(INDArray a, long tokens) {
        return a.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, tokens)).dup();
    }

    private static INDArray forwardAtXt() {
        INDArray xt = DIFFUSION.qSample(x, t, noise);
        return model.forwardTokens(xt, DIFFUSION.modelTimesteps(t), y, layout);
    }

    @Test
    void stagedLossEqualsTheWholeForwardPass() {
        TrainingStep step = new TrainingStep(model.staged(64), DIFFUSION);
        TrainingStep.Result r = step.compute(x, t, noise, new Conditioning(y, null, layout), DIFFUSION);
        INDArray[] whole = terms(forwardAtXt(), layout.mask());
        for (int i = 0; i < 3; i++) {
            assertEquals(whole[0].getDouble(i), r.mse().getDouble(i), 1e-6 * whole[0].getDouble(i), "mse " + i);
            assertEquals(whole[1].getDouble(i), r.vb().getDouble(i), 1e-5 * whole[1].getDouble(i), "vb " + i);
        }
        assertEquals(269_456, r.gradients().values().stream().mapToLong(INDArray::length).sum());
        assertEquals(35, r.gradients().size());
    }

    /** L = mse(output) + vb(ε frozen at the current weights, var(output)): what the analytical gradient differentiates. */
    private static double frozenLoss(INDArray eps0) {
        INDArray out = forwardAtXt();
        INDArray frozen = out.dup();
        frozen.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 16), NDArrayIndex.all()).assign(eps0);
        return terms(out, layout.mask())[0].meanNumber().doubleValue() + terms(frozen, layout.mask())[1].meanNumber().doubleValue();
    }

    @Test
    void gradientsMatchCentralDifferences() {
        TrainingStep step = new TrainingStep(model.staged(64), DIFFUSION);
        Map<String, INDArray> grads = step.compute(x, t, noise, new Conditioning(y, null, layout), DIFFUSION).gradients();
        INDArray eps0 = forwardAtXt().get(NDArrayIndex.all(), NDArrayIndex.interval(0, 16), NDArrayIndex.all()).dup();
        for (String name : new String[]{"x_embedder.proj.weight", "blocks.0.attn.qkv.weight", "blocks.1.mlp.fc2.weight",
                "final_layer.linear.weight"}) {
            INDArray g = grads.get(name), w = model.stateDict().get(name);
            long k = g.reshape(-1).argMax().getLong(0);          // the largest component: well above float32 noise
            double analytic = g.reshape(-1).getDouble(k), h = 1e-2, w0 = w.reshape(-1).getDouble(k);
            w.reshape(-1).putScalar(k, w0 + h);
            double plus = frozenLoss(eps0);
            w.reshape(-1).putScalar(k, w0 - h);
            double minus = frozenLoss(eps0);
            w.reshape(-1).putScalar(k, w0);
            double numeric = (plus - minus) / (2 * h);
            assertEquals(analytic, numeric, 0.03 * Math.abs(analytic) + 2e-5, name + "[" + k + "]");
        }
    }

    @Test
    void paddingFurtherChangesNoGradientOnlyTheVbValue() {
        // Samples 0 and 2 (32 and 30 tokens): padded to their longest (32, train_fit.py's trim) or to 64.
        long[] t2 = {t[0], t[2]}, y2 = {y[0], y[2]};
        TokenLayout full = new TokenLayout(layout.grid().get(NDArrayIndex.indices(0, 2), NDArrayIndex.all(), NDArrayIndex.all()).dup(),
                layout.mask().get(NDArrayIndex.indices(0, 2), NDArrayIndex.all()).dup(), layout.sizes().reshape(3, 2).get(NDArrayIndex.indices(0, 2), NDArrayIndex.all()).dup());
        TokenLayout trimmed = new TokenLayout(slice(full.grid(), 32), full.mask().get(NDArrayIndex.all(), NDArrayIndex.interval(0, 32)).dup(), full.sizes());
        INDArray x2 = x.get(NDArrayIndex.indices(0, 2), NDArrayIndex.all(), NDArrayIndex.all()).dup();
        INDArray n2 = noise.get(NDArrayIndex.indices(0, 2), NDArrayIndex.all(), NDArrayIndex.all()).dup();
        TrainingStep.Result at64 = new TrainingStep(model.staged(64), DIFFUSION).compute(x2, t2, n2, new Conditioning(y2, null, full), DIFFUSION);
        TrainingStep.Result at32 = new TrainingStep(model.staged(32), DIFFUSION).compute(slice(x2, 32), t2, slice(n2, 32),
                new Conditioning(y2, null, trimmed), DIFFUSION);
        for (int i = 0; i < 2; i++) {
            assertEquals(at64.mse().getDouble(i), at32.mse().getDouble(i), 1e-5 * at64.mse().getDouble(i), "mse " + i);
            assertNotEquals(at64.vb().getDouble(i), at32.vb().getDouble(i), 1e-3 * at64.vb().getDouble(i), "vb counts the padding " + i);
        }
        for (String name : at64.gradients().keySet()) {
            INDArray a = at64.gradients().get(name), b = at32.gradients().get(name);
            double scale = Math.max(a.amaxNumber().doubleValue(), 1e-12);
            assertEquals(0, a.sub(b).amaxNumber().doubleValue() / scale, 1e-4, name);
        }
    }
}
