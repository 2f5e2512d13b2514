package org.dit4j.training;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.dit4j.models.dit.DiTInit;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.training.dl4j.DiTGraph;
import org.dit4j.training.dl4j.GraphTrainer;
import org.dit4j.training.dl4j.ParallelWrapperEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Sgd;

import java.nio.file.Path;
import java.util.List;

import static org.dit4j.training.TrainerTest.*;
import static org.junit.jupiter.api.Assertions.*;

/** Training through the ComputationGraph wrapping with DL4J's ParallelWrapper (worker threads on the one CPU device). */
class GraphTrainerTest {
    private static DiTModel initialised() {
        DiTModel m = DiTModel.create(pixelDiT());
        DiTInit.initialize(m, 1);
        return m;
    }

    @Test
    void oneAveragedSgdRoundOverTwoWorkersIsOneStepOnTheirUnion() {
        DiTModel m = initialised();
        TrainConfig cfg = config(1);
        // Shards of one drawn batch of 8, as the trainer makes them.
        List<DataSet> shards = new GraphTrainer(m, colours(4), cfg, new ParallelWrapperEngine(2)).shards(0);
        var conf = DiTGraph.configuration(m.config(), new Sgd(0.5), 0, 0, 1);
        ComputationGraph parallel = DiTGraph.create(conf, m.stateDict()), single = DiTGraph.create(conf.clone(), m.stateDict());
        new ParallelWrapperEngine(2).fitRound(parallel, shards);
        single.fit(DataSet.merge(shards));
        INDArray before = DiTGraph.create(conf.clone(), m.stateDict()).params();
        double moved = single.params().sub(before).norm2Number().doubleValue();
        double diff = parallel.params().sub(single.params()).norm2Number().doubleValue();
        assertTrue(moved > 1e-2, "the step moved the weights by " + moved);
        assertTrue(diff < 1e-5 * moved, "averaged round vs single step: |Δ| = " + diff + " for a step of " + moved);
    }

    @Test
    void twoParallelWrapperWorkersLearnTheColoursAsOneDeviceDoes(@TempDir Path dir) throws Exception {
        DiTModel m = initialised();
        int steps = 300;
        double first = 0, last = 0;
        try (GraphTrainer t = new GraphTrainer(m, colours(8), config(steps), new ParallelWrapperEngine(2))) {
            for (int i = 0; i < steps; i++) {
                double loss = t.trainStep().loss();
                if (i < 20) first += loss / 20;
                if (i >= steps - 20) last += loss / 20;
            }
            assertTrue(first > 0.5, "initial loss " + first);
            // The single-device SameDiff trainer reaches < 0.15 in 400 steps on this setup (TrainerTest).
            assertTrue(last < 0.2 && last < first / 4, "loss " + first + " → " + last);
            DiTModel trained = DiTModel.create(pixelDiT());
            trained.loadStateDict(DiTGraph.stateDict(t.graph()), "graph");
            assertPredictsEachClassColour(trained);
            // The checkpoint is the SameDiff trainer's format, with the EMA and Adam's moments.
            Path ckpt = t.checkpoint(dir);
            TrainingCheckpoint.State s = TrainingCheckpoint.load(ckpt);
            assertEquals(steps, s.step());
            assertEquals(steps, s.optimizerSteps());
            assertNotNull(s.ema());
            assertEquals(DiTGraph.stateDict(t.graph()).get("final_layer.linear.weight"), s.weights().get("final_layer.linear.weight"));
        }
    }

    @Test
    void aResumedGraphRunReachesTheSameWeights(@TempDir Path dir) throws Exception {
        TrainConfig cfg = config(6).set("train_batch_size", 4, "test");
        INDArray straight;
        try (GraphTrainer a = new GraphTrainer(initialised(), colours(4), cfg, new ParallelWrapperEngine(2))) {
            for (int i = 0; i < 6; i++) a.trainStep();
            straight = a.graph().params().dup();
        }
        try (GraphTrainer b = new GraphTrainer(initialised(), colours(4), cfg, new ParallelWrapperEngine(2))) {
            for (int i = 0; i < 3; i++) b.trainStep();
            b.checkpoint(dir);
        }
        try (GraphTrainer c = new GraphTrainer(initialised(), colours(4), cfg, new ParallelWrapperEngine(2))) {
            c.restore(TrainingCheckpoint.load(TrainingCheckpoint.latest(dir)));
            while (c.currentStep() < 6) c.trainStep();
            double diff = c.graph().params().sub(straight).amaxNumber().doubleValue();
            assertTrue(diff < 1e-6, "resumed vs uninterrupted: max |Δ| = " + diff);
        }
    }
}
