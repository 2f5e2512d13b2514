package org.dit4j.models.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.dit4j.io.Safetensors;
import org.dit4j.models.StateDictMismatchException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The tiny CLIP text tower of {@code uvit/clip/text_encoder} (HF names, official outputs): forwards within 1e-4 + 1e-4·|ref|. */
class ClipTextModelTest {
    private static Path fixture;
    private static ClipTextModel model;
    private static INDArray ids;

    /** A Hugging Face model folder for the fixture: its {@code hf_config} as config.json beside the stored pytorch_model.bin. */
    static Path hfFolder(Path dir) throws Exception {
        Path fx = Fixtures.root().resolve("uvit/clip/text_encoder");
        JsonNode cfg = new ObjectMapper().readTree(fx.resolve("config.json").toFile()).get("hf_config");
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        Files.copy(fx.resolve("weights/pytorch_model.bin"), dir.resolve("pytorch_model.bin"));
        return dir;
    }

    @BeforeAll
    static void load(@TempDir Path dir) throws Exception {
        fixture = Fixtures.root().resolve("uvit/clip/text_encoder");
        model = ClipTextModel.load(hfFolder(dir));
        ids = Npy.read(fixture.resolve("input_ids.npy"));
    }

    @Test
    void configAndStateDictAreTheHuggingFaceOnes() {
        assertEquals(new ClipTextConfig(49408, 16, 64, 2, 2, 77, "quick_gelu", 1e-5), model.config());
        assertEquals(36, model.stateDict().size());   // 37 entries in the file, position_ids dropped
        assertEquals(798_352, model.stateDict().values().stream().mapToLong(INDArray::length).sum());
        assertEquals(196, ClipTextModel.shapes(ClipTextConfig.VIT_L_14).size());
        assertEquals(123_060_480L, ClipTextModel.shapes(ClipTextConfig.VIT_L_14).values().stream()
                .mapToLong(s -> java.util.Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum());
    }

    @Test
    void lastHiddenStateAndIntermediatesMatchTheOfficialTower() {
        Map<String, INDArray> out = model.forwardWithIntermediates(ids);
        Fixtures.assertClose(Npy.read(fixture.resolve("intermediates/embeddings_out.npy")), out.get("embeddings"), 1e-4, 1e-4, "embeddings");
        Fixtures.assertClose(Npy.read(fixture.resolve("intermediates/layer0_out.npy")), out.get("layer0"), 1e-4, 1e-4, "layer 0");
        Fixtures.assertClose(Npy.read(fixture.resolve("intermediates/layer1_out.npy")), out.get("layer1"), 1e-4, 1e-4, "layer 1");
        INDArray ref = Npy.read(fixture.resolve("last_hidden_state.npy"));
        Fixtures.assertClose(ref, out.get("last_hidden_state"), 1e-4, 1e-4, "last_hidden_state");
        Fixtures.assertClose(Npy.read(fixture.resolve("last_hidden_state_f64.npy")), model.forward(ids), 1e-4, 1e-4, "last_hidden_state vs float64");
        System.out.printf("CLIP text tower: max |Δ| last_hidden_state %.3g (vs float64 %.3g)%n", Fixtures.maxAbsDiff(ref, out.get("last_hidden_state")),
                Fixtures.maxAbsDiff(Npy.read(fixture.resolve("last_hidden_state_f64.npy")), out.get("last_hidden_state")));
    }

    @Test
    void theCausalMaskMakesEachPositionIndependentOfLaterOnes() {
        // A prompt's rows up to its eos do not depend on what follows; a shorter sequence gives the same rows.
        INDArray full = model.forward(ids);
        INDArray first8 = model.forward(ids.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 8)).dup());
        Fixtures.assertClose(full.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 8),
                org.nd4j.linalg.indexing.NDArrayIndex.all()).dup(), first8, 1e-6, 1e-6, "prefix");
    }

    @Test
    void safetensorsOfAWholeClipModelLoadTheTextTowerOnly(@TempDir Path dir) throws Exception {
        Map<String, INDArray> all = new LinkedHashMap<>(ClipTextModel.readTextWeights(fixture.resolve("weights/pytorch_model.bin")));
        all.put("vision_model.embeddings.class_embedding", org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, 4));
        all.put("logit_scale", org.nd4j.linalg.factory.Nd4j.scalar(2.6592f));
        Map<String, INDArray> half = new LinkedHashMap<>();
        all.forEach((k, v) -> half.put(k, v.dataType() == DataType.FLOAT ? v.castTo(DataType.DOUBLE) : v));
        Safetensors.write(dir.resolve("model.safetensors"), half, Map.of("format", "pt"));
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"CLIPModel\"], \"text_config\": {\"hidden_size\": 16, \"intermediate_size\": 64,"
                + " \"num_hidden_layers\": 2, \"num_attention_heads\": 4}, \"text_config_dict\": {\"num_attention_heads\": 2}}");
        assertEquals(37, ClipTextModel.readTextWeights(dir.resolve("model.safetensors")).size());   // the text tower, position_ids included
        ClipTextModel m = ClipTextModel.load(dir);
        assertEquals(2, m.config().numAttentionHeads());
        Fixtures.assertClose(model.forward(ids), m.forward(ids), 1e-6, 0, "safetensors CLIPModel");
    }

    @Test
    void wrongFilesAreOneLineErrors(@TempDir Path dir) throws Exception {
        hfFolder(dir);
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 2}");
        StateDictMismatchException shapes = assertThrows(StateDictMismatchException.class, () -> ClipTextModel.load(dir));
        assertTrue(shapes.getMessage().contains("text_model.embeddings.token_embedding.weight"), shapes.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 16, \"hidden_act\": \"gelu\"}");
        IllegalArgumentException act = assertThrows(IllegalArgumentException.class, () -> ClipTextModel.load(dir));
        assertTrue(act.getMessage().contains("config.json") && act.getMessage().contains("hidden_act 'gelu'"), act.getMessage());
        Files.delete(dir.resolve("config.json"));
        IllegalArgumentException noConfig = assertThrows(IllegalArgumentException.class, () -> ClipTextModel.load(dir));
        assertTrue(noConfig.getMessage().contains("no config.json"), noConfig.getMessage());
        IllegalArgumentException badId = assertThrows(IllegalArgumentException.class,
                () -> model.forward(org.nd4j.linalg.factory.Nd4j.createFromArray(new long[][]{{49406, 49408}})));
        assertTrue(badId.getMessage().contains("49408"), badId.getMessage());
        IllegalArgumentException wrapped = assertThrows(IllegalArgumentException.class,
                () -> model.forward(org.nd4j.linalg.factory.Nd4j.createFromArray(new long[][]{{49406, (1L << 32) + 5}})));
        assertTrue(wrapped.getMessage().contains(String.valueOf((1L << 32) + 5)), wrapped.getMessage());
    }
}
