package org.dit4j.cli;

import org.dit4j.io.Images;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.training.TrainingCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** dit4j train as a user runs it: from an image folder, resumed after kill -9, sampled from its checkpoint. */
class TrainCliIT {
    /** A pixel-space model and a tiny ImageNet-format folder of two colour classes (16×16 after the crop). */
    private static Path[] setUp(Path dir) throws IOException {
        Path data = dir.resolve("data");
        for (int k = 0; k < 2; k++) {
            Path cls = data.resolve("class" + k);
            Files.createDirectories(cls);
            for (int i = 0; i < 3; i++) {
                float v = k == 0 ? 0.7f : -0.7f;
                Images.writePng(cls.resolve("img" + i + ".png"), Images.toImage(Nd4j.zeros(3, 24, 20).addi(v).addi(0.05f * i)));
            }
        }
        Files.writeString(data.resolve("class1").resolve("broken.png"), "not a png");
        Path model = dir.resolve("model.yaml");
        Files.writeString(model, new DiTConfig(16, 4, 3, 32, 1, 2, 2.0, 0.1, 2, true).toYaml());
        return new Path[]{data, model};
    }

    @Test
    void trainsFromAnImageFolderThenSamples(@TempDir Path dir) throws Exception {
        Path[] in = setUp(dir);
        Path run = dir.resolve("run");
        var r = SampleCliIT.dit4j(dir, "train", "--model-config", in[1].toString(), "--vae", "none", "--data", in[0].toString(),
                "--out", run.toString(), "--max-steps", "4", "--ckpt-every", "2", "--log-every", "2", "--batch-size", "4", "--lr", "1e-3",
                "--devices", "2", "--set", "sample_every=2", "--set", "sample_steps=3");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(run.resolve("samples/step-00000002.png")) && Files.isRegularFile(run.resolve("samples/step-00000004.png")),
                "EMA sample grids every 2 steps: " + r.out());
        assertTrue(r.out().contains("6 images in 2 classes") || r.out().contains("7 images in 2 classes"), r.out());
        assertTrue(r.err().contains("broken.png"), "one warning for the unreadable image: " + r.err());
        assertTrue(Files.readAllLines(run.resolve("log.csv")).size() == 3, "header + 2 log lines");
        assertTrue(Files.isRegularFile(run.resolve("loss.png")));
        Path ckpt = TrainingCheckpoint.latest(run);
        assertTrue(ckpt.endsWith("step-00000004"), ckpt.toString());
        var s = SampleCliIT.dit4j(dir, "sample", "--ckpt", ckpt.toString(), "--labels", "0,1", "--sampler", "ddim", "--steps", "3",
                "--out", dir.resolve("samples").toString());
        assertEquals(0, s.code(), s.err());
        assertTrue(Files.isRegularFile(dir.resolve("samples/000001-class1.png")));
    }

    @Test
    void aRunKilledMidwayResumesFromItsLastCompleteCheckpoint(@TempDir Path dir) throws Exception {
        Path[] in = setUp(dir);
        Path run = dir.resolve("run");
        String launcher = Path.of(System.getProperty("dit4j.launcher", "scripts/dit4j")).toAbsolutePath().toString();
        Process p = new ProcessBuilder(launcher, "train", "--model-config", in[1].toString(), "--vae", "none", "--data", in[0].toString(),
                "--out", run.toString(), "--max-steps", "100000", "--ckpt-every", "1", "--log-every", "1", "--batch-size", "2")
                .redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile()).start();
        // Wait until a few checkpoints exist, then kill -9 (possibly in the middle of writing one).
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline && (!Files.isDirectory(run.resolve("checkpoints")) || listCount(run) < 2)) Thread.sleep(200);
        Thread.sleep(150);
        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        Path last = TrainingCheckpoint.latest(run);
        long step = TrainingCheckpoint.load(last).step();
        assertTrue(step >= 2, "step " + step);
        var r = SampleCliIT.dit4j(dir, "train", "--resume", run.toString(), "--max-steps", String.valueOf(step + 2), "--data", in[0].toString(),
                "--model-config", in[1].toString(), "--vae", "none", "--out", run.toString(), "--ckpt-every", "1", "--batch-size", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resumed from"), r.out());
        assertEquals(step + 2, TrainingCheckpoint.load(TrainingCheckpoint.latest(run)).step());
    }

    /** The one-command local Spark run, then a resume on Spark, then sampling from its checkpoint. */
    @Test
    void trainsOnEmbeddedSparkResumesAndSamples(@TempDir Path dir) throws Exception {
        Path[] in = setUp(dir);
        Path run = dir.resolve("run");
        String[] common = {"--model-config", in[1].toString(), "--vae", "none", "--data", in[0].toString(), "--out", run.toString(),
                "--ckpt-every", "2", "--log-every", "2", "--batch-size", "4", "--lr", "1e-3", "--spark", "local[2]", "--devices", "2"};
        var r = SampleCliIT.dit4j(dir, concat(new String[]{"train", "--max-steps", "2"}, common));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Spark local[2], 2 workers"), r.out());
        assertTrue(r.err().contains("examples per worker [2, 2]"), r.err());
        var resumed = SampleCliIT.dit4j(dir, concat(new String[]{"train", "--max-steps", "4", "--resume", run.toString()}, common));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resumed from") && resumed.out().contains("at step 2"), resumed.out());
        assertEquals(4, TrainingCheckpoint.load(TrainingCheckpoint.latest(run)).optimizerSteps());
        var s = SampleCliIT.dit4j(dir, "sample", "--ckpt", TrainingCheckpoint.latest(run).toString(), "--labels", "0", "--sampler", "ddim",
                "--steps", "3", "--out", dir.resolve("samples").toString());
        assertEquals(0, s.code(), s.err());
    }

    @Test
    void parallelWrapperTrainsFromTheCommandLine(@TempDir Path dir) throws Exception {
        Path[] in = setUp(dir);
        Path run = dir.resolve("run");
        var r = SampleCliIT.dit4j(dir, "train", "--model-config", in[1].toString(), "--vae", "none", "--data", in[0].toString(),
                "--out", run.toString(), "--max-steps", "3", "--ckpt-every", "3", "--log-every", "1", "--batch-size", "4",
                "--devices", "2", "--parallel", "parallel-wrapper");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ParallelWrapper, 2 workers"), r.out());
        assertFalse(r.out().contains("Added differentiated op"), "SameDiff's per-op lines are muted");
        assertEquals(3, TrainingCheckpoint.load(TrainingCheckpoint.latest(run)).step());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static long listCount(Path run) throws IOException {
        try (var s = Files.list(run.resolve("checkpoints"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("step-")).count();
        }
    }
}
