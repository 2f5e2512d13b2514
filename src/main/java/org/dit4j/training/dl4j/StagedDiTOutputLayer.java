package org.dit4j.training.dl4j;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.samediff.SameDiffOutputLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.dit4j.diffusion.DiffusionLoss;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.training.TrainingStep;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

/**
 * {@link DiTLayer} at run time: its backward pass is the one-device trainer's {@link TrainingStep} (block by block, each
 * block's forward recomputed), not DL4J's differentiation of the layer's whole SameDiff graph, which keeps every
 * intermediate of every block alive at once (DiT-S/2 at batch 8: ~20 GB). The forward ({@code output()}) stays that graph.
 * <p>
 * The step runs on its own copy of the weights, refreshed from DL4J's parameter views before each pass (DL4J's updater
 * writes those views in place), and hands back the gradient of the summed loss that DL4J's updater divides by the batch size.
 */
final class StagedDiTOutputLayer extends SameDiffOutputLayer {
    private DiTConfig config;
    private DiTModel model;
    private TrainingStep step;
    private DiffusionLoss loss;
    private double lossSum;                // of the last backward pass: DL4J asks for the score right after it
    private INDArray scoredInput, scoredLabels;

    StagedDiTOutputLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        if (labels == null) throw new IllegalStateException("DiTLayer: no labels (the packed loss targets) for the backward pass");
        if (step == null) {
            config = ((DiTLayer) layerConf()).modelConfig();
            model = DiTModel.create(config);
            GaussianDiffusion diffusion = DiTLayer.trainingDiffusion(config.learnSigma());
            step = new TrainingStep(model, diffusion);
            loss = new DiffusionLoss(diffusion);
        }
        Map<String, INDArray> weights = model.stateDict();
        paramTable.forEach((key, view) -> weights.get(DiTLayer.officialName(key)).assign(view));
        long n = input.size(0);
        TrainingStep.Result r = step.compute(GraphBatches.modelInputs(config, input), loss.unpackLabels(labels, config.inChannels(), config.inputSize(), config.inputSize()));
        lossSum = r.lossMean() * n;
        scoredInput = input;
        scoredLabels = labels;
        Gradient g = new DefaultGradient();
        for (Map.Entry<String, INDArray> e : gradTable.entrySet()) {
            e.getValue().assign(r.gradients().get(DiTLayer.officialName(e.getKey()))).muli(n);
            g.gradientForVariable().put(e.getKey(), e.getValue());
        }
        return new Pair<>(g, Nd4j.zeros(input.dataType(), input.shape()));   // the input is data: nothing flows back into it
    }

    /** After a backward pass on the same batch, its loss (DL4J scores a training step after its gradients); otherwise the whole-graph forward. */
    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (input != scoredInput || labels != scoredLabels) return super.computeScore(fullNetRegTerm, training, workspaceMgr);
        return (lossSum + fullNetRegTerm) / input.size(0);
    }
}
