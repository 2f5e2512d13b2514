package org.dit4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.evaluation.FidStatistics;
import org.dit4j.io.Images;
import org.dit4j.io.Npz;
import org.dit4j.io.TorchZipWriter;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.inception.InceptionFixtureWeights;
import org.dit4j.training.TrainingCheckpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

import static org.dit4j.cli.ForwardCommandTest.stderrOf;
import static org.junit.jupiter.api.Assertions.*;

/**
 * dit4j train with fid_every: the FID of the EMA weights in log.csv at its steps, equal to dit4j evaluate on
 * dit4j sample-batch's samples of the same checkpoint; a resumed run with it on bit-exact; one-line refusals before training.
 * The Inception network is the eval fixture's deterministic one.
 */
class TrainFidTest {
    @TempDir
    static Path shared;
    static Path data, model, inception, ref;

    /** A pixel-space tiny DiT, a two-class 8×8 image folder, the fixture Inception as a .pth, reference statistics of random features. */
    @BeforeAll
    static void setUp() throws Exception {
        data = shared.resolve("data");
        for (int k = 0; k < 2; k++) {
            Path cls = Files.createDirectories(data.resolve("class" + k));
            for (int i = 0; i < 3; i++)
                Images.writePng(cls.resolve("img" + i + ".png"), Images.toImage(Nd4j.zeros(3, 10, 8).addi(k == 0 ? 0.6f : -0.6f).addi(0.1f * i)));
        }
        model = shared.resolve("model.yaml");
        Files.writeString(model, new DiTConfig(8, 2, 3, 32, 1, 2, 2.0, 0.1, 2, true).toYaml());
        Map<String, INDArray> floats = new LinkedHashMap<>();
        InceptionFixtureWeights.stateDict().forEach((k, v) -> {
            if (!k.endsWith("num_batches_tracked")) floats.put(k, v);
        });
        inception = shared.resolve("inception.pth");
        TorchZipWriter.write(inception, floats);
        Random rng = new Random(5);
        float[] features = new float[6 * 2048];
        for (int i = 0; i < features.length; i++) features[i] = (float) (3 * rng.nextDouble());
        FidStatistics s = FidStatistics.of(features, 6, 2048);
        ref = shared.resolve("ref.npz");
        Npz.write(ref, Map.of("mu", s.muArray(), "sigma", s.sigma()));
    }

    private static String[] train(Path out, int steps, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--model-config", model.toString(), "--vae", "none", "--data", data.toString(),
                "--out", out.toString(), "--max-steps", Integer.toString(steps), "--ckpt-every", "2", "--log-every", "3", "--batch-size", "2",
                "--lr", "1e-3", "--set", "sample_steps=2", "--set", "fid_samples=3", "--set", "ema_decay=0.5"));
        a.addAll(List.of(extra));
        if (!a.contains("--inception")) a.addAll(List.of("--inception", inception.toString()));
        return a.toArray(String[]::new);
    }

    /** step → the fid column of log.csv ("" where none). */
    private static Map<Long, String> fidColumn(Path run) throws Exception {
        List<String> lines = Files.readAllLines(run.resolve("log.csv"));
        assertEquals("step,loss,lr,grad_norm,steps_per_s,images_per_s,fid", lines.get(0));
        Map<Long, String> m = new LinkedHashMap<>();
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split(",", -1);
            assertEquals(7, f.length, l);
            m.put(Long.parseLong(f[0]), f[6]);
        }
        return m;
    }

    @Test
    void fidIsLoggedAtItsStepsAsEvaluateComputesItAndLeavesTrainingExact(@TempDir Path dir) throws Exception {
        // two steps, then resumed to four, FID every 2 steps (and log rows every 3)
        Path run = dir.resolve("run");
        String[] fidOn = {"--set", "fid_every=2", "--fid-ref", ref.toString()};
        String out = ForwardCommandTest.stdoutOf(() -> assertEquals(0, Dit4j.run(train(run, 2, fidOn))));
        String[] resume = Arrays.copyOf(fidOn, fidOn.length + 2);
        resume[fidOn.length] = "--resume";
        resume[fidOn.length + 1] = run.toString();
        out += ForwardCommandTest.stdoutOf(() -> assertEquals(0, Dit4j.run(train(run, 4, resume))));
        Map<Long, String> fid = fidColumn(run);
        assertEquals(List.of(2L, 3L, 4L), List.copyOf(fid.keySet()), "rows at the FID steps 2, 4 and the log step 3: " + fid);
        assertEquals("", fid.get(3L));
        double at2 = Double.parseDouble(fid.get(2L)), at4 = Double.parseDouble(fid.get(4L));
        assertTrue(at2 > 0 && at4 > 0 && at2 != at4, fid.toString());
        assertTrue(out.contains("step 2  FID (3 samples) " + fid.get(2L)) && out.contains("step 4  FID (3 samples) " + fid.get(4L)), out);

        // the same samples from the checkpoint's EMA weights, by dit4j sample-batch (seed = the training seed), through dit4j evaluate
        Path samples = dir.resolve("s2"), json = dir.resolve("m.json");
        assertEquals(0, Dit4j.run("sample-batch", "--ckpt", run.resolve("checkpoints/step-00000002").toString(), "--num-samples", "3",
                "--seed", "0", "--sampler", "ddim", "--steps", "2", "--cfg-scale", "4.0", "--out", samples.toString()));
        assertEquals(0, Dit4j.run("evaluate", "--samples", dir.resolve("s2.npz").toString(), "--ref", ref.toString(),
                "--inception", inception.toString(), "--json", json.toString()));
        double evaluated = new ObjectMapper().readTree(json.toFile()).get("fid").asDouble();
        assertEquals(evaluated, at2, 1e-9 * evaluated, "training's FID at step 2 vs dit4j evaluate");

        // the FID run, resumed, ends on the weights and EMA of an uninterrupted run without FID: it took none of the training draws
        Path plain = dir.resolve("plain");
        assertEquals(0, Dit4j.run(train(plain, 4)));
        var a = TrainingCheckpoint.load(plain.resolve("checkpoints/step-00000004"));
        var b = TrainingCheckpoint.load(run.resolve("checkpoints/step-00000004"));
        for (String k : a.weights().keySet()) {
            assertEquals(a.weights().get(k), b.weights().get(k), "weights " + k);
            assertEquals(a.ema().get(k), b.ema().get(k), "EMA " + k);
        }
    }

    @Test
    void badFidSettingsAreRefusedInOneLineBeforeTraining(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        Path noStats = dir.resolve("nostats.npz");
        Npz.write(noStats, Map.of("x", Nd4j.zeros(2)));
        Path small = dir.resolve("small.npz");
        Npz.write(small, Map.of("mu", Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.DOUBLE, 4), "sigma", Nd4j.eye(4).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)));
        String[][] cases = {
                {"fid_every 2 needs --fid-ref", "--set", "fid_every=2"},
                {"fid_every, which is 0", "--fid-ref", ref.toString()},
                {dir.resolve("absent.npz") + ": no such file", "--set", "fid_every=2", "--fid-ref", dir.resolve("absent.npz").toString()},
                {noStats + ": has neither 'arr_0'", "--set", "fid_every=2", "--fid-ref", noStats.toString()},
                {small + " has 4-dimensional statistics", "--set", "fid_every=2", "--fid-ref", small.toString()},
                {"key 'fid_samples' = '1': must be at least 2", "--set", "fid_every=2", "--set", "fid_samples=1", "--fid-ref", ref.toString()},
                {"--inception: no file or zoo model named '" + dir.resolve("absent.pth") + "'", "--set", "fid_every=2", "--fid-ref", ref.toString(),
                        "--inception", dir.resolve("absent.pth").toString()},
        };
        for (String[] c : cases) {
            String err = stderrOf(() -> assertEquals(2, Dit4j.run(train(out, 2, Arrays.copyOfRange(c, 1, c.length)))));
            assertTrue(err.contains(c[0]), c[0] + " / " + err);
            assertEquals(1, err.strip().lines().count(), err);
            assertFalse(Files.exists(out), "nothing trained or written: " + c[0]);
        }
    }
}
