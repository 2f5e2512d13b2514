package org.dit4j.models.fitmindone;

import org.dit4j.models.Conditioning;
import org.dit4j.models.ModelFamilies;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.*;

import static org.dit4j.Fixtures.assertClose;
import static org.dit4j.Fixtures.maxAbsDiff;
import static org.dit4j.models.fitmindone.TinyMindOneFiT.*;
import static org.junit.jupiter.api.Assertions.*;

/** The tiny MindONE FiT against the PyTorch transliteration of mindone/models/fit.py and FiTInferPipeline. */
class MindOneFiTForwardParityTest {
    /** The fixture README's forward tolerance: 2e-4 + 1e-4·|ref|. */
    private static final double ATOL = 2e-4, RTOL = 1e-4;

    private static INDArray rows(INDArray a, int from, int to) {
        return a.get(NDArrayIndex.interval(from, to)).dup();
    }

    @Test
    void parametersHaveTheMindSporeNamesShapesAndOrder() {
        MindOneFiTModel m = model();
        assertEquals(181_280, m.parameterCount());
        List<?> tensors = (List<?>) ((Map<?, ?>) json().get("weights")).get("tensors");
        List<String> expected = new ArrayList<>();
        for (Object t : tensors) expected.add((String) ((Map<?, ?>) t).get("mindspore_name"));
        assertEquals(expected, new ArrayList<>(m.parameterShapes().keySet()));
        for (Object o : tensors) {
            Map<?, ?> t = (Map<?, ?>) o;
            INDArray w = m.stateDict().get((String) t.get("mindspore_name"));
            assertArrayEquals(((List<?>) t.get("shape")).stream().mapToLong(v -> ((Number) v).longValue()).toArray(), w.shape());
            assertEquals(((Number) t.get("sum_f64")).doubleValue(), w.castTo(DataType.DOUBLE).sumNumber().doubleValue(), 1e-9, (String) t.get("mindspore_name"));
        }
        assertEquals(170, m.config().mlpHidden());
    }

    @Test
    void everyNamedSizeHasMindOnesArchitecture() {
        assertEquals(12, MindOneFiTFamily.NAMES.size());
        MindOneFiTConfig xl = (MindOneFiTConfig) ModelFamilies.named("MindONE-FiT-XL/2");
        assertEquals(List.of(28, 1152, 16, 2, 3072, 72, 256), List.of(xl.depth(), xl.hiddenSize(), xl.numHeads(), xl.patchSize(),
                xl.mlpHidden(), xl.embedDim(), xl.maxLength()));
        MindOneFiTConfig s8 = (MindOneFiTConfig) ModelFamilies.named("MindONE-FiT-S/8");
        assertEquals(List.of(12, 384, 6, 8), List.of(s8.depth(), s8.hiddenSize(), s8.numHeads(), s8.patchSize()));
        // FiT-XL/2: patch embed 4·4·1152+1152, t-MLP, 1001×1152 table, 28 blocks of qkv, proj, SwiGLU 3072 (no biases),
        // adaLN, final layer to 2·2·8.
        long block = 1152L * 3456 + 3456 + 1152L * 1152 + 1152 + 3L * 1152 * 3072 + 1152L * 6912 + 6912;
        long expected = 16L * 1152 + 1152 + 256L * 1152 + 1152 + 1152L * 1152 + 1152 + 1001L * 1152 + 28 * block
                + 1152L * 32 + 32 + 1152L * 2304 + 2304;
        assertEquals(expected, ModelFamilies.get("fit-mindone").shapes(xl).values().stream()
                .mapToLong(s -> Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum());
        assertEquals("MindONE-FiT-B/4", MindOneFiTFamily.fromMindOneName("FiT-B/4"));
        assertThrows(IllegalArgumentException.class, () -> MindOneFiTFamily.fromMindOneName("FiT-XXL/2"));
    }

    @Test
    void ropeTableIsPrecomputeFreqsCis2dWithVisionNtk() {
        INDArray table = model().positions(8, 12);
        assertClose(npy("forward/pos.npy"), table, 1e-6, 0, "precompute_freqs_cis_2d(16, 4, 6, max_length=64)");
        // VisionNTK: a 4 × 20 grid under max_length 64 has s_w = 19/8, so θ_w = 10000·s^(8/6) while θ_h stays 10000.
        float[] fw = MindOneFiTLayout.axisFreqs(8, 19, 10000.0, 64), fh = MindOneFiTLayout.axisFreqs(8, 3, 10000.0, 64);
        double thetaW = 10000.0 * Math.pow(19 / 8.0, 8 / 6.0);
        assertEquals(1.0 / Math.pow(thetaW, 0.25), fw[1], 1e-7);
        assertEquals(0.1, fh[1], 1e-7);
    }

    @Test
    void constructMatchesWithEveryIntermediate() {
        MindOneFiTModel m = model();
        INDArray x = npy("forward/x.npy");
        Map<String, INDArray> out = m.construct(x, times("forward/t.npy"), longs("forward/y.npy"), npy("forward/pos.npy"),
                npy("forward/mask.npy"), MindOneFiTModel.OUTPUT, "x_embedder_out", "t_emb", "y_emb", "blocks.0.adaLN_out",
                "blocks.0.attn.q_rope", "blocks.0.attn.k_rope", "blocks.0.attn_out", "blocks.0.ffn_out", "blocks.0.out", "blocks.1.out");
        assertClose(npy("forward/intermediates/patchify_out.npy"), MindOneFiTLayout.patchify(x, 2), 0, 0, "patchify");
        assertClose(npy("forward/intermediates/x_embedder_out.npy"), out.get("x_embedder_out"), ATOL, RTOL, "x_embedder");
        assertClose(npy("forward/intermediates/t_emb.npy"), out.get("t_emb"), ATOL, RTOL, "t_embedder");
        assertClose(npy("forward/intermediates/y_emb.npy"), out.get("y_emb"), ATOL, RTOL, "y_embedder");
        assertClose(npy("forward/intermediates/block0_adaLN_out.npy"), out.get("blocks.0.adaLN_out"), ATOL, RTOL, "adaLN");
        assertClose(npy("forward/intermediates/block0_q_rope.npy"), out.get("blocks.0.attn.q_rope"), ATOL, RTOL, "q after RoPE");
        assertClose(npy("forward/intermediates/block0_k_rope.npy"), out.get("blocks.0.attn.k_rope"), ATOL, RTOL, "k after RoPE");
        assertClose(npy("forward/intermediates/block0_attn_out.npy"), out.get("blocks.0.attn_out"), ATOL, RTOL, "attention");
        assertClose(npy("forward/intermediates/block0_ffn_out.npy"), out.get("blocks.0.ffn_out"), ATOL, RTOL, "SwiGLU");
        assertClose(npy("forward/intermediates/block0_out.npy"), out.get("blocks.0.out"), ATOL, RTOL, "block 0");
        assertClose(npy("forward/intermediates/block1_out.npy"), out.get("blocks.1.out"), ATOL, RTOL, "block 1");
        assertClose(npy("forward/intermediates/final_layer_out.npy"), out.get(MindOneFiTModel.OUTPUT), ATOL, RTOL, "final layer");
        INDArray y = m.construct(x, times("forward/t.npy"), longs("forward/y.npy"), npy("forward/pos.npy"), npy("forward/mask.npy"));
        assertClose(npy("forward/out.npy"), y, ATOL, RTOL, "construct");
        assertTrue(maxAbsDiff(npy("forward/out_f64.npy"), y) < 1e-4);
        System.out.printf(Locale.ROOT, "MindONE FiT forward: max |Δ| %.3g vs float32, %.3g vs float64%n",
                maxAbsDiff(npy("forward/out.npy"), y), maxAbsDiff(npy("forward/out_f64.npy"), y));
    }

    @Test
    void denoiserForwardOnLatentsIsThePipelinesCall() {
        INDArray y = model().forward(npy("forward/x.npy"), times("forward/t.npy"), Conditioning.labels(longs("forward/y.npy")));
        assertClose(npy("forward/out.npy"), y, ATOL, RTOL, "forward on (3, 4, 8, 12) latents");
    }

    @Test
    void thePipelinesPaddingMatches() {
        MindOneFiTModel m = model();
        INDArray x = rows(npy("forward/x.npy"), 0, 2);
        INDArray z = MindOneFiTLayout.padLatent(x, 2, 64);
        assertClose(npy("padded/z_padded.npy"), z, 0, 0, "_pad_latent");
        assertClose(npy("padded/pos.npy"), MindOneFiTLayout.posEmbed(8, 12, 2, 64, 16, "rotate"), 1e-6, 0, "_create_pos_embed");
        assertClose(npy("padded/mask.npy").castTo(DataType.FLOAT), MindOneFiTLayout.mask(24, 64, 2), 0, 0, "_create_mask");
        double[] t = times("padded/t.npy");
        long[] labels = longs("padded/y.npy");
        INDArray out = m.construct(z, t, labels, npy("padded/pos.npy"), npy("padded/mask.npy"));
        assertClose(npy("padded/out.npy"), out, ATOL, RTOL, "padded construct (padding outputs included)");
        assertTrue(maxAbsDiff(npy("padded/out_f64.npy"), out) < 1e-4);
        assertClose(npy("padded/out_unpadded.npy"), MindOneFiTLayout.unpadLatent(out, 24, 8, 12, 2), ATOL, RTOL, "_unpad_latent");
        INDArray padded = m.forwardPadded(x, t, labels), direct = m.forward(x, t, Conditioning.labels(labels));
        assertClose(npy("padded/out_unpadded.npy"), padded, ATOL, RTOL, "the pipeline's padded call");
        assertTrue(maxAbsDiff(padded, direct) < 1e-5, "padding changes no real output: " + maxAbsDiff(padded, direct));
        System.out.printf(Locale.ROOT, "MindONE FiT padded forward: max |Δ| %.3g vs float32, %.3g vs float64%n",
                maxAbsDiff(npy("padded/out.npy"), out), maxAbsDiff(npy("padded/out_f64.npy"), out));
    }

    @Test
    void aLatentLongerThanMaxLengthIsNotPaddedAndItsTableIsRescaled() {
        // input_size 4 (32-pixel images): max_length 4, so the 24-token latent runs unpadded and VisionNTK scales θ_w by
        // s = 5/2 and θ_h by s = 3/2
        MindOneFiTModel small = model().withConfig(model().config().withInputSize(4));
        INDArray x = rows(npy("forward/x.npy"), 0, 2);
        double[] t = times("padded/t.npy");
        long[] y = longs("padded/y.npy");
        assertArrayEquals(x.shape(), MindOneFiTLayout.padLatent(x, 2, 4).shape());
        assertArrayEquals(new long[]{1, 24, 16}, MindOneFiTLayout.posEmbed(8, 12, 2, 4, 16, "rotate").shape());
        assertEquals(48.0, MindOneFiTLayout.mask(24, 4, 2).sumNumber().doubleValue());
        float[] fw = MindOneFiTLayout.axisFreqs(8, 5, 10000.0, 4);
        assertEquals(1 / Math.pow(10000.0 * Math.pow(2.5, 8 / 6.0), 0.25), fw[1], 1e-7);
        INDArray padded = small.forwardPadded(x, t, y), direct = small.forward(x, t, Conditioning.labels(y));
        assertEquals(0.0, maxAbsDiff(padded, direct));
        assertTrue(maxAbsDiff(npy("padded/out_unpadded.npy"), direct) > 1e-3, "the rescaled table changes the outputs");
    }

    @Test
    void badInputsAreOneLineErrors() {
        MindOneFiTModel m = model();
        INDArray x = npy("forward/x.npy");
        double[] t = times("forward/t.npy");
        long[] y = longs("forward/y.npy");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.forward(rows(x, 0, 3).get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 7)), t, Conditioning.labels(y)));
        assertTrue(e.getMessage().contains("multiples of 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.forward(x, t, Conditioning.labels(3, 7, 11)));
        assertTrue(e.getMessage().contains("class label 11"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.construct(x, t, y, npy("padded/pos.npy"), npy("forward/mask.npy")));
        assertTrue(e.getMessage().startsWith("pos has shape"), e.getMessage());
    }
}
