package org.dit4j.diffusion;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.dit4j.util.Graphs;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * FiT's masked {@code training_losses} on the fixture's padded batch (../shared/fixtures/fit training/): x_t and the
 * ratio against the official inputs, and the loss terms and their gradient with respect to the model output against
 * the official code (scripts/reference/fit_masked_loss.py, whlzy/FiT @ b22b7b0, torch 1.13.1 CPU float32).
 */
class FiTMaskedLossTest {
    private static INDArray npy(String rel) {
        return Npy.read(Fixtures.root().resolve("fit").resolve(rel));
    }

    private static final GaussianDiffusion DIFFUSION = GaussianDiffusion.create(DiffusionConfig.of("").withLearnSigma(true));

    @Test
    void xtIsBitIdenticalAndTheRatioExact() {
        long[] t = npy("training/t.npy").castTo(DataType.LONG).toLongVector();
        Map<String, INDArray> ph = new DiffusionLoss(DIFFUSION).placeholders(npy("x.npy"), t, npy("training/noise.npy"));
        INDArray xt = ph.get(DiffusionLoss.X_T), want = npy("training/x_t.npy");
        assertEquals(0.0, xt.castTo(DataType.DOUBLE).sub(want.castTo(DataType.DOUBLE)).amaxNumber().doubleValue(), 0.0, "x_t");
        Map<String, INDArray> m = DiffusionLoss.maskPlaceholders(npy("mask.npy"), 16);
        assertArrayEquals(npy("training/ratio.npy").toFloatVector(), m.get(DiffusionLoss.RATIO).toFloatVector(), 0f, "ratio");
        assertArrayEquals(new long[]{3, 16, 64}, m.get(DiffusionLoss.MASK).shape());
    }

    /** mse, vb, loss per sample and the gradient of loss.mean() w.r.t. the model output (its sum of squares, three values). */
    private static Map<String, INDArray> run(INDArray output) {
        DiffusionLoss loss = new DiffusionLoss(DIFFUSION);
        SameDiff sd = Graphs.create();
        loss.build(sd, sd.var("out", output.dup()), true, 16, 64);
        sd.setLossVariables(DiffusionLoss.LOSS_MEAN);
        long[] t = npy("training/t.npy").castTo(DataType.LONG).toLongVector();
        Map<String, INDArray> ph = new HashMap<>(loss.placeholders(npy("x.npy"), t, npy("training/noise.npy")));
        ph.putAll(DiffusionLoss.maskPlaceholders(npy("mask.npy"), 16));
        Map<String, INDArray> r = new HashMap<>();
        sd.output(ph, DiffusionLoss.MSE, DiffusionLoss.VB, DiffusionLoss.LOSS).forEach((k, v) -> r.put(k, v.dup()));
        r.put("grad", sd.calculateGradients(ph, "out").get("out").dup());
        return r;
    }

    private static void check(Map<String, INDArray> r, double[] mse, double[] vb, double[] loss, double gradSumSq, double[] grads) {
        for (int i = 0; i < 3; i++) {
            // ND4J sums float32 sequentially (SameDiffTrapsTest): the 0.01-sized padding terms added after the real ones
            // round by up to 4e-6 of the total, where torch's pairwise sum does not.
            assertEquals(mse[i], r.get(DiffusionLoss.MSE).getDouble(i), 1e-5 * Math.abs(mse[i]), "mse " + i);
            assertEquals(vb[i], r.get(DiffusionLoss.VB).getDouble(i), 1e-5 * Math.abs(vb[i]) + 1e-8, "vb " + i);
            assertEquals(loss[i], r.get(DiffusionLoss.LOSS).getDouble(i), 1e-5 * Math.abs(loss[i]), "loss " + i);
        }
        INDArray g = r.get("grad").castTo(DataType.DOUBLE);
        assertEquals(gradSumSq, g.mul(g).sumNumber().doubleValue(), 1e-5 * gradSumSq, "gradient sum of squares");
        assertEquals(grads[0], g.getDouble(0, 0, 0), 1e-5 * Math.abs(grads[0]), "grad[0,0,0]");
        assertEquals(grads[1], g.getDouble(0, 0, 40), 1e-5 * Math.abs(grads[1]) + 1e-12, "grad[0,0,40] (padding)");
        assertEquals(grads[2], g.getDouble(2, 20, 10), 1e-4 * Math.abs(grads[2]) + 1e-12, "grad[2,20,10]");
    }

    /** FiT's own output is 0 at padding: the padding's ε gradient is 0, its VB term is counted. */
    @Test
    void maskedLossAndGradientMatchTheOfficialCode() {
        check(run(npy("noclamp/forward_out.npy")),
                new double[]{2.056586503982544, 2.38682222366333, 2.231842041015625},
                new double[]{0.20613494515419006, 0.03513874486088753, 0.02447478286921978},
                new double[]{2.262721538543701, 2.4219610691070557, 2.256316900253296},
                0.004887727868773979, new double[]{-0.0019684976432472467, 0.0, -1.8379068933427334e-08});
    }

    /** An output not 0 at padding: the official (target·mask − output)² counts it there. */
    @Test
    void paddingOutputsCountAsTheOfficialFormulaSays() {
        check(run(npy("noclamp/forward_out.npy").add(0.1)),
                new double[]{2.053725004196167, 2.3640618324279785, 2.238276481628418},
                new double[]{0.20523762702941895, 0.03480365499854088, 0.024654880166053772},
                new double[]{2.258962631225586, 2.3988654613494873, 2.2629313468933105},
                0.004881321405249607, new double[]{-0.001838289201259613, 0.0001302083401242271, -1.658918336033821e-08});
    }
}

