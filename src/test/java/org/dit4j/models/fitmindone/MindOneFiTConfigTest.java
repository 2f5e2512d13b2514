package org.dit4j.models.fitmindone;

import org.dit4j.models.ModelFamilies;
import org.dit4j.models.nn.PosEmbed;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.dit4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.*;

/** MindONE FiT configs from YAML, their bounds, and the sin-cos (absolute) variant's embedding. */
class MindOneFiTConfigTest {
    @Test
    void yamlRoundTripsWithTheFamilyKey() {
        MindOneFiTConfig cfg = TinyMindOneFiT.config().withPos("absolute").withInputSize(24);
        assertEquals(cfg, ModelFamilies.fromYaml(cfg.toYaml(), "c.yaml"));
        MindOneFiTConfig defaults = (MindOneFiTConfig) ModelFamilies.fromYaml("family: fit-mindone\nblock_kwargs: {enable_flash_attention: true}\n", "d.yaml");
        assertEquals(ModelFamilies.named("MindONE-FiT-XL/2"), defaults);
    }

    @Test
    void badValuesAreOneLineErrorsNamingTheFile() {
        String[][] cases = {
                {"family: fit-mindone\nffn: geglu\n", "ffn 'geglu'"},
                {"family: fit-mindone\npos: learned\n", "pos 'learned'"},
                {"family: fit-mindone\nhidden_size: 64\nnum_heads: 16\n", "head size (4)"},
                {"family: fit-mindone\ninput_size: 33\n", "input_size (33)"},
                {"family: fit-mindone\ndepth: 1000000000\n", "depth"},
                {"family: fit-mindone\nuse_swiglu: true\n", "unknown MindONE FiT config key 'use_swiglu'"}};
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFamilies.fromYaml(c[0], "m.yaml"), c[0]);
            assertTrue(e.getMessage().startsWith("m.yaml: ") && e.getMessage().contains(c[1]), e.getMessage());
        }
    }

    @Test
    void swigluWidthTruncatesAsMindOneDoes() {
        assertEquals(3072, ((MindOneFiTConfig) ModelFamilies.named("MindONE-FiT-XL/2")).mlpHidden());
        assertEquals(2730, ((MindOneFiTConfig) ModelFamilies.named("MindONE-FiT-L/2")).mlpHidden());   // int(1024·4·2/3)
        assertEquals(1024, ((MindOneFiTConfig) ModelFamilies.named("MindONE-FiT-S/2")).mlpHidden());
        assertEquals(1536, new MindOneFiTConfig(2, 4, 384, 12, 6, 4.0, 0.1, 1000, true, "mlp", "rotate", 32).mlpHidden());
    }

    @Test
    void absoluteAddsTheSinCosTableOfTheGridToTheEmbeddedTokens() {
        MindOneFiTModel rope = TinyMindOneFiT.model();
        MindOneFiTModel abs = rope.withConfig(rope.config().withPos("absolute"));
        INDArray x = TinyMindOneFiT.npy("forward/x.npy");
        double[] t = TinyMindOneFiT.times("forward/t.npy");
        long[] y = TinyMindOneFiT.longs("forward/y.npy");
        INDArray table = abs.positions(8, 12);
        assertClose(PosEmbed.sincos2d(64, 4, 6), table, 0, 0, "get_2d_sincos_pos_embed(64, 4, 6)");
        Map<String, INDArray> a = abs.construct(x, t, y, table, Nd4j.ones(3, 24), "x_embedder_out");
        Map<String, INDArray> r = rope.construct(x, t, y, rope.positions(8, 12), Nd4j.ones(3, 24), "x_embedder_out");
        INDArray expected = r.get("x_embedder_out").add(Nd4j.tile(table, 3, 1, 1));
        assertClose(expected, a.get("x_embedder_out"), 1e-6, 0, "x_embedder(x) + pos");
        // the 2-D table: row 7 is (h 1, w 1): sin/cos of 1·ω in both halves; w first
        assertEquals(Math.sin(1.0), table.getDouble(0, 7, 0), 1e-7);
        assertEquals(Math.cos(1.0), table.getDouble(0, 7, 16), 1e-7);
        assertEquals(Math.sin(1.0), table.getDouble(0, 7, 32), 1e-7);
    }
}
