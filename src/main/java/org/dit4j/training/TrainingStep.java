package org.dit4j.training;

import org.dit4j.diffusion.DiffusionLoss;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.dit4j.util.Quiet;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.*;

/** The diffusion loss attached to a model's graph, its gradients, and optimiser updates applied to the model. */
public final class TrainingStep {
    /** Loss terms (per sample and mean) and the gradient of the mean loss for every trainable parameter. */
    public record Result(INDArray mse, INDArray vb, INDArray loss, double lossMean, Map<String, INDArray> gradients) {}

    private final DiTModel model;
    private final DiffusionLoss loss;
    private final List<String> trainable = new ArrayList<>();

    public TrainingStep(DiTModel model, GaussianDiffusion diffusion) {
        this.model = model;
        this.loss = new DiffusionLoss(diffusion);
        SameDiff sd = model.sameDiff();
        DiTConfig c = model.config();
        if (sd.hasVariable(DiffusionLoss.LOSS_MEAN)) throw new IllegalStateException("the model already has a training loss attached");
        SDVariable out = sd.getVariable(DiTModel.OUTPUT);
        loss.build(sd, out, c.inChannels(), c.inputSize(), c.inputSize());
        sd.setLossVariables(DiffusionLoss.LOSS_MEAN);
        for (String name : model.parameterShapes().keySet()) if (model.isTrainable(name)) trainable.add(name);
        Quiet.run(sd::createGradFunction);
    }

    /** One forward and backward pass: x0 (N,C,H,W), respaced timesteps t, Gaussian noise, labels y (after any dropout). */
    public Result compute(INDArray x0, long[] t, INDArray noise, long[] y, GaussianDiffusion diffusion) {
        Map<String, INDArray> ph = loss.placeholders(x0, t, noise);
        ph.putAll(model.placeholders(ph.get(DiffusionLoss.X_T), diffusion.modelTimesteps(t), y));
        SameDiff sd = model.sameDiff();
        List<String> outputs = new ArrayList<>(trainable);
        boolean learned = diffusion.varType() == GaussianDiffusion.VarType.LEARNED_RANGE;
        var grads = sd.calculateGradientsAndOutputs(ph,
                learned ? List.of(DiffusionLoss.MSE, DiffusionLoss.VB, DiffusionLoss.LOSS, DiffusionLoss.LOSS_MEAN)
                        : List.of(DiffusionLoss.MSE, DiffusionLoss.LOSS, DiffusionLoss.LOSS_MEAN), outputs);
        Map<String, INDArray> g = new LinkedHashMap<>();
        for (String name : trainable) g.put(name, grads.getGradients().get(name).dup());
        Map<String, INDArray> outs = grads.getOutputs();
        Result result = new Result(outs.get(DiffusionLoss.MSE).dup(), learned ? outs.get(DiffusionLoss.VB).dup() : null,
                outs.get(DiffusionLoss.LOSS).dup(), outs.get(DiffusionLoss.LOSS_MEAN).getDouble(0), g);
        // ND4J frees a step's activations (~1 GB per DiT-S/2 sample) only when their Java owners are collected, and
        // a small heap rarely collects: without this, memory grows by a full step's worth every step.
        System.gc();
        return result;
    }

    /** The model's trainable parameters as the live arrays the optimiser updates in place. */
    public Map<String, INDArray> trainableParameters() {
        Map<String, INDArray> p = new LinkedHashMap<>();
        for (String name : trainable) p.put(name, model.sameDiff().getVariable(name).getArr());
        return p;
    }
}
