package org.dit4j.models;

import org.dit4j.Fixtures;
import org.dit4j.io.Checkpoint;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTFamily;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The family registry and family-tagged configs. */
class ModelFamiliesTest {
    @Test
    void aConfigWithoutFamilyIsADiTAndOneWithItRoundTrips() {
        ModelConfig plain = ModelFamilies.load(Fixtures.tiny("config.json"));
        assertEquals("dit", plain.family());
        assertEquals(plain, ModelFamilies.fromYaml(plain.toYaml(), "round trip"));
        assertEquals("dit", plain.toMap().get("family"));
        assertEquals(plain, ModelFamilies.fromYaml("family: dit\n" + plain.toYaml().replace("family: dit\n", ""), "explicit"));
    }

    @Test
    void unknownFamiliesAndKeysAreRefusedByName() {
        assertEquals(List.of("dit", "fit", "fit-mindone", "uvit", "uvit-t2i"), ModelFamilies.all().stream().map(ModelFamily::name).toList());
        var unknown = assertThrows(IllegalArgumentException.class, () -> ModelFamilies.fromYaml("family: sit\n", "s.yaml"));
        assertTrue(unknown.getMessage().startsWith("s.yaml: ") && unknown.getMessage().contains("unknown model family 'sit' (expected one of dit, fit, fit-mindone, uvit, uvit-t2i)"),
                unknown.getMessage());
        var fitKey = assertThrows(IllegalArgumentException.class, () -> ModelFamilies.fromYaml("family: fit\ninput_size: 32\n", "f.yaml"));
        assertTrue(fitKey.getMessage().contains("unknown FiT config key 'input_size'"), fitKey.getMessage());
        var typo = assertThrows(IllegalArgumentException.class, () -> ModelFamilies.fromYaml("family: dit\ndepht: 2\n", "t.yaml"));
        assertTrue(typo.getMessage().contains("unknown model config key 'depht'"), typo.getMessage());
    }

    @Test
    void checkpointsWrittenBeforeFamiliesStillLoad(@TempDir Path dir) throws Exception {
        // config.yaml as dit4j wrote it before the family key existed.
        Path ckpt = dir.resolve("old");
        DiTConfig cfg = DiTConfig.load(Fixtures.tiny("config.json"));
        Checkpoint.save(ckpt, cfg, new DiTFamily().initialWeights(cfg, 1));
        StringBuilder old = new StringBuilder("# dit4j checkpoint: official DiT constructor arguments\nmodel:\n");
        cfg.toMap().forEach((k, v) -> { if (!k.equals("family")) old.append("  ").append(k).append(": ").append(v).append('\n'); });
        Files.writeString(ckpt.resolve(Checkpoint.CONFIG), old.toString());
        assertEquals(cfg, Checkpoint.config(ckpt));
    }

    @Test
    void namedModelsComeFromTheirFamily() {
        assertTrue(ModelFamilies.modelNames().contains("DiT-XL/2"));
        assertEquals("dit", ModelFamilies.named("DiT-S/2").family());
        assertThrows(IllegalArgumentException.class, () -> ModelFamilies.named("DiT-XXL/2"));
    }

    @Test
    void architectureValuesAreBoundedBeforeAnythingIsAllocated() {
        for (String bad : new String[]{"depth: 1000000000", "hidden_size: 1000000000\nnum_heads: 1", "mlp_ratio: .inf",
                "input_size: 131072", "num_classes: 0"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> ModelFamilies.fromYaml(bad + "\n", "bad.yaml"), bad);
            assertTrue(e.getMessage().startsWith("bad.yaml: ") && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void shapesAndBuffersComeFromTheOneDefinition() {
        DiTFamily dit = new DiTFamily();
        DiTConfig cfg = DiTConfig.load(Fixtures.tiny("config.json"));
        Map<String, long[]> shapes = dit.shapes(cfg);
        assertEquals("pos_embed", shapes.keySet().iterator().next(), "state-dict order: the module's own parameter first");
        assertEquals(java.util.Set.of("pos_embed"), dit.buffers(cfg));
        assertEquals(shapes.keySet(), dit.initialWeights(cfg, 0).keySet());
    }
}
