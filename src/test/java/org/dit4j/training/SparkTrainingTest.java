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
}
