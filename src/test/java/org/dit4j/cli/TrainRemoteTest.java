package org.dit4j.cli;

import org.dit4j.data.LatentShards;
import org.dit4j.io.HadoopFiles;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.training.TrainingCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** dit4j train with --features, --out and --resume as Hadoop URIs (file://, through Hadoop's FileSystem API). */
class TrainRemoteTest {
    static Path latents(Path dir) throws Exception {
        LatentShards.Writer w = new LatentShards.Writer(dir, 64, "ema", false, false, 0);
        Random rng = new Random(3);
        for (int s = 0; s < 2; s++) {
            float[] x = new float[6 * 4 * 8 * 8];
            long[] y = new long[6];
            for (int i = 0; i < 6; i++) y[i] = (i + s) % 2;
            for (int i = 0; i < x.length; i++) x[i] = (float) (0.3 * rng.nextGaussian() + (y[i / 256] == 0 ? -0.5 : 0.5));
            w.append(Nd4j.create(x, new long[]{6, 4, 8, 8}, 'c'), y, null);
        }
        return dir;
    }

    private static String[] train(Path model, String features, String out, int steps, String resume) {
        List<String> a = new ArrayList<>(List.of("train", "--model-config", model.toString(), "--features", features, "--out", out,
                "--max-steps", Integer.toString(steps), "--ckpt-every", "2", "--log-every", "1", "--batch-size", "4", "--lr", "1e-3"));
        if (resume != null) a.addAll(List.of("--resume", resume));
        return a.toArray(String[]::new);
    }

    @Test
    void aRunInAHadoopFolderResumesThereToTheWeightsOfALocalRun(@TempDir Path dir) throws Exception {
        Path features = latents(dir.resolve("features")), model = dir.resolve("model.yaml");
        Files.writeString(model, new DiTConfig(8, 4, 4, 32, 1, 2, 2.0, 0.1, 2, true).toYaml());
        assertEquals(0, Dit4j.run(train(model, features.toString(), dir.resolve("local").toString(), 4, null)));

        String remote = dir.resolve("remote").toUri().toString(), feats = features.toUri().toString();
        assertEquals(0, Dit4j.run(train(model, feats, remote, 2, null)));
        String out = ForwardCommandTest.stdoutOf(() -> assertEquals(0, Dit4j.run(train(model, feats, remote, 4, remote))));
        assertTrue(out.contains("resumed from " + remote + " at step 2") && out.contains("the newest checkpoint is " + remote + "/checkpoints/step-00000004"), out);
        assertTrue(HadoopFiles.list(HadoopFiles.resolve(remote, "checkpoints")).containsAll(List.of("step-00000002", "step-00000004")));
        assertTrue(HadoopFiles.list(remote).containsAll(List.of("log.csv", "train_config.yaml", "loss.png")), HadoopFiles.list(remote).toString());
        String log = new String(HadoopFiles.readAll(HadoopFiles.resolve(remote, "log.csv")));
        assertEquals(5, log.strip().lines().count(), "header + steps 1..4, continued across the resume: " + log);

        Map<String, INDArray> local = TrainingCheckpoint.load(TrainingCheckpoint.latest(dir.resolve("local"))).weights();
        Map<String, INDArray> resumed = TrainingCheckpoint.load(dir.resolve("remote/checkpoints/step-00000004")).weights();
        double diff = 0;
        for (String k : local.keySet()) diff = Math.max(diff, local.get(k).sub(resumed.get(k)).amaxNumber().doubleValue());
        assertEquals(0, diff, 1e-6, "remote, resumed = local, uninterrupted: max |Δ| = " + diff);
    }

    @Test
    void anImageFolderUriTrainsToTheWeightsOfItsPath(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data"), model = dir.resolve("model.yaml");
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < 3; i++)
                org.dit4j.io.Images.writePng(Files.createDirectories(data.resolve("class" + k)).resolve("img" + i + ".png"),
                        org.dit4j.io.Images.toImage(Nd4j.rand(3, 10, 9).muli(2).subi(1)));
        Files.writeString(model, new DiTConfig(8, 2, 3, 32, 1, 2, 2.0, 0.1, 2, true).toYaml());
        List<Map<String, INDArray>> trained = new ArrayList<>();
        for (String source : new String[]{data.toString(), data.toUri().toString()}) {
            Path out = dir.resolve("run" + trained.size());
            String log = ForwardCommandTest.stdoutOf(() -> assertEquals(0, Dit4j.run("train", "--model-config", model.toString(), "--vae", "none", "--data", source,
                    "--out", out.toString(), "--max-steps", "2", "--ckpt-every", "2", "--log-every", "1", "--batch-size", "4", "--lr", "1e-3")));
            assertTrue(log.contains("on 6 images in 2 classes"), log);
            trained.add(TrainingCheckpoint.load(TrainingCheckpoint.latest(out)).weights());
        }
        assertEquals(trained.get(0).keySet(), trained.get(1).keySet());
        for (String k : trained.get(0).keySet()) assertEquals(trained.get(0).get(k), trained.get(1).get(k), k + ": the URI run's weights vs the path run's");
        for (String bad : new String[]{"hdfs://127.0.0.1:1/data", dir.resolve("absent").toUri().toString()}) {
            String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run("train", "--model-config", model.toString(), "--vae", "none",
                    "--data", bad, "--out", dir.resolve("bad").toString(), "--max-steps", "2")));
            assertTrue(err.contains(bad), err);
            assertEquals(1, err.strip().lines().count(), err);
        }
    }

    @Test
    void onSparkThePixelModelsExecutorsReadTheImageFolderUriThemselves(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data"), model = dir.resolve("model.yaml");
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < 2; i++)
                org.dit4j.io.Images.writePng(Files.createDirectories(data.resolve("class" + k)).resolve("img" + i + ".png"),
                        org.dit4j.io.Images.toImage(Nd4j.rand(3, 8, 8).muli(2).subi(1)));
        Files.writeString(model, new DiTConfig(8, 2, 3, 32, 1, 2, 2.0, 0.1, 2, true).toYaml());
        String uri = data.toUri().toString(), out = ForwardCommandTest.stdoutOf(() -> assertEquals(0, Dit4j.run("train", "--model-config", model.toString(),
                "--vae", "none", "--data", uri, "--out", dir.resolve("run").toString(), "--max-steps", "2", "--ckpt-every", "2",
                "--batch-size", "4", "--lr", "1e-3", "--spark", "local[2]", "--devices", "2")));
        assertTrue(out.contains("Spark local[2], 2 workers") && out.contains("executors read " + uri), out);
        assertEquals(2, TrainingCheckpoint.load(TrainingCheckpoint.latest(dir.resolve("run"))).optimizerSteps());
    }

    @Test
    void unreachableOrUnknownFileSystemsFailBeforeTrainingInOneLine(@TempDir Path dir) throws Exception {
        Path features = latents(dir.resolve("features")), model = dir.resolve("model.yaml");
        Files.writeString(model, new DiTConfig(8, 4, 4, 32, 1, 2, 2.0, 0.1, 2, true).toYaml());
        for (String out : new String[]{"hdfs://127.0.0.1:1/runs/x", "nosuchfs://bucket/runs/x"}) {
            String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(train(model, features.toString(), out, 2, null))));
            assertTrue(err.contains(out), err);
            assertEquals(1, err.strip().lines().count(), err);
        }
        String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(train(model, "hdfs://127.0.0.1:1/features",
                dir.resolve("run").toString(), 2, null))));
        assertTrue(err.contains("hdfs://127.0.0.1:1/features") && err.contains("Connection refused"), err);
        assertEquals(1, err.strip().lines().count(), err);
    }
}
