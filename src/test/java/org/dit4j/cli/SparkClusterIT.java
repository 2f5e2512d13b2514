package org.dit4j.cli;

import org.dit4j.data.LatentShards;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.training.TrainingCheckpoint;
import org.junit.jupiter.api.*;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.*;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A real Spark standalone cluster: scripts/spark-local-cluster.sh starts a master and two workers as JVMs of their own
 * on 127.0.0.1, each worker starts an executor JVM, and the tiny latent DiT trains there through dit4j train --spark
 * and through scripts/spark-submit-train.sh, reading its latents through Hadoop (file://) on the executors. The last
 * test kills a worker and its executor with SIGKILL mid-run.
 */
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SparkClusterIT {
    private static final Path ROOT = Paths.get("").toAbsolutePath();
    @TempDir
    static Path dir;
    private static Path clusterDir, features, model;
    private static String master;

    @BeforeAll
    static void startCluster() throws Exception {
        clusterDir = dir.resolve("cluster");
        Run r = run(90, List.of("DIT4J_SPARK_CLUSTER_DIR=" + clusterDir), ROOT.resolve("scripts/spark-local-cluster.sh").toString(), "start", "2");
        assertEquals(0, r.code(), r.err());
        master = r.out().trim();
        assertTrue(master.matches("spark://127\\.0\\.0\\.1:\\d+"), master);
        features = dir.resolve("features");
        LatentShards.Writer w = new LatentShards.Writer(features, 64, "ema", false, false, 0);
        Random rng = new Random(3);
        for (int s = 0; s < 2; s++) {
            float[] x = new float[8 * 4 * 8 * 8];
            long[] y = new long[8];
            for (int i = 0; i < 8; i++) y[i] = (i + s) % 2;
            for (int i = 0; i < x.length; i++) x[i] = (float) (0.3 * rng.nextGaussian() + (y[i / 256] == 0 ? -0.5 : 0.5));
            w.append(Nd4j.create(x, new long[]{8, 4, 8, 8}, 'c'), y, null);
        }
        model = dir.resolve("model.yaml");
        Files.writeString(model, new DiTConfig(8, 4, 4, 32, 1, 2, 2.0, 0.1, 2, true).toYaml());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (clusterDir == null) return;
        Run r = run(60, List.of("DIT4J_SPARK_CLUSTER_DIR=" + clusterDir), ROOT.resolve("scripts/spark-local-cluster.sh").toString(), "stop");
        assertEquals(0, r.code(), r.err());
        for (String name : new String[]{"master", "worker-1", "worker-2"}) assertFalse(Files.exists(clusterDir.resolve(name + ".pid")));
    }

    private static List<String> trainFlags(Path out, int steps) {
        return List.of("--model-config", model.toString(), "--features", features.toUri().toString(), "--out", out.toString(),
                "--max-steps", Integer.toString(steps), "--ckpt-every", "4", "--log-every", "1", "--batch-size", "4", "--lr", "1e-3",
                "--devices", "2");
    }

    private static Map<String, INDArray> finalWeights(Path run, long step) {
        TrainingCheckpoint.State s = TrainingCheckpoint.load(TrainingCheckpoint.latest(run));
        assertEquals(step, s.step());
        return s.weights();
    }

    private static double maxAbsDiff(Map<String, INDArray> a, Map<String, INDArray> b) {
        double d = 0;
        for (String k : a.keySet()) d = Math.max(d, a.get(k).castTo(DataType.DOUBLE).sub(b.get(k).castTo(DataType.DOUBLE)).amaxNumber().doubleValue());
        return d;
    }

    private static Map<String, INDArray> uninterrupted;

    @Test
    @Order(1)
    void trainsOnTheClusterThroughDit4jTrainAndSparkSubmit() throws Exception {
        Path run = dir.resolve("run-train");
        List<String> cmd = new ArrayList<>(List.of(launcher(), "train", "--spark", master));
        cmd.addAll(trainFlags(run, 8));
        Run r = run(300, List.of(), cmd.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Spark " + master + ", 2 workers") && r.out().contains("executors read " + features.toUri()), r.out());
        assertTrue(r.err().contains("spark round 8: examples per worker [2, 2] (read by the executors)"), r.err());
        uninterrupted = finalWeights(run, 8);
        // Each worker ran an executor of this application: its log sits in the worker's work folder.
        for (int w = 1; w <= 2; w++) {
            try (var apps = Files.list(clusterDir.resolve("work-" + w))) {
                assertTrue(apps.anyMatch(a -> a.getFileName().toString().startsWith("app-")), "worker " + w + " ran no executor");
            }
        }

        Path submitted = dir.resolve("run-submit");
        cmd = new ArrayList<>(List.of(ROOT.resolve("scripts/spark-submit-train.sh").toString(), master));
        cmd.addAll(trainFlags(submitted, 8));
        Run s = run(300, List.of("DIT4J_SPARK_CLUSTER_DIR=" + clusterDir, "SPARK_HOME="), cmd.toArray(String[]::new));
        assertEquals(0, s.code(), s.err());
        assertTrue(s.err().contains("org.apache.spark.deploy.SparkSubmit"), s.err());
        double diff = maxAbsDiff(uninterrupted, finalWeights(submitted, 8));
        assertTrue(diff < 1e-6, "spark-submit and dit4j train reach the same weights: max |Δ| = " + diff);
    }

    /**
     * SIGKILL to worker 1 and its executor after round 3: Spark reruns the lost tasks on worker 2's executor, which
     * rebuilds the same shards from (seed, step), so the run continues and ends on the uninterrupted run's weights.
     */
    @Test
    @Order(2)
    void aWorkerKilledMidRunLeavesTheJobToTheOtherWorkerAndTheSameWeights() throws Exception {
        assertNotNull(uninterrupted, "runs after the uninterrupted run");
        Path run = dir.resolve("run-fault"), err = dir.resolve("fault-stderr.txt");
        List<String> cmd = new ArrayList<>(List.of(launcher(), "train", "--spark", master));
        cmd.addAll(trainFlags(run, 8));
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("fault-stdout.txt").toFile()).redirectError(err.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
            while (!Files.readString(err).contains("spark round 3:")) {
                assertTrue(p.isAlive(), "the run ended before round 3: " + Files.readString(err));
                assertTrue(System.nanoTime() < deadline, "no round 3 within 4 minutes");
                Thread.sleep(100);
            }
            ProcessHandle worker = ProcessHandle.of(Long.parseLong(Files.readString(clusterDir.resolve("worker-1.pid")).trim())).orElseThrow();
            List<ProcessHandle> executors = worker.descendants().toList();
            assertFalse(executors.isEmpty(), "worker 1 runs an executor");
            worker.destroyForcibly();   // SIGKILL
            executors.forEach(ProcessHandle::destroyForcibly);
            assertTrue(p.waitFor(4, TimeUnit.MINUTES), "the run did not end within 4 minutes of the kill");
        } finally {
            p.destroyForcibly();
        }
        String stderr = Files.readString(err);
        assertEquals(0, p.exitValue(), "the job continues on the remaining worker: " + stderr.lines().filter(l -> !l.contains(" INFO ")).toList());
        assertTrue(stderr.contains("spark round 8:"), stderr);
        assertTrue(stderr.contains("Lost executor"), "the driver saw the executor go: " + stderr);
        double diff = maxAbsDiff(uninterrupted, finalWeights(run, 8));
        assertTrue(diff < 1e-6, "the same weights as the uninterrupted run: max |Δ| = " + diff);
    }

    /**
     * sample-batch and sample on the cluster's executors (separate JVMs loading the tiny DiT and VAE by path) write the
     * files one device writes, byte for byte; a resumed sample-batch redraws only the lost batch there. Spark starts
     * executors with OMP_NUM_THREADS = spark.task.cpus (1) and ND4J's float results depend on its thread count, so the
     * one-device runs are made with OMP_NUM_THREADS=1 too.
     */
    @Test
    @Order(0)
    void samplesOnTheClusterAsOneDeviceDoes() throws Exception {
        Path here = dir.resolve("batch-here"), there = dir.resolve("batch-cluster");
        List<String> batch = List.of("sample-batch", "--model-config", org.dit4j.Fixtures.tiny("config.json").toString(), "--ckpt",
                org.dit4j.Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--vae", org.dit4j.Fixtures.root().resolve("vae-tiny/weights/diffusers").toString(),
                "--num-samples", "5", "--batch-size", "2", "--steps", "2", "--seed", "3");
        List<String> oneThread = List.of("OMP_NUM_THREADS=1");
        assertEquals(0, run(300, oneThread, with(List.of(launcher()), with(batch, "--out", here.toString()))).code());
        Run r = run(300, List.of(), with(List.of(launcher()), with(batch, "--spark", master, "--devices", "2", "--out", there.toString())));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("sampled 5 of 5"), r.out());
        assertArrayEquals(Files.readAllBytes(dir.resolve("batch-here.npz")), Files.readAllBytes(dir.resolve("batch-cluster.npz")));
        Files.delete(there.resolve("000003.png"));
        r = run(300, List.of(), with(List.of(launcher()), with(batch, "--spark", master, "--devices", "2", "--out", there.toString())));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("sampled 2 of 5"), r.out());
        for (int i = 0; i < 5; i++) {
            String f = String.format(Locale.ROOT, "%06d.png", i);
            assertArrayEquals(Files.readAllBytes(here.resolve(f)), Files.readAllBytes(there.resolve(f)), f);
        }

        List<String> sample = List.of("sample", "--model-config", org.dit4j.Fixtures.tiny("config.json").toString(), "--ckpt",
                org.dit4j.Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--labels", "1,4,9,2,7", "--batch-size", "2", "--steps", "2", "--no-decode");
        Path z1 = dir.resolve("z-here.npy"), z2 = dir.resolve("z-cluster.npy");
        assertEquals(0, run(300, oneThread, with(List.of(launcher()), with(sample, "--save-latents", z1.toString(), "--out", dir.resolve("s-here").toString()))).code());
        r = run(300, List.of(), with(List.of(launcher()), with(sample, "--spark", master, "--devices", "2", "--save-latents", z2.toString(),
                "--out", dir.resolve("s-cluster").toString())));
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(Files.readAllBytes(z1), Files.readAllBytes(z2), "sample's latents on the cluster");
    }

    private static String[] with(List<String> head, String... more) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private static String launcher() {
        return Paths.get(System.getProperty("dit4j.launcher", "scripts/dit4j")).toAbsolutePath().toString();
    }

    record Run(int code, String out, String err) {}

    private static Run run(int seconds, List<String> env, String... cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt"), err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        for (String e : env) {
            int eq = e.indexOf('=');
            if (e.substring(eq + 1).isEmpty()) pb.environment().remove(e.substring(0, eq));
            else pb.environment().put(e.substring(0, eq), e.substring(eq + 1));
        }
        Process p = pb.start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail(String.join(" ", cmd) + " ran over " + seconds + " s: " + Files.readString(err));
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }
}
