package org.dit4j.models.uvit;

import org.dit4j.Fixtures;
import org.dit4j.models.Conditioning;
import org.dit4j.pipeline.Guidance;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static org.dit4j.models.uvit.TinyUViT.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The official {@code libs/uvit.py} / {@code libs/uvit_t2i.py} forward on the fixtures' tiny models
 * (fixtures/uvit/cond, fixtures/uvit/t2i/ctx8): every intermediate, integer and fractional timesteps, and
 * {@code cfg_nnet}'s two-pass guidance; the README's tolerance max|Δ| ≤ 1e-4 + 1e-4·|ref|.
 */
class UViTForwardParityTest {
    static final double ATOL = 1e-4, RTOL = 1e-4;
    static UViTModel cond, t2i;

    @BeforeAll
    static void load() {
        cond = cond();
        t2i = t2i();
    }

    private static void close(String ref, INDArray got, String what) {
        INDArray r = npy(ref);
        Fixtures.assertClose(r, got, ATOL, RTOL, what);
        System.out.printf("%s: max|Δ| %.3g%n", what, Fixtures.maxAbsDiff(r, got));
    }

    @Test
    void classConditionalForwardAndEveryIntermediate() {
        assertEquals(272_804, cond.parameterCount());
        Map<String, String> names = new java.util.LinkedHashMap<>();
        names.put("patch_embed_out", "patch_embed_out");
        names.put("time_token", "time_token");
        names.put("label_emb", "label_emb");
        names.put("tokens_in", "tokens_in");
        names.put("in_blocks.0.out", "in_block0_out");
        names.put("in_blocks.1.out", "in_block1_out");
        names.put("mid_block.out", "mid_block_out");
        names.put("out_blocks.0.skip_linear_out", "out_block0_skip_linear_out");
        names.put("out_blocks.0.out", "out_block0_out");
        names.put("out_blocks.1.skip_linear_out", "out_block1_skip_linear_out");
        names.put("out_blocks.1.out", "out_block1_out");
        names.put("norm_out", "norm_out");
        names.put("decoder_pred_out", "decoder_pred_out");
        names.put("unpatchify_out", "unpatchify_out");
        names.put(UViTModel.OUTPUT, null);
        Map<String, INDArray> out = cond.forward(npy("cond/x.npy"), doubles("cond/t.npy"), Conditioning.labels(longs("cond/y.npy")),
                names.keySet().toArray(String[]::new));
        names.forEach((name, file) -> { if (file != null) close("cond/intermediates/" + file + ".npy", out.get(name), name); });
        close("cond/forward_out.npy", out.get(UViTModel.OUTPUT), "forward");
        close("cond/forward_out_f64.npy", out.get(UViTModel.OUTPUT), "forward vs float64");
    }

    @Test
    void fractionalTimestepsAsTheContinuousScriptsFeedThem() {
        INDArray got = cond.forward(npy("cond/x.npy"), doubles("cond/t_float.npy"), Conditioning.labels(longs("cond/y.npy")));
        close("cond/forward_tfloat_out.npy", got, "forward(t·999)");
        close("cond/forward_tfloat_out_f64.npy", got, "forward(t·999) vs float64");
    }

    @Test
    void twoPassGuidanceIsCfgNnet() {
        assertEquals(10, cond.config().nullLabel());
        assertEquals(org.dit4j.models.ModelConfig.GuidanceRule.TWO_PASS, cond.config().guidanceRule());
        long[] y = longs("cond/cfg_y.npy");
        INDArray x = npy("cond/x.npy");
        double[] t = doubles("cond/t.npy");
        INDArray got = Guidance.twoPass(0.4).denoiser(cond, Conditioning.labels(y), Conditioning.labels(10, 10, 10)).apply(x, t);
        close("cond/cfg_out.npy", got, "cfg_nnet(scale 0.4)");
    }

    @Test
    void textToImageForwardWithAnEightTokenContext() {
        assertEquals(71_876, t2i.parameterCount());
        Conditioning c = new Conditioning(null, npy("t2i/ctx8/context.npy"), null);
        String[] inter = {"patch_embed_out", "time_token", "context_token", "tokens_in", "in_block0_out", "in_block1_out",
                "mid_block_out", "out_block0_skip_linear_out", "out_block0_out", "out_block1_skip_linear_out", "out_block1_out",
                "norm_out", "decoder_pred_out", "unpatchify_out"};
        String[] ours = {"patch_embed_out", "time_token", "context_token", "tokens_in", "in_blocks.0.out", "in_blocks.1.out",
                "mid_block.out", "out_blocks.0.skip_linear_out", "out_blocks.0.out", "out_blocks.1.skip_linear_out", "out_blocks.1.out",
                "norm_out", "decoder_pred_out", "unpatchify_out", UViTModel.OUTPUT};
        Map<String, INDArray> out = t2i.forward(npy("t2i/ctx8/x.npy"), doubles("t2i/ctx8/t.npy"), c, ours);
        for (int i = 0; i < inter.length; i++) close("t2i/ctx8/intermediates/" + inter[i] + ".npy", out.get(ours[i]), "t2i " + ours[i]);
        close("t2i/ctx8/forward_out.npy", out.get(UViTModel.OUTPUT), "t2i forward");
        close("t2i/ctx8/forward_out_f64.npy", out.get(UViTModel.OUTPUT), "t2i forward vs float64");
        INDArray tf = t2i.forward(npy("t2i/ctx8/x.npy"), doubles("t2i/ctx8/t_float.npy"), c);
        close("t2i/ctx8/forward_tfloat_out.npy", tf, "t2i forward(fractional t)");
    }

    @Test
    void wrongContextsAndLabelsAreOneLineErrors() {
        INDArray x = npy("t2i/ctx8/x.npy");
        var e = assertThrows(IllegalArgumentException.class, () -> t2i.forward(x, new double[]{1, 2, 3},
                new Conditioning(null, org.nd4j.linalg.factory.Nd4j.zeros(3, 8, 16), null)));
        assertTrue(e.getMessage().contains("clip_dim") && !e.getMessage().contains("\n"), e.getMessage());
        var l = assertThrows(IllegalArgumentException.class, () -> cond.forward(npy("cond/x.npy"), new double[]{1, 2, 3}, Conditioning.labels(1, 2, 11)));
        assertTrue(l.getMessage().contains("outside [0, 11)"), l.getMessage());
    }
}
