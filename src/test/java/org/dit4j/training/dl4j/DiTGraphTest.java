package org.dit4j.training.dl4j;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.dit4j.Fixtures;
import org.dit4j.diffusion.DiffusionLoss;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.io.Npy;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.Map;

import static org.dit4j.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** The ComputationGraph wrapping computes what the SameDiff model and the official code compute. */
class DiTGraphTest {
    private static DiTConfig cfg;
    private static Map<String, INDArray> weights;
    private static ComputationGraph graph;

    @BeforeAll
    static void setUp() {
        cfg = DiTConfig.load(Fixtures.tiny("config.json"));
        weights = TorchCheckpoint.loadStateDict(Fixtures.tiny("weights/DiT-tiny.pt"), TorchCheckpoint.Pick.EMA);
        graph = DiTGraph.create(DiTGraph.configuration(cfg, new Sgd(0.1), 0, 0, 0), weights);
    }

    @Test
    void allParametersAreCountedSoFitTrains() {
        DiTModel m = DiTModel.create(cfg);
        assertEquals(m.parameterCount() - cfg.numPatches() * (long) cfg.hiddenSize(), graph.numParams(), "every weight but pos_embed");
    }

    @Test
    void outputIsTheModelsForward() {
        DiTModel m = DiTModel.create(cfg);
        m.loadStateDict(weights, "DiT-tiny.pt");
        INDArray x = npy("x.npy");
        double[] t = Fixtures.times("t.npy");
        long[] y = longs("y.npy");
        INDArray expected = m.forward(x, t, y);
        INDArray got = graph.outputSingle(new GraphBatches(cfg).features(x, t, y));
        assertClose(expected, got, 1e-6, 1e-5, "graph output");
        assertClose(npy("forward_out.npy"), got, 1e-5, 1e-4, "graph output vs the official forward");
    }

    @Test
    void gradientsMatchTheOfficialTrainStep() {
        INDArray x0 = npy("training_losses/x0.npy"), noise = npy("training_losses/noise.npy");
        long[] t = longs("training_losses/t.npy"), y = longs("training_losses/y.npy");
        GraphBatches batches = new GraphBatches(cfg);
        ComputationGraph g = DiTGraph.create(DiTGraph.configuration(cfg, new Sgd(0.1), 0, 0, 0), weights);
        g.setInput(0, batches.features(x0, t, noise, y));
        g.setLabel(0, new DiffusionLoss(GaussianDiffusion.create("")).packLabels(x0, t, noise));
        g.computeGradientAndScore();
        assertEquals(npy("training_losses/loss_mean.npy").getDouble(0), g.score(), 1e-5 * g.score(), "DL4J's score is the mean loss");
        Map<String, INDArray> grads = g.gradient().gradientForVariable();
        int n = t.length, compared = 0;
        for (String name : weights.keySet()) {
            if (name.equals("pos_embed")) continue;
            INDArray ref = Npy.read(Fixtures.tiny("train_step/grads/" + name + ".npy"));
            INDArray got = grads.get(DiTGraph.MODEL + "_" + DiTLayer.paramKey(name)).div(n);   // DL4J's gradients are sums
            assertClose(ref, got.reshape(ref.shape()), 1e-4 * ref.amaxNumber().doubleValue() + 1e-7, 1e-3, "grad " + name);
            compared++;
        }
        assertEquals(31, compared);
    }

    @Test
    void packedRowsUnpackToTheModelsAndTheLossesPlaceholders() {
        INDArray x0 = npy("training_losses/x0.npy"), noise = npy("training_losses/noise.npy");
        long[] t = longs("training_losses/t.npy"), y = longs("training_losses/y.npy");
        GaussianDiffusion d = DiTLayer.trainingDiffusion(cfg.learnSigma());
        DiffusionLoss loss = new DiffusionLoss(d);
        Map<String, INDArray> expected = loss.placeholders(x0, t, noise);
        Map<String, INDArray> back = loss.unpackLabels(loss.packLabels(x0, t, noise), cfg.inChannels(), cfg.inputSize(), cfg.inputSize());
        assertEquals(expected.keySet(), back.keySet());
        expected.forEach((k, v) -> assertEquals(v.castTo(DataType.FLOAT), back.get(k), k));
        Map<String, INDArray> modelInputs = DiTModel.create(cfg).placeholders(expected.get(DiffusionLoss.X_T), d.modelTimesteps(t), y);
        Map<String, INDArray> unpacked = GraphBatches.modelInputs(cfg, new GraphBatches(cfg).features(x0, t, noise, y));
        assertEquals(modelInputs.keySet(), unpacked.keySet());
        modelInputs.forEach((k, v) -> assertEquals(v, unpacked.get(k), k));
    }

    @Test
    void theTrainingScoreIsTheWholeGraphsLoss() {
        INDArray x0 = npy("training_losses/x0.npy"), noise = npy("training_losses/noise.npy");
        long[] t = longs("training_losses/t.npy"), y = longs("training_losses/y.npy");
        DataSet ds = new DataSet(new GraphBatches(cfg).features(x0, t, noise, y), new DiffusionLoss(GaussianDiffusion.create("")).packLabels(x0, t, noise));
        ComputationGraph g = DiTGraph.create(DiTGraph.configuration(cfg, new Sgd(0.1), 0, 0, 0), weights);
        double forwardOnly = g.score(ds);                     // the layer's SameDiff graph
        g.setInput(0, ds.getFeatures());
        g.setLabel(0, ds.getLabels());
        g.computeGradientAndScore();                         // the block-by-block step
        assertEquals(forwardOnly, g.score(), 1e-6 * forwardOnly);
    }

    @Test
    void configurationSurvivesJsonSoReplicasCanBeBuilt() {
        ComputationGraphConfiguration conf = graph.getConfiguration();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        ComputationGraph replica = new ComputationGraph(back);
        replica.init(graph.params().dup(), false);
        assertEquals(cfg, DiTGraph.modelConfig(replica));
        INDArray f = new GraphBatches(cfg).features(npy("x.npy"), Fixtures.times("t.npy"), longs("y.npy"));
        assertEquals(graph.outputSingle(f), replica.outputSingle(f));
    }
}
