package org.dit4j.models.fit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every custom_freqs rule (NTK-aware and its two proportions, NTK-by-parts, YaRN with its mscale), coupled and decoupled,
 * against the official rope.py run by scripts/fit_rope_reference.py (src/test/resources/fit/rope_reference.json).
 */
class FiTRopeReferenceTest {
    @Test
    void everyRuleMatchesTheOfficialTables() throws Exception {
        JsonNode ref;
        try (InputStream in = getClass().getResourceAsStream("/fit/rope_reference.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        int headDim = ref.get("head_dim").asInt(), ori = ref.get("ori_max_pe_len").asInt();
        int checked = 0;
        for (JsonNode c : ref.get("cases")) {
            int h = c.get("h").asInt(), w = c.get("w").asInt();
            String what = c.get("custom_freqs").asText() + (c.get("decouple").asBoolean() ? " decoupled" : "") + " at " + h + "x" + w;
            VisionRotaryEmbedding rope = new VisionRotaryEmbedding(headDim, ref.get("theta").asDouble(), c.get("custom_freqs").asText(), h, w,
                    c.get("decouple").asBoolean(), ori);
            assertAll(c.get("freqs_h"), rope.freqsH(), 1e-7, what + " freqs_h");
            assertAll(c.get("freqs_w"), rope.freqsW(), 1e-7, what + " freqs_w");
            VisionRotaryEmbedding.Tables t = rope.tables(FiTModel.layout(1, h, w).grid());
            int last = h * w - 1;
            assertAll(c.get("cos_first"), row(t.cos(), 0), 1e-6, what + " cos of token 0");
            assertAll(c.get("cos_last"), row(t.cos(), last), 1e-6, what + " cos of the last token");
            assertAll(c.get("sin_last"), row(t.sin(), last), 1e-6, what + " sin of the last token");
            checked++;
        }
        assertEquals(60, checked);
    }

    private static float[] row(INDArray table, int token) {
        return table.slice(0).getRow(token).dup().toFloatVector();
    }

    private static void assertAll(JsonNode want, float[] got, double tol, String what) {
        assertEquals(want.size(), got.length, what + ": length");
        for (int i = 0; i < got.length; i++)
            if (Math.abs(want.get(i).asDouble() - got[i]) > tol)
                throw new AssertionError(what + "[" + i + "] = " + got[i] + ", official " + want.get(i).asDouble());
    }
}
