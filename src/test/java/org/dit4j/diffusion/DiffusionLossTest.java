package org.dit4j.diffusion;

import org.dit4j.util.Graphs;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The loss over samples of any rank (token sequences (C, T) here), with and without FiT's mask and ratio. */
class DiffusionLossTest {
    private static final long C = 2, T = 4;

    private static Map<String, INDArray> run(boolean masked, boolean learnSigma, INDArray mask, INDArray ratio) {
        GaussianDiffusion d = GaussianDiffusion.create(DiffusionConfig.of("").withLearnSigma(learnSigma));
        DiffusionLoss loss = new DiffusionLoss(d);
        SameDiff sd = Graphs.create();
        SDVariable out = sd.placeHolder("out", DataType.FLOAT, -1, learnSigma ? 2 * C : C, T);
        loss.build(sd, out, masked, C, T);
        INDArray x0 = NoiseSourceFixture.values(1, 3, C, T), noise = NoiseSourceFixture.values(2, 3, C, T);
        Map<String, INDArray> ph = new HashMap<>(loss.placeholders(x0, new long[]{0, 10, 999}, noise));
        ph.put("out", NoiseSourceFixture.values(3, 3, learnSigma ? 2 * C : C, T).mul(0.5));
        if (masked) {
            ph.put(DiffusionLoss.MASK, mask);
            ph.put(DiffusionLoss.RATIO, ratio);
        }
        Map<String, INDArray> r = new HashMap<>();
        sd.output(ph, learnSigma ? new String[]{DiffusionLoss.MSE, DiffusionLoss.VB} : new String[]{DiffusionLoss.MSE})
                .forEach((k, v) -> r.put(k, v.dup()));
        r.put("noise", noise);
        r.put("out", ph.get("out"));
        return r;
    }

    @Test
    void aFullMaskWithRatioOneIsThePlainLoss() {
        INDArray ones = Nd4j.ones(DataType.FLOAT, 3, C, T), one = Nd4j.ones(DataType.FLOAT, 3);
        Map<String, INDArray> plain = run(false, true, null, null), masked = run(true, true, ones, one);
        assertEquals(plain.get(DiffusionLoss.MSE), masked.get(DiffusionLoss.MSE));
        assertEquals(plain.get(DiffusionLoss.VB), masked.get(DiffusionLoss.VB));
    }

    @Test
    void theMaskZeroesTheTargetAtPaddingAndTheRatioScalesBothTerms() {
        INDArray mask = Nd4j.ones(DataType.FLOAT, 3, C, T);
        mask.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 4)).assign(0);
        INDArray ratio = Nd4j.createFromArray(2f, 2f, 2f);
        Map<String, INDArray> plain = run(false, true, null, null), masked = run(true, true, mask, ratio);
        INDArray eps = masked.get("out").get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, C),
                org.nd4j.linalg.indexing.NDArrayIndex.all());
        INDArray sq = masked.get("noise").mul(mask).sub(eps);
        sq.muli(sq);
        for (int i = 0; i < 3; i++) {
            double expected = sq.slice(i).sumNumber().doubleValue() / (C * T) * 2;
            assertEquals(expected, masked.get(DiffusionLoss.MSE).getDouble(i), 1e-5 * Math.abs(expected), "masked mse " + i);
            assertEquals(2 * plain.get(DiffusionLoss.VB).getDouble(i), masked.get(DiffusionLoss.VB).getDouble(i),
                    1e-5 * Math.abs(plain.get(DiffusionLoss.VB).getDouble(i)), "vb is scaled, not masked");
        }
    }

    /** Deterministic test values. */
    static final class NoiseSourceFixture {
        static INDArray values(long seed, long... shape) {
            return NoiseSource.seeded(seed).next(shape);
        }
    }
}
