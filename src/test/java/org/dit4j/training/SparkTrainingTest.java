package org.dit4j.training;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.dit4j.io.ModelLoader;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.models.dit.DiTInit;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.training.dl4j.DiTGraph;
import org.dit4j.training.dl4j.GraphTrainer;
import org.dit4j.training.dl4j.ParallelWrapperEngine;
import org.dit4j.training.spark.ExecutorShards;
import org.dit4j.training.spark.SparkEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Sgd;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.dit4j.training.TrainerTest.*;
import static org.junit.jupiter.api.Assertions.*;

/** Embedded Spark, two local executor threads bound to loopback, up to 3 attempts per task. */
class SparkTrainingTest {
    private static JavaSparkContext sc;

    @BeforeAll
    static void startSpark() {
        sc = new JavaSparkContext(SparkEngine.sparkConf("local[2,3]", false));
    }

    @AfterAll
    static void stopSpark() {
        if (sc != null) sc.stop();
    }

    private static DiTModel initialised() {
        DiTModel m = DiTModel.create(pixelDiT());
        DiTInit.initialize(m, 1);
        return m;
    }

    private static List<DataSet> shards() {
        return new GraphTrainer(initialised(), colours(4), config(1), new ParallelWrapperEngine(2)).shards(0);
    }

    private static SparkComputationGraph sparkNet(ComputationGraph g, int perWorker) {
        return new SparkComputationGraph(sc, g, new ParameterAveragingTrainingMaster.Builder(perWorker).batchSizePerWorker(perWorker)
                .averagingFrequency(1).workerPrefetchNumBatches(0).repartionData(Repartition.Never)
                .rddTrainingApproach(RDDTrainingApproach.Direct).build());
    }

    @Test
    void aLocalTwoWorkerRunLearnsAndItsCheckpointSamples(@TempDir Path dir) throws Exception {
        int steps = 40;
        List<String> log = new ArrayList<>();
        double first = 0, last = 0;
        try (GraphTrainer t = new GraphTrainer(initialised(), colours(8), config(steps), new SparkEngine(sc, 2, false, log::add))) {
            for (int i = 0; i < steps; i++) {
                double loss = t.trainStep().loss();
                if (i < 5) first += loss / 5;
                if (i >= steps - 5) last += loss / 5;
            }
            assertTrue(last < 0.8 * first, "loss " + first + " → " + last);
            assertEquals(steps, log.size());
            assertTrue(log.get(0).contains("examples per worker [4, 4]"), log.get(0));
            Path ckpt = t.checkpoint(dir);
            TrainingCheckpoint.State s = TrainingCheckpoint.load(ckpt);
            assertEquals(steps, s.optimizerSteps(), "the driver's graph counts the averaged rounds");
            // What dit4j sample --ckpt loads: the EMA weights kept on the driver.
            DiTModel loaded = (DiTModel) ModelLoader.load(ckpt, null, null, 0, 0, TorchCheckpoint.Pick.EMA);
            assertEquals(t.ema().weights().get("blocks.0.attn.qkv.weight"), loaded.stateDict().get("blocks.0.attn.qkv.weight"));
            assertTrue(Double.isFinite(loaded.forward(colours(1).batch(new long[]{0}, new boolean[1]).x(), new double[]{500}, new long[]{0})
                    .sumNumber().doubleValue()));
        }
    }

    @Test
    void oneAveragedSgdRoundOverTwoWorkersIsOneStepOnTheirUnion() {
        DiTModel m = initialised();
        List<DataSet> shards = shards();
        var conf = DiTGraph.configuration(m.config(), new Sgd(0.5), 0, 0, 1);
        ComputationGraph cluster = DiTGraph.create(conf, m.stateDict()), single = DiTGraph.create(conf.clone(), m.stateDict());
        INDArray before = single.params().dup();
        sparkNet(cluster, 4).fit(sc.parallelize(shards, 2));
        single.fit(DataSet.merge(shards));
        double moved = single.params().sub(before).norm2Number().doubleValue();
        double diff = cluster.params().sub(single.params()).norm2Number().doubleValue();
        assertTrue(moved > 1e-2, "the step moved the weights by " + moved);
        assertTrue(diff < 1e-5 * moved, "Spark round vs single step: |Δ| = " + diff + " for a step of " + moved);
    }

    @Test
    void aFailedTaskIsRetriedAndTheRoundStillCompletes() {
        DiTModel m = initialised();
        List<DataSet> shards = shards();
        var conf = DiTGraph.configuration(m.config(), new Sgd(0.5), 0, 0, 1);
        ComputationGraph cluster = DiTGraph.create(conf, m.stateDict()), single = DiTGraph.create(conf.clone(), m.stateDict());
        // The first attempt of partition 0 dies as a lost executor's task would; Spark runs it again.
        JavaRDD<DataSet> flaky = sc.parallelize(shards, 2).map(d -> {
            TaskContext tc = TaskContext.get();
            if (tc.partitionId() == 0 && tc.attemptNumber() == 0) throw new IllegalStateException("simulated executor loss");
            return d;
        });
        sparkNet(cluster, 4).fit(flaky);
        single.fit(DataSet.merge(shards));
        double diff = cluster.params().sub(single.params()).norm2Number().doubleValue();
        assertTrue(diff < 1e-5 * single.params().norm2Number().doubleValue(), "after the retry the round equals the union step: |Δ| = " + diff);
    }

    /**
     * The colour examples as a latent-shard folder of two shards with mirrored copies (the flips are then real data,
     * as with extract-features --flip).
     */
    private static Path colourShards(Path dir) throws Exception {
        var data = colours(4);
        long[] all = new long[data.size()];
        for (int i = 0; i < all.length; i++) all[i] = i;
        var b = data.batch(all, new boolean[all.length]);
        boolean[] flips = new boolean[all.length];
        java.util.Arrays.fill(flips, true);
        var mirrored = data.batch(all, flips);
        var w = new org.dit4j.data.LatentShards.Writer(dir, 16, "none", true, false, 0);
        w.append(org.dit4j.util.Slices.range(b.x(), 0, 0, 7).dup(), java.util.Arrays.copyOfRange(b.labels(), 0, 7),
                org.dit4j.util.Slices.range(mirrored.x(), 0, 0, 7).dup());
        w.append(org.dit4j.util.Slices.range(b.x(), 0, 7, 12).dup(), java.util.Arrays.copyOfRange(b.labels(), 7, 12),
                org.dit4j.util.Slices.range(mirrored.x(), 0, 7, 12).dup());
        return dir;
    }

    @Test
    void executorsReadingTheirOwnShardsTrainTheWeightsOfShardsShippedByTheDriver(@TempDir Path dir) throws Exception {
        Path features = colourShards(dir.resolve("features"));
        TrainConfig cfg = config(3).set("random_flip", true, "test");
        List<String> log = new ArrayList<>();
        Map<String, INDArray> shipped, read;
        try (GraphTrainer t = new GraphTrainer(initialised(), new org.dit4j.data.LatentShards(features), cfg, new SparkEngine(sc, 2, false, log::add))) {
            for (int i = 0; i < 3; i++) t.trainStep();
            shipped = DiTGraph.stateDict(t.graph());
        }
        var files = new org.dit4j.data.LatentShardFiles(features.toUri().toString());
        SparkEngine engine = new SparkEngine(sc, 2, false, log::add).readingOnExecutors(new ExecutorShards(files.location(), pixelDiT(), cfg, 2));
        try (GraphTrainer t = new GraphTrainer(initialised(), files, cfg, engine)) {
            for (int i = 0; i < 3; i++) t.trainStep();
            read = DiTGraph.stateDict(t.graph());
        }
        assertTrue(log.get(0).contains("from the driver") && log.get(3).contains("read by the executors"), log.toString());
        double moved = 0, diff = 0;
        Map<String, INDArray> start = initialised().stateDict();
        for (String k : shipped.keySet()) {
            moved = Math.max(moved, shipped.get(k).sub(start.get(k)).amaxNumber().doubleValue());
            diff = Math.max(diff, shipped.get(k).sub(read.get(k)).amaxNumber().doubleValue());
        }
        assertTrue(moved > 1e-3, "3 steps moved the weights by " + moved);
        assertEquals(0, diff, 1e-7, "same weights whoever reads the data: max |Δ| = " + diff);
    }

    @Test
    void executorsReadingTheirOwnImagesFromAUriTrainTheWeightsOfImagesShippedByTheDriver(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < 4; i++)
                org.dit4j.io.Images.writePng(java.nio.file.Files.createDirectories(data.resolve("c" + k)).resolve(i + ".png"),
                        org.dit4j.io.Images.toImage(org.nd4j.linalg.factory.Nd4j.rand(3, 16, 16).muli(0.2f).addi(0.4f * k - 0.4f)));
        TrainConfig cfg = config(2).set("random_flip", true, "test");
        List<String> log = new ArrayList<>();
        Map<String, INDArray> shipped, read;
        try (GraphTrainer t = new GraphTrainer(initialised(), new org.dit4j.data.ImageFolderData(data, 16), cfg, new SparkEngine(sc, 2, false, log::add))) {
            for (int i = 0; i < 2; i++) t.trainStep();
            shipped = DiTGraph.stateDict(t.graph());
        }
        var images = new org.dit4j.data.ImageFolderData(data.toUri().toString(), 16);
        SparkEngine engine = new SparkEngine(sc, 2, false, log::add).readingOnExecutors(ExecutorShards.imageFolder(images.location(), pixelDiT(), cfg, 2));
        try (GraphTrainer t = new GraphTrainer(initialised(), images, cfg, engine)) {
            for (int i = 0; i < 2; i++) t.trainStep();
            read = DiTGraph.stateDict(t.graph());
        }
        assertTrue(log.get(0).contains("from the driver") && log.get(2).contains("read by the executors"), log.toString());
        Map<String, INDArray> start = initialised().stateDict();
        assertTrue(shipped.keySet().stream().anyMatch(k -> !shipped.get(k).equals(start.get(k))), "two steps moved the weights");
        for (String k : shipped.keySet()) assertEquals(shipped.get(k), read.get(k), k + ": the same weights whoever reads the images");
    }

    @Test
    void anUnreachableMasterFailsAtOnceInOneLineNamingIt() {
        var e = assertThrows(IllegalArgumentException.class, () -> SparkEngine.start("spark://127.0.0.1:1", 2, false, false, line -> {}));
        assertTrue(e.getMessage().startsWith("--spark spark://127.0.0.1:1: cannot reach the Spark master") && !e.getMessage().contains("\n"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SparkEngine.start("spark://127.0.0.1:port", 2, false, false, line -> {}));
        assertTrue(e.getMessage().contains("'port' is not a number"), e.getMessage());
    }
}
