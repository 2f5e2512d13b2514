package org.dit4j.models;

import org.dit4j.models.dit.DiT;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.models.nn.PosEmbed;
import org.dit4j.models.nn.TimestepEmbedder;
import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.util.Map;

import static org.dit4j.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** The tiny DiT against forward, guidance and layer-by-layer outputs of the official models.py. */
class DiTForwardParityTest {
    private static final double ATOL = 1e-4, RTOL = 1e-4;

    @Test
    void parameterCountAndOrderMatchTheOfficialStateDict() throws Exception {
        DiTModel m = TinyDiT.model();
        assertEquals(183_200, m.parameterCount());
        try (var files = Files.list(tiny("weights/npy"))) {
            assertEquals(files.count(), m.parameterShapes().size());
        }
        assertEquals("pos_embed", m.parameterShapes().keySet().iterator().next());
        assertFalse(m.isTrainable("pos_embed"));
        assertTrue(m.isTrainable("blocks.1.adaLN_modulation.1.weight"));
    }

    @Test
    void ptWeightsEqualThePerTensorNpyFilesBitForBit() {
        Map<String, INDArray> sd = TinyDiT.model().stateDict();
        for (Map.Entry<String, INDArray> e : sd.entrySet()) {
            INDArray npy = Npy.read(tiny("weights/npy/" + e.getKey() + ".npy"));
            assertEquals(npy, e.getValue(), e.getKey());
        }
    }

    @Test
    void posEmbedTableIsTheOfficialSinCos() {
        INDArray official = Npy.read(tiny("weights/npy/pos_embed.npy"));
        assertClose(official, PosEmbed.sincos2d(64, 4), 1e-7, 0, "pos_embed");
    }

    @Test
    void timestepSinusoidMatchesTheFloat32OfficialComputation() {
        INDArray freq = TimestepEmbedder.frequencyEmbedding(times("t.npy"), 256);
        assertEquals(npy("intermediates/t_freq.npy"), freq, "t_freq bit for bit");
    }

    @Test
    void forwardMatches() {
        INDArray out = TinyDiT.model().forward(npy("x.npy"), times("t.npy"), longs("y.npy"));
        assertClose(npy("forward_out.npy"), out, ATOL, RTOL, "forward");
        // The float64 recomputation bounds honest float32 error at 2e-5.
        assertTrue(maxAbsDiff(npy("forward_out_f64.npy"), out) < 1e-4);
    }

    @Test
    void aModelBuiltOverLoadedWeightsTakesThemOverAndMatches() {
        java.util.Map<String, INDArray> weights = org.dit4j.io.TorchCheckpoint.loadStateDict(org.dit4j.Fixtures.tiny("weights/DiT-tiny.pt"),
                org.dit4j.io.TorchCheckpoint.Pick.EMA);
        DiTModel m = DiTModel.fromStateDict(TinyDiT.model().config(), weights, "DiT-tiny.pt");
        for (var e : m.stateDict().entrySet())
            if (weights.get(e.getKey()).dataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT && !weights.get(e.getKey()).isView())
                assertSame(weights.get(e.getKey()), e.getValue(), e.getKey() + " was copied");
        assertClose(npy("forward_out.npy"), m.forward(npy("x.npy"), times("t.npy"), longs("y.npy")), ATOL, RTOL, "forward");
        weights.remove("final_layer.linear.bias");
        assertThrows(StateDictMismatchException.class, () -> DiTModel.fromStateDict(TinyDiT.model().config(), weights, "DiT-tiny.pt"));
    }

    @Test
    void intermediatesMatchLayerByLayer() {
        String[][] pairs = {
                {"t_emb", "t_emb"}, {"y_emb", "y_emb"}, {"c", "c"}, {"patch_embed_out", "patch_embed_out"},
                {"tokens_in", "tokens_in"}, {"blocks.0.adaLN_out", "block0_adaLN_out"}, {"blocks.0.attn_out", "block0_attn_out"},
                {"blocks.0.mlp_out", "block0_mlp_out"}, {"blocks.0.out", "block0_out"}, {"blocks.1.out", "block1_out"},
                {"final_adaLN_out", "final_adaLN_out"}, {"final_layer_out", "final_layer_out"}};
        String[] names = new String[pairs.length];
        for (int i = 0; i < pairs.length; i++) names[i] = pairs[i][0];
        Map<String, INDArray> got = TinyDiT.model().forward(npy("x.npy"), times("t.npy"), longs("y.npy"), names);
        for (String[] p : pairs) assertClose(npy("intermediates/" + p[1] + ".npy"), got.get(p[0]), ATOL, RTOL, p[0]);
    }

    @Test
    void guidanceOnThreeChannelsMatchesForwardWithCfg() {
        DiTModel m = TinyDiT.model();
        INDArray x = npy("cfg_x.npy");
        double[] t = times("cfg_t.npy");
        long[] y = longs("cfg_y.npy");
        assertClose(npy("cfg_plain_forward_out.npy"), m.forward(x, t, y), ATOL, RTOL, "plain forward of the guidance batch");
        assertClose(npy("cfg_out.npy"), Fixtures.forwardWithCfg(m, y, 4.0, 3).apply(x, t), ATOL, RTOL, "forward_with_cfg");
    }

    @Test
    void guidanceOnAllChannelsMixesEveryEpsilonChannel() {
        DiTModel m = TinyDiT.model();
        INDArray x = npy("cfg_x.npy");
        double[] t = times("cfg_t.npy");
        long[] y = longs("cfg_y.npy");
        INDArray plain = m.forward(x, t, y), all = Fixtures.forwardWithCfg(m, y, 4.0, 4).apply(x, t);
        INDArray three = npy("cfg_out.npy");
        // Channels 0..2 agree with the official mix; channel 3 is now guided too; sigma channels pass through.
        assertClose(three.get(all(), interval(0, 3), all(), all()), all.get(all(), interval(0, 3), all(), all()), ATOL, RTOL, "channels 0..2");
        INDArray c3 = org.dit4j.util.Slices.range(plain, 1, 3, 4);
        INDArray cond = org.dit4j.util.Slices.range(c3, 0, 0, 4), uncond = org.dit4j.util.Slices.range(c3, 0, 4, 8);
        INDArray expected = uncond.add(cond.sub(uncond).mul(4.0f));
        assertClose(expected, all.get(interval(0, 4), interval(3, 4), all(), all()), ATOL, RTOL, "channel 3 guided");
        assertClose(plain.get(all(), interval(4, 8), all(), all()), all.get(all(), interval(4, 8), all(), all()), 0, 0, "sigma channels");
    }

    @Test
    void rejectsWrongInputShapeAndLabelsWithClearMessages() {
        DiTModel m = TinyDiT.model();
        var bad = assertThrows(IllegalArgumentException.class,
                () -> m.forward(org.nd4j.linalg.factory.Nd4j.zeros(1, 3, 8, 8), new double[]{1}, new long[]{1}));
        assertTrue(bad.getMessage().contains("(N, 4, 8, 8)"), bad.getMessage());
        var label = assertThrows(IllegalArgumentException.class,
                () -> m.forward(org.nd4j.linalg.factory.Nd4j.zeros(1, 4, 8, 8), new double[]{1}, new long[]{11}));
        assertTrue(label.getMessage().contains("11"), label.getMessage());
    }

    private static org.nd4j.linalg.indexing.INDArrayIndex all() {
        return org.nd4j.linalg.indexing.NDArrayIndex.all();
    }

    private static org.nd4j.linalg.indexing.INDArrayIndex interval(long a, long b) {
        return org.nd4j.linalg.indexing.NDArrayIndex.interval(a, b);
    }
}
