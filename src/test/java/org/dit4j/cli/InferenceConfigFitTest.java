package org.dit4j.cli;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.fitmindone.MindOneFiTConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** MindONE's FiT inference YAML keys: model_name, fit_checkpoint, image_height/image_width, embed_method, embed_dim. */
class InferenceConfigFitTest {
    private static InferenceConfig write(Path dir, String yaml) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, yaml);
        return InferenceConfig.load(f);
    }

    @Test
    void theShippedFitConfigIsMindOnesFitXl2(@TempDir Path dir) {
        InferenceConfig c = InferenceConfig.load(Path.of("configs/inference/fit-xl-2-256x256.yaml"));
        assertTrue(c.describesFit());
        assertEquals("MindONE-FiT-XL/2", c.modelName());
        assertEquals(List.of("enable_flash_attention", "use_fp16"), c.ignored());
        assertEquals(256, c.integer("image_size"));
        assertEquals(256, c.imageHeight());
        assertEquals(256, c.imageWidth());
        ModelConfig cfg = c.applyTo(ModelFamilies.named(c.modelName()));
        assertEquals("fit-mindone", cfg.family());
        assertEquals("rotate", ((MindOneFiTConfig) cfg).pos());
        assertFalse(c.hasCheckpoint());
        assertEquals(250, c.integer("sampling_steps"));
        assertFalse(c.bool("ddim_sampling"));
    }

    @Test
    void fitKeysMapToTheModel(@TempDir Path dir) throws Exception {
        InferenceConfig c = write(dir, "model_name: FiT-B/4\nfit_checkpoint: runs/fit.ckpt\nimage_height: 320\nimage_width: 160\n"
                + "embed_method: absolute\nembed_dim: 768\npatch_size: 4\n");
        assertTrue(c.describesFit());
        assertEquals("runs/fit.ckpt", c.checkpoint());
        assertEquals(320, c.imageHeight());
        assertEquals(160, c.imageWidth());
        MindOneFiTConfig cfg = (MindOneFiTConfig) c.applyTo(ModelFamilies.named(c.modelName()));
        assertEquals("absolute", cfg.pos());
        assertEquals(768, cfg.embedDim());
        assertEquals(4, cfg.patchSize());
    }

    @Test
    void ditConfigsStayDiT() {
        InferenceConfig c = InferenceConfig.load(Path.of("configs/inference/dit-xl-2-256x256.yaml"));
        assertFalse(c.describesFit());
        assertEquals("DiT-XL/2", c.modelName());
        assertEquals("dit", c.applyTo(ModelFamilies.named(c.modelName())).family());
    }

    @Test
    void mismatchesAreOneLineErrorsNamingTheKey(@TempDir Path dir) throws Exception {
        // embed_dim 72 is the head size: with the sin-cos table MindONE's pipeline would need the hidden size
        InferenceConfig absolute = write(dir, "model_name: FiT-XL/2\nembed_method: absolute\nembed_dim: 72\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> absolute.applyTo(ModelFamilies.named(absolute.modelName())));
        assertTrue(e.getMessage().contains("embed_dim 72 does not match the model's 1152"), e.getMessage());
        InferenceConfig method = write(dir, "model_name: FiT-XL/2\nembed_method: learned\n");
        e = assertThrows(IllegalArgumentException.class, () -> method.applyTo(ModelFamilies.named(method.modelName())));
        assertTrue(e.getMessage().contains("key 'embed_method'"), e.getMessage());
        InferenceConfig name = write(dir, "model_name: FiT-H/2\nembed_method: rotate\n");
        e = assertThrows(IllegalArgumentException.class, name::modelName);
        assertTrue(e.getMessage().contains("key 'model_name'"), e.getMessage());
        InferenceConfig patch = write(dir, "model_name: FiT-XL/2\npatch_size: 4\n");
        e = assertThrows(IllegalArgumentException.class, () -> patch.applyTo(ModelFamilies.named(patch.modelName())));
        assertTrue(e.getMessage().contains("patch_size 4 does not match the model's 2"), e.getMessage());
        InferenceConfig height = write(dir, "model_name: FiT-XL/2\nimage_height: 0\n");
        e = assertThrows(IllegalArgumentException.class, height::imageHeight);
        assertTrue(e.getMessage().contains("key 'image_height'"), e.getMessage());
        InferenceConfig dit = write(dir, "model_name: DiT-XL/2\nembed_dim: 72\n");
        assertTrue(dit.describesFit(), "embed_dim is a FiT key");
        e = assertThrows(IllegalArgumentException.class, dit::modelName);
        assertTrue(e.getMessage().contains("model_name"), e.getMessage());
    }
}
