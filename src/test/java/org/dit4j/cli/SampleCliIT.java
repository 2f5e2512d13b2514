package org.dit4j.cli;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.dit4j.util.Slices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Runs {@code scripts/dit4j} as a user does, against the packaged jar. */
class SampleCliIT {
    record Run(int code, String out, String err) {}

    static Run dit4j(Path workDir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("dit4j.launcher", "scripts/dit4j")).toAbsolutePath().toString());
        cmd.addAll(List.of(args));
        Path out = workDir.resolve("stdout.txt"), err = workDir.resolve("stderr.txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "dit4j timed out");
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void ddimSampleFromTheTinyPtReproducesTheOfficialLatents(@TempDir Path dir) throws Exception {
        INDArray noise = Slices.range(Npy.read(Fixtures.tiny("ddim10/noise.npy")), 0, 0, 4);
        Path noiseFile = dir.resolve("noise4.npy"), latents = dir.resolve("latents.npy");
        Npy.write(noiseFile, noise);
        Run r = dit4j(dir, "sample", "--model-config", Fixtures.tiny("config.json").toString(),
                "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1,4,9,2", "--sampler", "ddim",
                "--steps", "10", "--cfg-scale", "4.0", "--noise", noiseFile.toString(), "--save-latents", latents.toString(),
                "--out", dir.resolve("out").toString(), "--no-decode");
        assertEquals(0, r.code(), r.err());
        INDArray expected = Slices.range(Npy.read(Fixtures.tiny("ddim10/final.npy")), 0, 0, 4);
        double rel = Fixtures.maxAbsDiff(expected, Npy.read(latents)) / expected.amaxNumber().doubleValue();
        assertTrue(rel < 1e-4, "relative error " + rel);
        assertTrue(r.out().contains("wrote latents [4, 4, 8, 8]"), r.out());
    }

    @Test
    void latentSamplesAreDecodedToPngsAndAGridWithTheGivenVae(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("images");
        Run r = dit4j(dir, "sample", "--model-config", Fixtures.tiny("config.json").toString(),
                "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1,4,9", "--sampler", "ddim", "--steps", "5",
                "--vae", Fixtures.root().resolve("vae-tiny/weights/diffusers").toString(), "--out", out.toString(), "--grid-nrow", "2");
        assertEquals(0, r.code(), r.err());
        for (String f : new String[]{"000000-class1.png", "000001-class4.png", "000002-class9.png"}) {
            var img = javax.imageio.ImageIO.read(out.resolve(f).toFile());
            assertEquals(16, img.getWidth(), f + ": 8x8 latents through a 2x autoencoder");
        }
        assertEquals(2 * 18 + 2, javax.imageio.ImageIO.read(out.resolve("grid.png").toFile()).getWidth());
    }

    @Test
    void badInputGetsOneLineErrorAndNonZeroExit(@TempDir Path dir) throws Exception {
        Path hostile = dir.resolve("truncated.pt");
        byte[] pt = Files.readAllBytes(Fixtures.tiny("weights/DiT-tiny.pt"));
        Files.write(hostile, java.util.Arrays.copyOf(pt, pt.length / 2));
        String[][] cases = {
                {"sample", "--model", "DiT-S/2", "--ckpt", hostile.toString(), "--labels", "1"},
                {"sample", "--model", "DiT-Q/2", "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1"},
                {"sample", "--model", "DiT-S/2", "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1"},
                {"sample", "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1", "--sampler", "euler",
                        "--model-config", Fixtures.tiny("config.json").toString()},
                {"sample", "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1", "--bogus-flag"},
                {"sample", "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString()},
        };
        String[] expect = {"truncated.pt", "DiT-Q/2", "missing keys", "--sampler", "bogus-flag", "--labels"};
        for (int i = 0; i < cases.length; i++) {
            Run r = dit4j(dir, cases[i]);
            assertNotEquals(0, r.code(), String.join(" ", cases[i]));
            assertTrue(r.err().contains(expect[i]), "stderr of case " + i + ": " + r.err());
            assertFalse(r.err().contains("\tat "), "stack trace in case " + i + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line for case " + i + ": " + r.err());
        }
    }
}
