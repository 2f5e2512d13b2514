package org.dit4j.cli;

import org.dit4j.DeterministicWeights;
import org.dit4j.Fixtures;
import org.dit4j.io.Checkpoint;
import org.dit4j.io.Npy;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.util.Slices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The sample command in-process: pixel-space PNG output, dit4j checkpoints, batching. */
class SampleCommandTest {
    /** A pixel-space DiT (32×32 RGB, 5 classes) with deterministic weights, saved as a dit4j checkpoint folder. */
    private static Path pixelCheckpoint(Path folder) throws Exception {
        DiTConfig cfg = new DiTConfig(8, 2, 3, 32, 1, 2, 2.0, 0.1, 5, true);
        DiTModel m = DiTModel.create(cfg);
        DeterministicWeights.fill(m, 3);
        Checkpoint.save(folder, cfg, m.stateDict());
        return folder;
    }

    @Test
    void pixelSpaceModelFromADit4jCheckpointWritesPngsAndAGrid(@TempDir Path dir) throws Exception {
        Path ckpt = pixelCheckpoint(dir.resolve("pixel-dit"));
        Path out = dir.resolve("images"), latents = dir.resolve("x0.npy");
        int code = Dit4j.run("sample", "--ckpt", ckpt.toString(), "--labels", "0,4,2", "--sampler", "ddim", "--steps", "5",
                "--seed", "3", "--out", out.toString(), "--grid-nrow", "2", "--save-latents", latents.toString());
        assertEquals(0, code);
        INDArray x0 = Npy.read(latents);
        assertArrayEquals(new long[]{3, 3, 8, 8}, x0.shape());
        for (String name : new String[]{"000000-class0.png", "000001-class4.png", "000002-class2.png"}) {
            BufferedImage img = ImageIO.read(out.resolve(name).toFile());
            assertEquals(8, img.getWidth());
            assertEquals(8, img.getHeight());
        }
        // pixel (0,0) of image 1 follows save_image's quantisation of the saved float image
        BufferedImage second = ImageIO.read(out.resolve("000001-class4.png").toFile());
        float r = x0.getFloat(1, 0, 0, 0);
        int expectedRed = (int) Math.min(255f, (Math.max(-1f, Math.min(1f, r)) + 1f) / 2f * 255f + 0.5f);
        assertEquals(expectedRed, (second.getRGB(0, 0) >> 16) & 0xff);
        BufferedImage grid = ImageIO.read(out.resolve("grid.png").toFile());
        assertEquals(2 * (8 + 2) + 2, grid.getWidth());   // 2 per row, 2-pixel padding
        assertEquals(2 * (8 + 2) + 2, grid.getHeight());  // 3 images → 2 rows
        try (var files = Files.list(out)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary files left behind");
        }
    }

    @Test
    void aRunFolderSamplesItsNewestCheckpointAndOutputsRecordTheirParameters(@TempDir Path dir) throws Exception {
        DiTConfig cfg = new DiTConfig(8, 2, 3, 32, 1, 2, 2.0, 0.1, 5, true);
        DiTModel m = DiTModel.create(cfg);
        DeterministicWeights.fill(m, 3);
        Path run = dir.resolve("run");
        Checkpoint.save(run.resolve("checkpoints/step-00000001"), cfg, m.stateDict());
        Checkpoint.save(run.resolve("checkpoints/step-00000002"), cfg, m.stateDict());
        Files.createDirectories(run.resolve("checkpoints/.step-00000003.tmp"));   // a killed write
        Path out = dir.resolve("images");
        assertEquals(0, Dit4j.run("sample", "--ckpt", run.toString(), "--labels", "4,1", "--sampler", "ddim", "--steps", "3",
                "--seed", "7", "--cfg-scale", "2.5", "--out", out.toString()));
        var text = org.dit4j.io.Images.readPngText(out.resolve("000000-class4.png"));
        assertEquals("4", text.get("class"));
        assertEquals("7", text.get("seed"));
        assertEquals("ddim", text.get("sampler"));
        assertEquals("3", text.get("steps"));
        assertEquals("2.5", text.get("cfg_scale"));
        assertTrue(text.get("checkpoint").contains("step-00000002"), text.get("checkpoint"));
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve(SampleCommand.METADATA).toFile());
        assertEquals("ddim", json.path("sampler").asText());
        assertEquals(1, json.path("samples").get(1).path("class").asInt());
        assertEquals("000001-class1.png", json.path("samples").get(1).path("file").asText());
        assertEquals("7", org.dit4j.io.Images.readPngText(out.resolve("grid.png")).get("seed"));
    }

    @Test
    void dpmSolverPlusPlusFromTheCliReproducesTheOfficialRun(@TempDir Path dir) throws Exception {
        // fixtures/dpm: DPM-Solver++ multistep order 2, 10 time-uniform steps, guidance 4 on all channels, labels 3 and 8
        Path dpm = Fixtures.root().resolve("dpm/dit"), out = dir.resolve("x.npy");
        assertEquals(0, Dit4j.run("sample", "--model-config", Fixtures.tiny("config.json").toString(), "--ckpt",
                Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "3,8", "--sampler", "dpm-solver++", "--steps", "10",
                "--order", "2", "--cfg-scale", "4", "--cfg-channels", "all", "--noise", dpm.resolve("noise.npy").toString(),
                "--no-decode", "--save-latents", out.toString()));
        INDArray expected = Npy.read(dpm.resolve("order2_time_uniform_steps10/final.npy"));
        assertTrue(Fixtures.maxAbsDiff(expected, Npy.read(out)) <= 1e-4 * expected.amaxNumber().doubleValue(), "DPM-Solver++ final latents");
    }

    @Test
    void cacheIntervalIsCheckedRecordedAndRefusedForFamiliesWithoutACachedStep(@TempDir Path dir) throws Exception {
        String[] common = {"sample", "--model-config", Fixtures.tiny("config.json").toString(), "--ckpt",
                Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1,2", "--sampler", "ddim", "--steps", "4", "--no-decode"};
        for (String bad : new String[]{"0", "-3"}) {
            String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(concat(common, "--cache-interval", bad, "--out", dir.resolve("o").toString()))));
            assertEquals(1, err.strip().lines().count(), err);
            assertTrue(err.contains("--cache-interval must be at least 1"), err);
        }
        assertFalse(Files.exists(dir.resolve("o")));
        Path out = dir.resolve("cached");
        assertEquals(0, Dit4j.run(concat(common, "--cache-interval", "2", "--out", out.toString())));
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve(SampleCommand.METADATA).toFile());
        assertEquals("2", json.path("cache_interval").asText());
        assertEquals(0, Dit4j.run(concat(common, "--out", dir.resolve("plain").toString())));
        json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("plain").resolve(SampleCommand.METADATA).toFile());
        assertTrue(json.path("cache_interval").isMissingNode(), "recorded only when on");

        // sample-batch checks it too, before loading anything
        String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run("sample-batch", "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(),
                "--num-samples", "2", "--cache-interval", "0", "--out", dir.resolve("b").toString())));
        assertTrue(err.strip().lines().count() == 1 && err.contains("--cache-interval must be at least 1"), err);
    }

    @Test
    void samplerSettingsThatDoNotGoTogetherAreOneLineErrors(@TempDir Path dir) {
        String[] common = {"sample", "--model-config", Fixtures.tiny("config.json").toString(), "--ckpt",
                Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1", "--no-decode", "--out", dir.resolve("o").toString()};
        for (String[] bad : new String[][]{{"--sampler", "ddpm", "--order", "2"}, {"--sampler", "dpm-solver", "--order", "4"},
                {"--sampler", "dpm-solver++", "--respacing", "ddim10"}, {"--sampler", "dpm-solver", "--skip-type", "linear"},
                {"--sampler", "euler"}, {"--sampler", "dpm-solver++", "--clip-denoised"}}) {
            String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(concat(common, bad)), String.join(" ", bad)));
            assertEquals(1, err.strip().lines().count(), err);
        }
        assertFalse(Files.exists(dir.resolve("o")));
    }

    @Test
    void aMindOneInferenceConfigSamplesWhatTheEquivalentFlagsSample(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("dit-tiny.yaml");
        Files.writeString(yaml, "# model\nimage_size: 64\ndit_checkpoint: \"" + Fixtures.tiny("weights/DiT-tiny.pt") + "\"\n"
                + "vae_checkpoint: \"models/sd-vae-ft-mse.ckpt\"\nsd_scale_factor: 0.18215\nenable_flash_attention: False\nuse_fp16: True\n"
                + "# sampling\nsampling_steps: 4\nguidance_scale: 1.5\nseed: 42\nddim_sampling: True\n");
        String model = Fixtures.tiny("config.json").toString();
        Path a = dir.resolve("a.npy"), b = dir.resolve("b.npy"), c = dir.resolve("c.npy"), d = dir.resolve("d.npy");
        String err = ForwardCommandTest.stderrOf(() -> assertEquals(0, Dit4j.run("sample", "-c", yaml.toString(), "--model-config", model,
                "--labels", "1,2", "--no-decode", "--save-latents", a.toString())));
        assertTrue(err.contains("use_fp16") && err.contains("enable_flash_attention"), "ignored keys are reported: " + err);
        assertEquals(0, Dit4j.run("sample", "--model-config", model, "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(),
                "--labels", "1,2", "--steps", "4", "--cfg-scale", "1.5", "--seed", "42", "--sampler", "ddim", "--cfg-channels", "all",
                "--no-decode", "--save-latents", b.toString()));
        assertEquals(Npy.read(b), Npy.read(a), "config and flags give the same latents");
        // flags override the file
        assertEquals(0, Dit4j.run("sample", "-c", yaml.toString(), "--model-config", model, "--labels", "1,2", "--steps", "3",
                "--no-decode", "--save-latents", c.toString()));
        assertEquals(0, Dit4j.run("sample", "--model-config", model, "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(),
                "--labels", "1,2", "--steps", "3", "--cfg-scale", "1.5", "--seed", "42", "--sampler", "ddim", "--cfg-channels", "all",
                "--no-decode", "--save-latents", d.toString()));
        assertEquals(Npy.read(d), Npy.read(c));
        Files.writeString(yaml, Files.readString(yaml) + "num_inference_steps: 3\n");
        err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run("sample", "-c", yaml.toString(), "--model-config", model,
                "--labels", "1", "--no-decode")));
        assertTrue(err.contains("unknown key 'num_inference_steps'") && err.strip().lines().count() == 1, err);
    }

    @Test
    void badOutputsAndCountsAreRefusedBeforeSampling(@TempDir Path dir) throws Exception {
        String[] common = {"sample", "--model-config", Fixtures.tiny("config.json").toString(), "--ckpt",
                Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1", "--no-decode", "--steps", "250"};
        Path folder = Files.createDirectories(dir.resolve("latents.npy"));
        String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(concat(common, "--save-latents", folder.toString()))));
        assertTrue(err.contains("is a folder") && err.strip().lines().count() == 1, err);
        err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(concat(common, "--num-classes", "0"))));
        assertTrue(err.contains("--num-classes"), err);
    }

    @Test
    void batchingDoesNotChangeDeterministicSamples(@TempDir Path dir) throws Exception {
        INDArray noise = Slices.range(Npy.read(Fixtures.tiny("ddim10/noise.npy")), 0, 0, 4);
        Path z = dir.resolve("z.npy");
        Npy.write(z, noise);
        String[] common = {"sample", "--model-config", Fixtures.tiny("config.json").toString(), "--ckpt",
                Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1,4,9,2", "--sampler", "ddim", "--steps", "10",
                "--noise", z.toString(), "--no-decode"};
        assertEquals(0, Dit4j.run(concat(common, "--save-latents", dir.resolve("all.npy").toString())));
        assertEquals(0, Dit4j.run(concat(common, "--batch-size", "3", "--save-latents", dir.resolve("b3.npy").toString())));
        assertTrue(Fixtures.maxAbsDiff(Npy.read(dir.resolve("all.npy")), Npy.read(dir.resolve("b3.npy"))) < 1e-3);
    }

    @Test
    void wrongNoiseShapeIsAnErrorNotACrash(@TempDir Path dir) throws Exception {
        Path z = dir.resolve("z.npy");
        Npy.write(z, org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 3, 4, 8, 8));
        int code = Dit4j.run("sample", "--model-config", Fixtures.tiny("config.json").toString(), "--ckpt",
                Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1,4", "--noise", z.toString(), "--steps", "2", "--no-decode",
                "--out", dir.resolve("o").toString());
        assertEquals(2, code);
        assertFalse(Files.exists(dir.resolve("o")), "no output on failure");
    }

    @Test
    void decodeSaveNpyMatchesTheOfficialDecodingOfZ(@TempDir Path dir) throws Exception {
        Path vae = Fixtures.root().resolve("vae-tiny");
        Path images = dir.resolve("npy.npy");
        assertEquals(0, Dit4j.run("decode", "--vae", vae.resolve("weights/ldm/vae-tiny-ema-pruned.ckpt").toString(),
                "--latents", vae.resolve("z.npy").toString(), "--out", dir.resolve("png").toString(), "--save-npy", images.toString()));
        Fixtures.assertClose(Npy.read(vae.resolve("decode_z.npy")), Npy.read(images), 1e-4, 0, "decode --save-npy");
        assertTrue(Files.isRegularFile(dir.resolve("png/000001.png")));
        assertTrue(Files.isRegularFile(dir.resolve("png/grid.png")));
    }

    @Test
    void encodeThenDecodeRoundTripsThroughTheSameLatents(@TempDir Path dir) throws Exception {
        // A 32x32 PNG from the fixture image; --mode latents equal the API's posterior mean × 0.18215.
        Path vae = Fixtures.root().resolve("vae-tiny/weights/ldm/vae-tiny.pt");
        Path png = dir.resolve("in/img.png");
        Files.createDirectories(png.getParent());
        org.dit4j.io.Images.writePng(png, org.dit4j.io.Images.toImage(Npy.read(Fixtures.root().resolve("vae-tiny/x.npy")).slice(0)));
        Path z = dir.resolve("z.npy");
        assertEquals(0, Dit4j.run("encode", "--vae", vae.toString(), "--images", png.getParent().toString(), "--out", z.toString(), "--mode"));
        var model = org.dit4j.io.VaeWeights.loadModel(vae, null);
        INDArray x = org.dit4j.io.Images.readRgb(png).reshape(1, 3, 32, 32);
        Fixtures.assertClose(model.scale(model.encode(x).mode()), Npy.read(z), 1e-6, 0, "encode --mode");
        assertEquals(2, Dit4j.run("encode", "--vae", vae.toString(), "--images", dir.resolve("nothing").toString(), "--out", z.toString()));
    }

    @Test
    void imageReadingFollowsToTensorAndNormalize(@TempDir Path dir) throws Exception {
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(2, 1, java.awt.image.BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0x00FF80);
        img.setRGB(1, 0, 0x010203);
        Path p = dir.resolve("px.png");
        org.dit4j.io.Images.writePng(p, img);
        INDArray x = org.dit4j.io.Images.readRgb(p);
        assertEquals(-1f, x.getFloat(0, 0, 0));
        assertEquals(1f, x.getFloat(1, 0, 0));
        assertEquals((128f / 255f - 0.5f) / 0.5f, x.getFloat(2, 0, 0));
        assertEquals((3f / 255f - 0.5f) / 0.5f, x.getFloat(2, 0, 1));
    }

    @Test
    void classNamesResolveEverySynonym() {
        assertArrayEquals(new long[]{207, 2, 2, 388}, org.dit4j.data.ImageNetClasses.ids("golden retriever,white shark,great white shark,giant panda"));
        var e = assertThrows(IllegalArgumentException.class, () -> org.dit4j.data.ImageNetClasses.ids("golden retreiver"));
        assertTrue(e.getMessage().contains("golden retriever (207)"), e.getMessage());
        assertEquals("golden retriever", org.dit4j.data.ImageNetClasses.label(207));
        assertEquals("toilet tissue", org.dit4j.data.ImageNetClasses.shortName(999));
    }

    @Test
    void timingsPrintOneLinePerPhaseAndLeaveTheOutputsAsTheyWere(@TempDir Path dir) throws Exception {
        Path ckpt = pixelCheckpoint(dir.resolve("pixel-dit"));
        Path out = dir.resolve("images"), latents = dir.resolve("x0.npy");
        String[] args = {"sample", "--ckpt", ckpt.toString(), "--labels", "1,3", "--sampler", "ddim", "--steps", "3", "--cfg-scale", "2",
                "--out", out.toString(), "--save-latents", latents.toString()};
        String plain = ForwardCommandTest.stderrOf(() -> assertEquals(0, Dit4j.run(args)));
        assertFalse(plain.contains("timings:"), plain);
        java.util.Map<String, byte[]> before = new java.util.TreeMap<>();
        try (var files = Files.list(out)) {
            for (Path f : (Iterable<Path>) files::iterator) before.put(f.getFileName().toString(), Files.readAllBytes(f));
        }
        byte[] latentsBefore = Files.readAllBytes(latents);

        String timed = ForwardCommandTest.stderrOf(() -> assertEquals(0, Dit4j.run(concat(args, "--timings"))));
        String[] phases = {"JVM start to dit4j's main", "command line (picocli, flag checks)", "ND4J native backend", "weight reading",
                "model graph building", "first sampling step (with its executor plan)", "other sampling steps (2)", "writing latents",
                "decoding to images", "writing images", "total since JVM start"};
        java.util.List<String> lines = timed.lines().filter(l -> l.startsWith("timings: ")).toList();
        assertEquals(phases.length, lines.size(), timed);
        for (int i = 0; i < phases.length; i++)
            assertTrue(lines.get(i).matches("timings: " + java.util.regex.Pattern.quote(phases[i]) + " +\\d+ ms"), lines.get(i));
        java.util.Map<String, byte[]> after = new java.util.TreeMap<>();
        try (var files = Files.list(out)) {
            for (Path f : (Iterable<Path>) files::iterator) after.put(f.getFileName().toString(), Files.readAllBytes(f));
        }
        assertEquals(before.keySet(), after.keySet());
        for (String name : before.keySet()) assertArrayEquals(before.get(name), after.get(name), name);
        assertArrayEquals(latentsBefore, Files.readAllBytes(latents));
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
