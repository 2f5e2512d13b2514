package org.dit4j.models.fit;

import org.dit4j.models.Conditioning;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.TokenLayout;
import org.dit4j.pipeline.Guidance;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.Map;

import static org.dit4j.Fixtures.assertClose;
import static org.dit4j.Fixtures.maxAbsDiff;
import static org.dit4j.models.fit.TinyFiT.*;
import static org.junit.jupiter.api.Assertions.*;

/** The tiny FiTv1 against the official fit_model.py: forward with intermediates, RoPE, guidance, the clamp, extrapolation. */
class FiTForwardParityTest {
    private static final double ATOL = 1e-4, RTOL = 1e-4;

    private static double[] times(String rel) {
        return npy(rel).castTo(DataType.DOUBLE).toDoubleVector();
    }

    private static long[] longs(String rel) {
        return npy(rel).castTo(DataType.LONG).toLongVector();
    }

    @Test
    void parameterCountAndOrderMatchTheOfficialStateDict() {
        FiTModel m = clamped();
        assertEquals(269_456, m.parameterCount());
        assertEquals(35, m.parameterShapes().size());
        assertEquals("x_embedder.proj.weight", m.parameterShapes().keySet().iterator().next());
        assertEquals(-0.2909735441207886, m.stateDict().get("x_embedder.proj.weight").getDouble(0, 0), 1e-7);
    }

    @Test
    void fitXl2HasTheOfficialParameterCount() {
        assertEquals(823_599_392L, ModelFamilies.get("fit").shapes(ModelFamilies.named("FiT-XL/2")).values().stream()
                .mapToLong(s -> Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum());
    }

    @Test
    void ropeTablesMatch() {
        FiTModel m = clamped();
        VisionRotaryEmbedding rope = m.rope(8, 8);
        assertClose(npy("intermediates/freqs_h.npy"), org.nd4j.linalg.factory.Nd4j.createFromArray(rope.freqsH()), 1e-7, 0, "freqs_h");
        VisionRotaryEmbedding.Tables t = rope.tables(npy("grid_long.npy"));
        assertClose(npy("intermediates/rope_cos.npy"), t.cos(), 1e-6, 0, "rope_cos");
        assertClose(npy("intermediates/rope_sin.npy"), t.sin(), 1e-6, 0, "rope_sin");
    }

    @Test
    void forwardOnThePaddedBatchMatchesWithEveryIntermediate() {
        Map<String, INDArray> out = clamped().forwardTokens(npy("x.npy"), times("t.npy"), longs("y.npy"), batchLayout(),
                FiTModel.OUTPUT, "t_emb", "y_emb", "x_embedder_out", "blocks.0.out", "blocks.1.out", "final_layer_out");
        assertArrayEquals(new double[]{1, 1, 0}, clamped().modelTime(times("t.npy")));
        assertClose(npy("intermediates/t_emb.npy"), out.get("t_emb"), ATOL, RTOL, "t_emb");
        assertClose(npy("intermediates/y_emb.npy"), out.get("y_emb"), ATOL, RTOL, "y_emb");
        assertClose(npy("intermediates/x_embedder_out.npy"), out.get("x_embedder_out"), ATOL, RTOL, "x_embedder_out");
        assertClose(npy("intermediates/block0_out.npy"), out.get("blocks.0.out"), ATOL, RTOL, "block 0");
        assertClose(npy("intermediates/block1_out.npy"), out.get("blocks.1.out"), ATOL, RTOL, "block 1");
        assertClose(npy("intermediates/final_layer_out.npy"), out.get("final_layer_out"), ATOL, RTOL, "final layer");
        INDArray y = out.get(FiTModel.OUTPUT);
        assertClose(npy("forward_out.npy"), y, ATOL, RTOL, "forward");
        assertTrue(maxAbsDiff(npy("forward_out_f64.npy"), y) < 1e-4);
        // padding outputs are exactly zero: sample 0 has 32 real tokens, sample 2 has 30
        assertEquals(0.0, y.get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.interval(32, 64)).amaxNumber().doubleValue());
        assertEquals(0.0, y.get(NDArrayIndex.point(2), NDArrayIndex.all(), NDArrayIndex.interval(30, 64)).amaxNumber().doubleValue());
    }

    @Test
    void fractionalTimesMatch() {
        INDArray y = clamped().forwardTokens(npy("x.npy"), times("t_frac.npy"), longs("y.npy"), batchLayout());
        assertClose(npy("forward_tfrac_out.npy"), y, ATOL, RTOL, "forward with t in [0, 1]");
    }

    @Test
    void withoutTheClampIntegerTimestepsEmbedApart() {
        FiTModel free = clamped().withConfig(clamped().config().withTimeClamp(false));
        Map<String, INDArray> out = free.forwardTokens(npy("x.npy"), times("t.npy"), longs("y.npy"), batchLayout(), FiTModel.OUTPUT, "t_emb");
        assertArrayEquals(new double[]{999, 500, 0}, free.modelTime(times("t.npy")));
        assertClose(npy("noclamp/intermediates/t_emb.npy"), out.get("t_emb"), ATOL, RTOL, "t_emb without clamp");
        assertClose(npy("noclamp/forward_out.npy"), out.get(FiTModel.OUTPUT), 2e-4, RTOL, "forward without clamp");
    }

    @Test
    void eachSequenceAloneGivesItsPaddedOutputs() {
        INDArray x = npy("x.npy"), y = clamped().forwardTokens(x, times("t.npy"), longs("y.npy"), batchLayout());
        // sample 0 (4×8 = 32 tokens) alone, unpadded
        INDArray x0 = x.get(NDArrayIndex.interval(0, 1), NDArrayIndex.all(), NDArrayIndex.interval(0, 32)).dup();
        INDArray alone = clamped().forwardTokens(x0, new double[]{999}, new long[]{3}, FiTModel.layout(1, 4, 8));
        assertClose(y.get(NDArrayIndex.interval(0, 1), NDArrayIndex.all(), NDArrayIndex.interval(0, 32)), alone, 1e-5, 0, "alone vs padded");
    }

    @Test
    void guidanceMatchesForwardWithCfg() {
        // forward_with_cfg's 3·p·p token channels are latent channels 0..2: guide the unpatchified latents
        INDArray x = npy("x.npy");
        INDArray xx = org.nd4j.linalg.factory.Nd4j.concat(0, x, x);
        TokenLayout l = batchLayout();
        TokenLayout ll = l.concat(l);
        INDArray cfgOut = npy("cfg_out.npy");
        INDArray plain = clamped().forwardTokens(xx, times("cfg_t.npy"), longs("cfg_y.npy"), ll);
        assertClose(npy("cfg_plain_forward_out.npy"), plain, ATOL, RTOL, "plain forward of the guidance batch");
        // guidance through the pipeline's rule on the token-channel view: the first 3 of 4 latent channels
        INDArray cond = plain.get(NDArrayIndex.interval(0, 3)), uncond = plain.get(NDArrayIndex.interval(3, 6));
        INDArray guidedFirst = uncond.add(cond.sub(uncond).mul(4.0)).get(NDArrayIndex.all(), NDArrayIndex.interval(0, 12));
        assertClose(cfgOut.get(NDArrayIndex.interval(0, 3), NDArrayIndex.interval(0, 12)), guidedFirst, ATOL, RTOL, "guided channels");
        assertEquals(3, clamped().config().officialGuidedChannels());
    }

    @Test
    void latentForwardGuidedByThePipelineRuleMatchesForwardWithCfgOnAFullGrid() {
        // all-real 8×8 grid: sample 1 of the batch; the pipeline works on latents (N, C, H, W)
        FiTModel m = clamped();
        INDArray tokens = npy("x.npy").get(NDArrayIndex.interval(1, 2)).dup();
        INDArray latent = FiTModel.unpatchify(tokens, 2, 8, 8);
        assertEquals(tokens, FiTModel.patchify(latent, 2));
        INDArray out = m.forward(latent, new double[]{500}, Conditioning.labels(7));
        INDArray viaTokens = m.forwardTokens(tokens, new double[]{500}, new long[]{7}, FiTModel.layout(1, 8, 8));
        assertClose(FiTModel.unpatchify(viaTokens, 2, 8, 8), out, 1e-6, 0, "latent path = token path");
        INDArray guided = Guidance.batched(4.0, 3).denoiser(m, Conditioning.labels(7), Conditioning.labels(10))
                .apply(org.nd4j.linalg.factory.Nd4j.concat(0, latent, latent), new double[]{500, 500});
        INDArray c = m.forward(latent, new double[]{500}, Conditioning.labels(7)), u = m.forward(latent, new double[]{500}, Conditioning.labels(10));
        INDArray want = u.add(c.sub(u).mul(4.0)).get(NDArrayIndex.all(), NDArrayIndex.interval(0, 3));
        assertClose(want, guided.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(0, 3)), 1e-5, 1e-5, "batched guidance");
    }

    @Test
    void extrapolationNoAndLinearMatch() {
        for (String method : new String[]{"no", "linear"}) {
            FiTModel m = clamped().withConfig(clamped().config().withExtrapolation(method.equals("no") ? "normal" : method, false));
            TokenLayout l = new TokenLayout(npy("extrapolation/grid.npy"), npy("extrapolation/mask.npy"), npy("extrapolation/size.npy"));
            VisionRotaryEmbedding rope = m.rope(12, 10);
            assertClose(npy("extrapolation/" + method + "/freqs_h.npy"), org.nd4j.linalg.factory.Nd4j.createFromArray(rope.freqsH()), 1e-7, 0, method + " freqs_h");
            assertClose(npy("extrapolation/" + method + "/freqs_w.npy"), org.nd4j.linalg.factory.Nd4j.createFromArray(rope.freqsW()), 1e-7, 0, method + " freqs_w");
            VisionRotaryEmbedding.Tables t = rope.tables(npy("extrapolation/grid.npy"));
            assertClose(npy("extrapolation/" + method + "/rope_cos.npy"), t.cos().get(NDArrayIndex.point(0)), 1e-6, 0, method + " cos");
            assertClose(npy("extrapolation/" + method + "/rope_sin.npy"), t.sin().get(NDArrayIndex.point(0)), 1e-6, 0, method + " sin");
            INDArray y = m.forwardTokens(npy("extrapolation/x.npy"), times("extrapolation/t.npy"), longs("extrapolation/y.npy"), l);
            assertClose(npy("extrapolation/" + method + "/out.npy"), y, ATOL, RTOL, method + " forward at 12×10");
        }
    }
}
