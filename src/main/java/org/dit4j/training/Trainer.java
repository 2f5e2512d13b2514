package org.dit4j.training;

import org.dit4j.data.DataOrder;
import org.dit4j.data.TrainingData;
import org.dit4j.diffusion.DiffusionConfig;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.*;

/**
 * The official {@code train.py} loop on one device: x0 from the data, t uniform over the 1000 training steps, labels
 * dropped to the null class with {@code class_dropout_prob}, the learned-σ loss, AdamW, and an EMA of the weights
 * updated every step. Every random draw of step k comes from (seed, k) alone, so a run resumed from a checkpoint at
 * step k reaches the same weights as one that never stopped.
 */
public final class Trainer {
    /** One logged step. */
    public record Log(long step, double loss, double learningRate, double gradNorm, double stepsPerSecond, double imagesPerSecond) {}

    /** Raised on a NaN or infinite loss; the last checkpoint written before it is intact. */
    public static final class DivergedException extends RuntimeException {
        public DivergedException(long step, double loss) {
            super("loss became " + loss + " at step " + step + "; stopped without saving (the last checkpoint is intact)");
        }
    }

    private final DiTModel model;
    private final TrainingStep step;
    private final GaussianDiffusion diffusion;
    private final TrainingData data;
    private final TrainConfig cfg;
    private final AdamW optimizer;
    private final DataOrder order;
    private Map<String, INDArray> ema;
    private long current;

    public Trainer(DiTModel model, TrainingData data, TrainConfig cfg) {
        long[] shape = data.exampleShape();
        DiTConfig m = model.config();
        if (shape[0] != m.inChannels() || shape[1] != m.inputSize() || shape[2] != m.inputSize())
            throw new IllegalArgumentException("training examples are " + Arrays.toString(shape) + ", the model takes (" + m.inChannels()
                    + ", " + m.inputSize() + ", " + m.inputSize() + ")");
        this.model = model;
        this.data = data;
        this.cfg = cfg;
        this.diffusion = GaussianDiffusion.create(DiffusionConfig.of("").withLearnSigma(m.learnSigma()));
        this.step = new TrainingStep(model, diffusion);
        this.optimizer = new AdamW(cfg.real("start_learning_rate"), 0.9, 0.999, 1e-8, cfg.real("weight_decay"));
        this.order = new DataOrder(data.size(), cfg.integer("seed"));
        if (cfg.bool("use_ema")) ema = copy(model.stateDict());
    }

    private static Map<String, INDArray> copy(Map<String, INDArray> m) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }

    public int batchSize() {
        return cfg.integer("train_batch_size");
    }

    /** Total optimiser steps: max_steps, or as many as the epochs take. */
    public long totalSteps() {
        int max = cfg.integer("max_steps");
        if (max > 0) return max;
        long perEpoch = Math.max(1, data.size() / ((long) batchSize() * cfg.integer("gradient_accumulation_steps")));
        return perEpoch * cfg.integer("epochs");
    }

    public long currentStep() {
        return current;
    }

    public Map<String, INDArray> emaWeights() {
        return ema;
    }

    /** Continues from a checkpoint: weights, EMA, optimiser moments and step. */
    public void restore(TrainingCheckpoint.State s) {
        model.loadStateDict(s.weights(), "checkpoint at step " + s.step());
        if (ema != null) ema = copy(s.ema() != null ? s.ema() : s.weights());
        optimizer.restore(s.expAvg(), s.expAvgSq(), s.optimizerSteps());
        current = s.step();
    }

    public TrainingCheckpoint.State state() {
        return new TrainingCheckpoint.State(current, optimizer.stepCount(), copy(model.stateDict()), ema == null ? null : copy(ema),
                optimizer.expAvg(), optimizer.expAvgSq(), cfg.asMap());
    }

    /** One optimiser step (over gradient_accumulation_steps micro-batches); returns the mean loss. */
    public Log trainStep() {
        long t0 = System.nanoTime();
        int accum = cfg.integer("gradient_accumulation_steps"), batch = batchSize(), seed = cfg.integer("seed");
        DiTConfig m = model.config();
        Map<String, INDArray> grads = null;
        double loss = 0;
        for (int micro = 0; micro < accum; micro++) {
            long draw = current * accum + micro;
            long[] indices = order.indices(draw * batch, batch);
            SplittableRandom flipRng = DataOrder.stream(seed, draw, "flip"), dropRng = DataOrder.stream(seed, draw, "label-drop"),
                    tRng = DataOrder.stream(seed, draw, "t"), noiseRng = DataOrder.stream(seed, draw, "noise");
            boolean[] flips = new boolean[batch];
            if (cfg.bool("random_flip")) for (int i = 0; i < batch; i++) flips[i] = flipRng.nextDouble() < 0.5;
            TrainingData.Batch b = data.batch(indices, flips);
            long[] y = new long[batch], t = new long[batch];
            for (int i = 0; i < batch; i++) {
                y[i] = dropRng.nextDouble() < m.classDropoutProb() ? m.numClasses() : b.labels()[i];
                t[i] = tRng.nextInt(diffusion.numTimesteps());
            }
            float[] noise = new float[(int) b.x().length()];
            for (int i = 0; i < noise.length; i++) noise[i] = (float) noiseRng.nextGaussian();
            TrainingStep.Result r = step.compute(b.x().castTo(DataType.FLOAT), t, Nd4j.create(noise, b.x().shape(), 'c'), y, diffusion);
            if (!Double.isFinite(r.lossMean())) throw new DivergedException(current, r.lossMean());
            loss += r.lossMean() / accum;
            if (grads == null) {
                grads = r.gradients();
                if (accum > 1) grads.values().forEach(g -> g.divi(accum));
            } else {
                for (var e : r.gradients().entrySet()) grads.get(e.getKey()).addi(e.getValue().div(accum));
            }
        }
        double norm = 0;
        for (INDArray g : grads.values()) norm += g.norm2Number().doubleValue() * g.norm2Number().doubleValue();
        norm = Math.sqrt(norm);
        if (cfg.bool("clip_grad") && norm > cfg.real("max_grad_norm")) {
            double scale = cfg.real("max_grad_norm") / (norm + 1e-6);
            grads.values().forEach(g -> g.muli(scale));
        }
        double lr = cfg.learningRate(current, totalSteps());
        Map<String, INDArray> params = step.trainableParameters();
        optimizer.step(params, grads, lr);
        if (ema != null) {
            float decay = (float) cfg.real("ema_decay");
            for (var e : model.stateDict().entrySet()) ema.get(e.getKey()).muli(decay).addi(e.getValue().mul(1 - decay));
        }
        current++;
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Log(current, loss, lr, norm, 1 / seconds, (double) batch * accum / seconds);
    }

    /** The x0 prediction of the current (or EMA) weights, for evaluation: x_t = q_sample(x0, t, noise). */
    public INDArray predictX0(DiTModel m, INDArray x0, long t, long[] labels, INDArray noise) {
        long[] ts = new long[labels.length];
        Arrays.fill(ts, t);
        INDArray xt = diffusion.qSample(x0, ts, noise);
        INDArray out = m.forward(xt, diffusion.modelTimesteps(ts), labels);
        return diffusion.pMeanVarianceFromOutput(out, xt, ts, false).predXstart();
    }

    /** Writes a checkpoint of the current state under {@code runDir/checkpoints} and keeps the newest ckpt_max_keep. */
    public Path checkpoint(Path runDir) throws IOException {
        Path dir = TrainingCheckpoint.dirFor(runDir, current);
        TrainingCheckpoint.save(dir, model.config(), state());
        TrainingCheckpoint.prune(runDir, cfg.integer("ckpt_max_keep"));
        return dir;
    }
}
