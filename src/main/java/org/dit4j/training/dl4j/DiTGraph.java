package org.dit4j.training.dl4j;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.StateDicts;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A DiT and its training loss as a DL4J ComputationGraph: input "features" → {@link DiTLayer} "dit". This is what ParallelWrapper and Spark train; weights move in and out under their
 * official names, so checkpoints are the same files every engine writes.
 */
public final class DiTGraph {
    public static final String INPUT = "features", MODEL = "dit";

    private DiTGraph() {}

    /**
     * The graph configuration. Workspaces are off: with SameDiff layers M2.1's workspaces corrupt memory, and SameDiff
     * manages its own arrays anyway. {@code clipNorm} ≤ 0 disables clipping; with every parameter in one layer, DL4J's
     * per-layer L2 clipping is {@code clip_grad_norm_} over the whole model.
     */
    public static ComputationGraphConfiguration configuration(DiTConfig model, IUpdater updater, double weightDecay, double clipNorm, long initSeed) {
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder()
                .dataType(DataType.FLOAT)
                .seed(initSeed)
                .updater(updater)
                .trainingWorkspaceMode(WorkspaceMode.NONE)
                .inferenceWorkspaceMode(WorkspaceMode.NONE);
        if (weightDecay > 0) b.weightDecay(weightDecay, true);
        if (clipNorm > 0) b.gradientNormalization(GradientNormalization.ClipL2PerLayer).gradientNormalizationThreshold(clipNorm);
        return b.graphBuilder()
                .addInputs(INPUT)
                .addLayer(MODEL, new DiTLayer(model, initSeed), INPUT)
                .setOutputs(MODEL)
                .build();
    }

    /** A graph initialised with {@code weights} (a state dict in official names, as {@link DiTModel#stateDict()}). */
    public static ComputationGraph create(ComputationGraphConfiguration conf, Map<String, INDArray> weights) {
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        loadStateDict(g, weights);
        return g;
    }

    public static DiTConfig modelConfig(ComputationGraph g) {
        return ((DiTLayer) g.getLayer(MODEL).conf().getLayer()).modelConfig();
    }

    /** Copies a state dict into the graph's parameters (pos_embed, a fixed table, is part of the layer definition). */
    public static void loadStateDict(ComputationGraph g, Map<String, INDArray> weights) {
        DiTConfig c = modelConfig(g);
        StateDicts.check(DiTLayer.FAMILY.shapes(c), weights, "weights for the ComputationGraph");
        Map<String, INDArray> table = g.getLayer(MODEL).paramTable();
        Set<String> buffers = DiTLayer.FAMILY.buffers(c);
        weights.forEach((name, w) -> {
            if (!buffers.contains(name)) table.get(DiTLayer.paramKey(name)).assign(w.castTo(DataType.FLOAT));
        });
    }

    /** The graph's weights as an official state dict (copies). */
    public static Map<String, INDArray> stateDict(ComputationGraph g) {
        return StateDicts.copy(liveStateDict(g));
    }

    /** The graph's weights as an official state dict over the live parameter arrays (buffers from the architecture). */
    public static Map<String, INDArray> liveStateDict(ComputationGraph g) {
        DiTConfig c = modelConfig(g);
        Map<String, INDArray> table = g.getLayer(MODEL).paramTable();
        Map<String, INDArray> buffers = DiTLayer.bufferValues(c);
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String name : DiTLayer.FAMILY.shapes(c).keySet())
            out.put(name, buffers.containsKey(name) ? buffers.get(name) : table.get(DiTLayer.paramKey(name)));
        return out;
    }
}
