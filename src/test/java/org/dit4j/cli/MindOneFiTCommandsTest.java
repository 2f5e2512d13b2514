package org.dit4j.cli;

import org.dit4j.Fixtures;
import org.dit4j.diffusion.NoiseSource;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.dit4j.cli.ForwardCommandTest.stderrOf;
import static org.junit.jupiter.api.Assertions.*;

/** MindONE's FiT through the CLI: {@code sample -c} with a MindONE FiT inference YAML, and {@code forward} on any size. */
class MindOneFiTCommandsTest {
    private static Path fixture(String rel) {
        return Fixtures.root().resolve("fit-mindone").resolve(rel);
    }

    private static Path modelConfig(Path dir) throws Exception {
        Path f = dir.resolve("tiny.yaml");
        Files.writeString(f, "family: fit-mindone\npatch_size: 2\nin_channels: 4\nhidden_size: 64\ndepth: 2\nnum_heads: 4\nmlp_ratio: 4.0\n"
                + "class_dropout_prob: 0.1\nnum_classes: 10\nlearn_sigma: true\nffn: swiglu\npos: rotate\n");
        return f;
    }

    @Test
    void sampleWithAMindOneFitConfigSamplesItsHeightAndWidth(@TempDir Path dir) throws Exception {
        Path inference = dir.resolve("fit.yaml"), out = dir.resolve("out"), model = modelConfig(dir);
        Files.writeString(inference, "fit_checkpoint: \"" + fixture("weights/fit-mindone-tiny.ckpt") + "\"\nembed_dim: 16\nembed_method: \"rotate\"\n"
                + "patch_size: 2\nimage_size: 64\nimage_height: 32\nimage_width: 64\nsampling_steps: 3\nguidance_scale: 4.0\nseed: 42\n"
                + "ddim_sampling: True\nenable_flash_attention: False\nuse_fp16: True\n");
        String err = stderrOf(() -> assertEquals(0, Dit4j.run("sample", "-c", inference.toString(), "--model-config", model.toString(),
                "--labels", "1,2", "--no-decode", "--out", out.toString())));
        assertTrue(err.contains("ignoring MindSpore/Ascend settings"), err);
        assertArrayEquals(new long[]{2, 4, 4, 8}, Npy.read(out.resolve("latents.npy")).shape());
        // 32×128 px is 2×8 = 16 tokens: within image_size 64's max_length (16); 64×64 px would be too, 64×128 px is not
        Files.writeString(inference, Files.readString(inference).replace("image_width: 64", "image_width: 128").replace("image_height: 32", "image_height: 64"));
        err = stderrOf(() -> assertEquals(2, Dit4j.run("sample", "-c", inference.toString(), "--model-config", model.toString(),
                "--labels", "1,2", "--no-decode", "--out", dir.resolve("out2").toString())));
        assertTrue(err.contains("max_length 16"), err);
        // embed_dim must be the head size for rotate
        Files.writeString(inference, Files.readString(inference).replace("embed_dim: 16", "embed_dim: 64"));
        err = stderrOf(() -> assertEquals(2, Dit4j.run("sample", "-c", inference.toString(), "--model-config", model.toString(),
                "--labels", "1", "--no-decode", "--out", dir.resolve("out3").toString())));
        assertTrue(err.contains("embed_dim 64"), err);
    }

    @Test
    void forwardTakesNonSquareLatents(@TempDir Path dir) throws Exception {
        Path x = dir.resolve("x.npy"), t = dir.resolve("t.npy"), y = dir.resolve("y.npy"), out = dir.resolve("out.npy");
        Npy.write(x, NoiseSource.seeded(1).next(1, 4, 8, 12));
        Npy.write(t, Nd4j.createFromArray(999L));
        Npy.write(y, Nd4j.createFromArray(3L));
        assertEquals(0, Dit4j.run("forward", "--ckpt", fixture("weights/fit-mindone-tiny.ckpt").toString(), "--model-config",
                modelConfig(dir).toString(), "--x", x.toString(), "--t", t.toString(), "--y", y.toString(), "--out", out.toString()));
        assertArrayEquals(new long[]{1, 8, 8, 12}, Npy.read(out).shape());
    }
}
