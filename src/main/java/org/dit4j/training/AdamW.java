package org.dit4j.training;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.floating.Sqrt;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.Map;

/**
 * {@code torch.optim.AdamW} (non-amsgrad), step for step. ND4J's Adam puts epsilon outside the bias correction
 * (an effective eps of 3e-7 instead of 1e-8 after one step), so it would not match PyTorch's trajectory.
 */
public final class AdamW {
    private final double lr, beta1, beta2, eps, weightDecay;
    private final Map<String, INDArray> expAvg = new HashMap<>(), expAvgSq = new HashMap<>();
    private final Scratch scratch = new Scratch();
    private long step;

    public AdamW(double lr, double beta1, double beta2, double eps, double weightDecay) {
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** The official {@code train.py} optimiser: lr 1e-4, weight decay 0. */
    public static AdamW officialDefaults() {
        return new AdamW(1e-4, 0.9, 0.999, 1e-8, 0.0);
    }

    public long stepCount() {
        return step;
    }

    /** Updates {@code params} in place from {@code grads} (same keys); parameters without a gradient are left alone. */
    public void step(Map<String, INDArray> params, Map<String, INDArray> grads, double learningRate) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        double stepSize = learningRate / bc1, bc2Sqrt = Math.sqrt(bc2);
        for (Map.Entry<String, INDArray> e : grads.entrySet()) {
            INDArray p = params.get(e.getKey());
            if (p == null) continue;
            INDArray g = e.getValue();
            if (weightDecay != 0) p.muli(1 - learningRate * weightDecay);
            INDArray m = expAvg.computeIfAbsent(e.getKey(), k -> Nd4j.zeros(DataType.FLOAT, p.shape()));
            INDArray v = expAvgSq.computeIfAbsent(e.getKey(), k -> Nd4j.zeros(DataType.FLOAT, p.shape()));
            INDArray s = scratch.like(p);                                    // each temporary in turn, in place
            m.muli(beta1).addi(g.mul(1 - beta1, s));                         // exp_avg.lerp_(grad, 1 − β1)
            v.muli(beta2).addi(g.mul(g, s).muli(1 - beta2));                 // exp_avg_sq·β2 + (1 − β2)·g²
            Nd4j.exec(new Sqrt(v, s)).divi(bc2Sqrt).addi(eps);               // denom
            p.subi(s.rdivi(m).muli(stepSize));                               // m / denom · step size
        }
    }

    public void step(Map<String, INDArray> params, Map<String, INDArray> grads) {
        step(params, grads, lr);
    }

    /** Restores the state saved by a checkpoint: both moment estimates and the step count. */
    public void restore(Map<String, INDArray> avg, Map<String, INDArray> avgSq, long stepCount) {
        expAvg.clear();
        expAvgSq.clear();
        avg.forEach((k, v) -> expAvg.put(k, v.dup()));
        avgSq.forEach((k, v) -> expAvgSq.put(k, v.dup()));
        step = stepCount;
    }

    public Map<String, INDArray> expAvg() {
        return expAvg;
    }

    public Map<String, INDArray> expAvgSq() {
        return expAvgSq;
    }
}
