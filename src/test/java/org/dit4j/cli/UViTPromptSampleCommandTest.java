package org.dit4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.Fixtures;
import org.dit4j.io.Images;
import org.dit4j.io.Npy;
import org.dit4j.io.Safetensors;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.uvit.UViTConfig;
import org.dit4j.models.uvit.UViTFamily;
import org.dit4j.models.uvit.UViTModel;
import org.dit4j.pipeline.DiffusionPipeline;
import org.dit4j.pipeline.SampleRequest;
import org.dit4j.util.Slices;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code dit4j sample --prompt} ({@code sample_t2i_discrete.py}: CLIP contexts, two-pass guidance away from the empty
 * prompt's context) and {@code --num-samples} for unconditional models, on tiny random U-ViTs and the tiny CLIP tower.
 */
class UViTPromptSampleCommandTest {
    private static final Path CLIP = Fixtures.root().resolve("uvit/clip");
    @TempDir
    static Path shared;
    private static Path textEncoder, t2iYaml, t2iWeights;

    @BeforeAll
    static void models() throws Exception {
        textEncoder = Files.createDirectories(shared.resolve("clip-tiny"));
        Files.writeString(textEncoder.resolve("config.json"),
                new ObjectMapper().readTree(CLIP.resolve("text_encoder/config.json").toFile()).get("hf_config").toString());
        Files.copy(CLIP.resolve("text_encoder/weights/pytorch_model.bin"), textEncoder.resolve("pytorch_model.bin"));
        Files.copy(CLIP.resolve("vocab/bpe_simple_vocab_16e6.txt.gz"), textEncoder.resolve("bpe_simple_vocab_16e6.txt.gz"));
        t2iYaml = shared.resolve("t2i.yaml");
        Files.writeString(t2iYaml, """
                family: uvit-t2i
                img_size: 8
                patch_size: 2
                in_chans: 4
                embed_dim: 32
                depth: 2
                num_heads: 2
                clip_dim: 16
                num_clip_token: 77
                p_uncond: 0.1
                scale_factor: 0.2301
                sample: {algorithm: dpm_solver, sample_steps: 3, scale: 1.0}
                """);
        t2iWeights = shared.resolve("t2i.safetensors");
        UViTConfig cfg = (UViTConfig) ModelFamilies.load(t2iYaml);
        Safetensors.write(t2iWeights, new UViTFamily(UViTFamily.T2I).initialWeights(cfg, 3), Map.of());
    }

    private static String[] sample(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("sample", "--model-config", t2iYaml.toString(), "--ckpt", t2iWeights.toString(),
                "--no-decode", "--out", out.toString()));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    /** The fixture's official contexts of "a photo of a cat" (row 0) and "" (row 3). */
    private static INDArray officialContexts(int... rows) {
        INDArray all = Npy.read(CLIP.resolve("text_encoder/last_hidden_state.npy"));
        List<INDArray> picked = new ArrayList<>();
        for (int r : rows) picked.add(Slices.range(all, 0, r, r + 1));
        return org.nd4j.linalg.factory.Nd4j.concat(0, picked.toArray(new INDArray[0]));
    }

    @Test
    void promptsSampleAsTheApiDoesOnTheirClipContextsGuidedAwayFromTheEmptyPrompt(@TempDir Path dir) throws Exception {
        Path byPrompt = dir.resolve("prompt");
        assertEquals(0, Dit4j.run(sample(byPrompt, "--prompt", "a photo of a cat", "--prompt", "A PHOTO of  a Cat!", "--text-encoder", textEncoder.toString())));
        INDArray got = Npy.read(byPrompt.resolve("latents.npy"));
        assertArrayEquals(new long[]{2, 4, 8, 8}, got.shape());

        // the same request through the API, on the official contexts of these prompts
        UViTConfig cfg = (UViTConfig) ModelFamilies.load(t2iYaml);
        UViTModel model = UViTModel.fromStateDict(cfg, Safetensors.read(t2iWeights), "t2i");
        SampleRequest r = SampleRequest.ofContexts(officialContexts(0, 1), officialContexts(3))
                .withSampler(SampleRequest.SamplerKind.DPM_SOLVER_PP, "3").withGuidance(1.0, null)
                .withSolver(new SampleRequest.Solver(3, org.dit4j.diffusion.DpmSolver.Method.SINGLESTEP, org.dit4j.diffusion.DpmSolver.SkipType.TIME_UNIFORM));
        INDArray api = new DiffusionPipeline(model, null).latents(r, null);
        Fixtures.assertClose(api, got, 1e-4, 1e-4, "CLI prompts = API on the official contexts");

        // guidance changes the samples; without it no empty-prompt context is needed
        INDArray unguided = new DiffusionPipeline(model, null).latents(r.withGuidance(0, null).withContext(officialContexts(0, 1), null), null);
        assertTrue(Fixtures.maxAbsDiff(unguided, api) > 1e-3, "scale 1 guides");
        assertThrows(IllegalArgumentException.class, () -> new DiffusionPipeline(model, null).latents(r.withContext(officialContexts(0, 1), null), null));

        // pre-extracted contexts (extract-text-features) give the same images without a text encoder
        Path ctx = dir.resolve("ctx.npy"), empty = dir.resolve("empty.npy"), byContext = dir.resolve("context");
        Npy.write(ctx, officialContexts(0, 1));
        Npy.write(empty, officialContexts(3));
        assertEquals(0, Dit4j.run(sample(byContext, "--context", ctx.toString(), "--null-context", empty.toString())));
        Fixtures.assertClose(got, Npy.read(byContext.resolve("latents.npy")), 1e-5, 1e-5, "--context = --prompt");
        // two replicas, a prompt each: the one-device samples of the same batching, bit for bit
        Path oneByOne = dir.resolve("one"), twoDevices = dir.resolve("devices");
        assertEquals(0, Dit4j.run(sample(oneByOne, "--context", ctx.toString(), "--null-context", empty.toString(), "--batch-size", "1")));
        assertEquals(0, Dit4j.run(sample(twoDevices, "--context", ctx.toString(), "--null-context", empty.toString(), "--devices", "2", "--batch-size", "1")));
        Fixtures.assertClose(Npy.read(oneByOne.resolve("latents.npy")), Npy.read(twoDevices.resolve("latents.npy")), 0, 0, "--devices 2 = one device");
        String meta = Files.readString(byPrompt.resolve("samples.json"));
        assertTrue(meta.contains("\"prompt\" : \"a photo of a cat\"") && !meta.contains("\"class\""), meta);
    }

    @Test
    void wrongConditioningIsAOneLineError(@TempDir Path dir) throws Exception {
        String labels = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(sample(dir.resolve("a"), "--labels", "1"))));
        assertTrue(labels.contains("text-to-image model samples from --prompt"), labels);
        Path wide = dir.resolve("ctx32.npy");
        Npy.write(wide, org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, 77, 32));
        String width = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(sample(dir.resolve("b"), "--context", wide.toString(),
                "--cfg-scale", "0"))));
        assertTrue(width.contains("--context " + wide) && width.contains("(N, 77, 16)"), width);
        Path yaml32 = dir.resolve("t2i32.yaml");
        Files.writeString(yaml32, Files.readString(t2iYaml).replace("clip_dim: 16", "clip_dim: 32"));
        Path w32 = dir.resolve("w32.safetensors");
        Safetensors.write(w32, new UViTFamily(UViTFamily.T2I).initialWeights((UViTConfig) ModelFamilies.load(yaml32), 1), Map.of());
        String encoder = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run("sample", "--model-config", yaml32.toString(), "--ckpt", w32.toString(),
                "--prompt", "a cat", "--text-encoder", textEncoder.toString(), "--no-decode", "--out", dir.resolve("c").toString())));
        assertTrue(encoder.contains("--text-encoder " + textEncoder) && encoder.contains("(77, 16)") && encoder.contains("(77, 32)"), encoder);
        assertFalse(Files.exists(dir.resolve("c/latents.npy")));
    }

    @Test
    void unconditionalModelsTakeANumberOfSamples(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("uncond.yaml"), w = dir.resolve("uncond.safetensors");
        Files.writeString(yaml, """
                family: uvit
                img_size: 8
                patch_size: 2
                in_chans: 3
                embed_dim: 32
                depth: 2
                num_heads: 2
                num_classes: -1
                sample: {algorithm: euler_maruyama_sde, sample_steps: 4}
                """);
        Safetensors.write(w, new UViTFamily(UViTFamily.NAME).initialWeights((UViTConfig) ModelFamilies.load(yaml), 2), Map.of());
        Path out = dir.resolve("out");
        assertEquals(0, Dit4j.run("sample", "--model-config", yaml.toString(), "--ckpt", w.toString(), "--num-samples", "3", "--out", out.toString()));
        for (int i = 0; i < 3; i++) assertArrayEquals(new long[]{3, 8, 8}, Images.readRgb(out.resolve(String.format("%06d.png", i))).shape());
        assertTrue(Files.exists(out.resolve("grid.png")));
        String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run("sample", "--model-config", yaml.toString(), "--ckpt", w.toString(),
                "--labels", "1", "--out", dir.resolve("bad").toString())));
        assertTrue(err.contains("--num-samples"), err);

        // sample-batch: unlabelled samples with the config's Euler–Maruyama, the same pixels as sample's first batch
        Path batch = dir.resolve("batch");
        assertEquals(0, Dit4j.run("sample-batch", "--model-config", yaml.toString(), "--ckpt", w.toString(), "--num-samples", "3",
                "--batch-size", "3", "--seed", "5", "--out", batch.toString()));
        assertArrayEquals(new long[]{3, 8, 8, 3}, org.dit4j.io.Npz.read(dir.resolve("batch.npz"), "arr_0").shape());
        Path one = dir.resolve("one");
        assertEquals(0, Dit4j.run("sample", "--model-config", yaml.toString(), "--ckpt", w.toString(), "--num-samples", "3",
                "--seed", String.valueOf(5 * 1_000_003L), "--out", one.toString(), "--no-grid"));
        for (int i = 0; i < 3; i++)
            assertArrayEquals(Images.readRgb(one.resolve(String.format("%06d.png", i))).ravel().toFloatVector(),
                    Images.readRgb(batch.resolve(String.format("%06d.png", i))).ravel().toFloatVector(), "sample " + i);
    }

    @Test
    void sampleBatchRefusesTextToImageModels(@TempDir Path dir) {
        String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run("sample-batch", "--model-config", t2iYaml.toString(),
                "--ckpt", t2iWeights.toString(), "--num-samples", "2", "--out", dir.resolve("b").toString())));
        assertTrue(err.contains("text-to-image") && err.contains("--prompts"), err);
    }
}
