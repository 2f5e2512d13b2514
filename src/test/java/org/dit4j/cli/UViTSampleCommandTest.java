package org.dit4j.cli;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code dit4j sample --model-config U-VIT.yaml --ckpt nnet.pth}: the model config's eval settings (sampler, steps,
 * scale) are the defaults, and the run reproduces {@code eval_ldm_discrete.py}'s 10-step DPM-Solver (fixtures/uvit).
 */
class UViTSampleCommandTest {
    static Path uvit(String rel) {
        return Fixtures.root().resolve("uvit").resolve(rel);
    }

    @Test
    void aUViTNnetPthSamplesWithItsEvalScriptsSettings(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("uvit-tiny.yaml");
        Files.writeString(yaml, """
                family: uvit
                schedule: discrete
                img_size: 16
                patch_size: 2
                in_chans: 4
                embed_dim: 64
                depth: 4
                num_heads: 4
                num_classes: 11
                p_uncond: 0.1
                sample:
                  algorithm: dpm_solver
                  sample_steps: 10
                  scale: 0.4
                """);
        Path out = dir.resolve("out"), z = out.resolve("latents.npy");
        int code = Dit4j.run("sample", "--model-config", yaml.toString(), "--ckpt", uvit("cond/weights/uvit-tiny-cond.pth").toString(),
                "--labels", "3,8", "--noise", uvit("dpm_solver/noise.npy").toString(), "--no-decode", "--out", out.toString());
        assertEquals(0, code);
        INDArray ref = Npy.read(uvit("dpm_solver/steps10/final.npy")), got = Npy.read(z);
        double rel = Fixtures.maxAbsDiff(ref, got) / ref.amaxNumber().doubleValue();
        assertTrue(rel <= 1e-4, "relative error " + rel);
        String meta = Files.readString(out.resolve("samples.json"));
        assertTrue(meta.contains("\"sampler\" : \"dpm-solver++\"") || meta.contains("\"sampler\": \"dpm-solver++\""), meta);
        assertTrue(meta.contains("\"cfg_scale\" : \"0.4\"") && meta.contains("\"solver_method\" : \"singlestep\"")
                && meta.contains("\"order\" : \"3\"") && !meta.contains("cfg_channels"), meta);

        // a DiT sampler on a U-ViT is one line naming what to use
        int bad = Dit4j.run("sample", "--model-config", yaml.toString(), "--ckpt", uvit("cond/weights/uvit-tiny-cond.pth").toString(),
                "--labels", "3", "--sampler", "ddim", "--no-decode", "--out", dir.resolve("bad").toString());
        assertEquals(2, bad);
        // FORA's cached step exists for DiT only: one line naming the flag and the family
        String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run("sample", "--model-config", yaml.toString(), "--ckpt",
                uvit("cond/weights/uvit-tiny-cond.pth").toString(), "--labels", "3", "--cache-interval", "2", "--no-decode", "--out", dir.resolve("cached").toString())));
        assertEquals(1, err.strip().lines().count(), err);
        assertTrue(err.contains("--cache-interval 2 is implemented for DiT only; this is a uvit model"), err);
    }

    /** {@code dit4j forward} of the t2i model with {@code --context}: the official forward (fixtures/uvit/t2i/ctx8). */
    @Test
    void forwardTakesATextContextForTextToImageModels(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("t2i.yaml");
        Files.writeString(yaml, """
                family: uvit-t2i
                img_size: 16
                patch_size: 2
                in_chans: 4
                embed_dim: 32
                depth: 4
                num_heads: 2
                clip_dim: 32
                num_clip_token: 8
                """);
        Path out = dir.resolve("eps.npy");
        String[] common = {"forward", "--model-config", yaml.toString(), "--ckpt", uvit("t2i/ctx8/weights/uvit-tiny-t2i-ctx8.pth").toString(),
                "--x", uvit("t2i/ctx8/x.npy").toString(), "--t", uvit("t2i/ctx8/t.npy").toString(), "--out", out.toString()};
        assertEquals(2, Dit4j.run(common), "no context");
        String[] withContext = java.util.Arrays.copyOf(common, common.length + 2);
        withContext[common.length] = "--context";
        withContext[common.length + 1] = uvit("t2i/ctx8/context.npy").toString();
        assertEquals(0, Dit4j.run(withContext));
        Fixtures.assertClose(Npy.read(uvit("t2i/ctx8/forward_out.npy")), Npy.read(out), 1e-4, 1e-4, "t2i forward");
    }
}
