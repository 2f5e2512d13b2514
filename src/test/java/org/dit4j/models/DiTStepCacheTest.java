package org.dit4j.models;

import org.dit4j.models.dit.DiTModel;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Map;

import static org.dit4j.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** FORA's cached step of the tiny DiT against the same step worked out by hand from the full graph's named intermediates. */
class DiTStepCacheTest {
    private static final int D = 64, DEPTH = 2, P = 2, C_OUT = 8, GRID = 4;

    @Test
    void aFullStepReturnsTheForwardAndItsBlocksNamedOutputsBitForBit() {
        DiTModel m = TinyDiT.model();
        INDArray x = npy("cfg_x.npy");
        double[] t = times("cfg_t.npy");
        long[] y = longs("cfg_y.npy");
        BlockCaching.Step s = m.forwardStoring(x, t, Conditioning.labels(y));
        assertEquals(m.forward(x, t, y), s.output());
        for (int i = 0; i < DEPTH; i++) {
            Map<String, INDArray> f = m.forward(x, t, y, "blocks." + i + ".attn_out", "blocks." + i + ".mlp_out");
            assertEquals(f.get("blocks." + i + ".attn_out"), s.blocks().attn().get(i), "block " + i + " attn_out");
            assertEquals(f.get("blocks." + i + ".mlp_out"), s.blocks().mlp().get(i), "block " + i + " mlp_out");
        }
    }

    /**
     * At step t2 each block adds the attention and MLP outputs of step t1, gated by t2's adaLN: tokens_in, c and every
     * adaLN output depend on t2 alone, so the full graph at t2 gives them, and the rest is a few lines of arithmetic.
     */
    @Test
    void aCachedStepAddsTheEarlierStepsOutputsGatedByThisStepsAdaLN() {
        DiTModel m = TinyDiT.model();
        INDArray x1 = npy("cfg_x.npy"), x2 = x1.mul(0.9).addi(0.05);
        long[] y = longs("cfg_y.npy");
        double[] t1 = new double[8], t2 = new double[8];
        Arrays.fill(t1, 500);
        Arrays.fill(t2, 480);
        BlockCaching.BlockOutputs cache = m.forwardStoring(x1, t1, Conditioning.labels(y)).blocks();
        INDArray got = m.forwardCached(x2, t2, Conditioning.labels(y), cache);

        Map<String, INDArray> f = m.forward(x2, t2, y, "tokens_in", "c", "blocks.0.adaLN_out", "blocks.1.adaLN_out",
                "final_adaLN_out", DiTModel.OUTPUT);
        Map<String, INDArray> w = m.stateDict();
        int n = 8, tokens = GRID * GRID, outPer = P * P * C_OUT;
        double[][][] x = new double[n][tokens][D];
        for (int b = 0; b < n; b++)
            for (int k = 0; k < tokens; k++)
                for (int d = 0; d < D; d++) x[b][k][d] = f.get("tokens_in").getDouble(b, k, d);
        for (int i = 0; i < DEPTH; i++) {
            INDArray mod = f.get("blocks." + i + ".adaLN_out"), attn = cache.attn().get(i), mlp = cache.mlp().get(i);   // gates: chunks 2 and 5
            for (int b = 0; b < n; b++)
                for (int k = 0; k < tokens; k++)
                    for (int d = 0; d < D; d++)
                        x[b][k][d] += mod.getDouble(b, 2 * D + d) * attn.getDouble(b, k, d) + mod.getDouble(b, 5 * D + d) * mlp.getDouble(b, k, d);
        }
        INDArray fin = f.get("final_adaLN_out"), lw = w.get("final_layer.linear.weight"), lb = w.get("final_layer.linear.bias");
        INDArray expected = Nd4j.zeros(DataType.DOUBLE, n, C_OUT, GRID * P, GRID * P);
        for (int b = 0; b < n; b++)
            for (int k = 0; k < tokens; k++) {
                double mean = Arrays.stream(x[b][k]).average().orElseThrow(), var = 0;
                for (double v : x[b][k]) var += (v - mean) * (v - mean) / D;
                double[] h = new double[D];
                for (int d = 0; d < D; d++)
                    h[d] = (x[b][k][d] - mean) / Math.sqrt(var + 1e-6) * (1 + fin.getDouble(b, D + d)) + fin.getDouble(b, d);
                for (int o = 0; o < outPer; o++) {
                    double v = lb.getDouble(o);
                    for (int d = 0; d < D; d++) v += h[d] * lw.getDouble(o, d);
                    int pi = o / (P * C_OUT), qi = o / C_OUT % P, ch = o % C_OUT;   // 'nhwpqc->nchpwq'
                    expected.putScalar(new long[]{b, ch, (k / GRID) * P + pi, (k % GRID) * P + qi}, v);
                }
            }
        assertClose(expected.castTo(DataType.FLOAT), got, 1e-5, 1e-5, "cached step");
        assertTrue(maxAbsDiff(f.get(DiTModel.OUTPUT), got) > 1e-3, "the cached step is the full step: the cache was not used");
    }

    @Test
    void cachedOutputsOfAnotherBatchAreRefused() {
        DiTModel m = TinyDiT.model();
        INDArray x = npy("cfg_x.npy");
        long[] y = longs("cfg_y.npy");
        BlockCaching.BlockOutputs cache = m.forwardStoring(x, times("cfg_t.npy"), Conditioning.labels(y)).blocks();
        var e = assertThrows(IllegalArgumentException.class, () -> m.forwardCached(x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4)),
                new double[]{1, 2, 3, 4}, Conditioning.labels(Arrays.copyOf(y, 4)), cache));
        assertTrue(e.getMessage().contains("block 0"), e.getMessage());
    }
}
