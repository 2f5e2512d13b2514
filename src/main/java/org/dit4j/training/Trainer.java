package org.dit4j.training;

import org.dit4j.data.TrainingData;
import org.dit4j.diffusion.DiffusionConfig;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.dit4j.util.Slices;

/**
 * The official {@code train.py} loop on one device: x0 from the data, t uniform over the 1000 training steps, labels
 * dropped to the null class with {@code class_dropout_prob}, the learned-σ loss, AdamW, and an EMA of the weights
 * updated every step. Every random draw of step k comes from (seed, k) alone, so a run resumed from a checkpoint at
 * step k reaches the same weights as one that never stopped.
 */
public final class Trainer implements TrainingLoop {
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
    /** Data-parallel workers beyond the first: replicas of the model that receive its weights before every step. */
    private final List<DiTModel> replicas = new ArrayList<>();
    private final List<TrainingStep> replicaSteps = new ArrayList<>();
    private final ExecutorService pool;
    private final GaussianDiffusion diffusion;
    private final TrainingData data;
    private final TrainConfig cfg;
    private final AdamW optimizer;
    private final MicroBatches batches;
    private Map<String, INDArray> ema;
    private long current;

    public Trainer(DiTModel model, TrainingData data, TrainConfig cfg) {
        this(model, data, cfg, 1);
    }

    /**
     * With {@code workers} > 1, each micro-batch is split across that many model replicas computing in parallel and
     * their gradients are averaged, weighted by shard size: synchronous data parallelism that computes the
     * single-device step (every random draw is made once, for the whole batch) up to summation order.
     */
    public Trainer(DiTModel model, TrainingData data, TrainConfig cfg, int workers) {
        if (workers < 1) throw new IllegalArgumentException("--devices must be at least 1");
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
        this.batches = new MicroBatches(data, m, cfg, diffusion.numTimesteps());
        if (cfg.bool("use_ema")) ema = copy(model.stateDict());
        if (workers > batchSize()) throw new IllegalArgumentException("--devices " + workers + " exceeds the batch size " + batchSize());
        for (int i = 1; i < workers; i++) {
            DiTModel r = DiTModel.create(m);
            replicas.add(r);
            replicaSteps.add(new TrainingStep(r, diffusion));
        }
        pool = workers > 1 ? Executors.newFixedThreadPool(workers - 1, daemonThreads()) : null;
    }

    private static java.util.concurrent.ThreadFactory daemonThreads() {
        return r -> {
            Thread t = new Thread(r, "dit4j-worker");
            t.setDaemon(true);
            return t;
        };
    }

    public int workers() {
        return replicas.size() + 1;
    }

    @Override
    public String describeEngine() {
        return workers() == 1 ? "SameDiff, one device" : "SameDiff, " + workers() + " synchronous data-parallel replicas";
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
    @Override
    public long totalSteps() {
        return cfg.totalSteps(data.size());
    }

    @Override
    public long currentStep() {
        return current;
    }

    public Map<String, INDArray> emaWeights() {
        return ema;
    }

    @Override
    public Map<String, INDArray> samplingWeights() {
        return copy(ema != null ? ema : model.stateDict());
    }

    /** Continues from a checkpoint: weights, EMA, optimiser moments and step. */
    @Override
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
    @Override
    public Log trainStep() {
        long t0 = System.nanoTime();
        int accum = cfg.integer("gradient_accumulation_steps"), batch = batchSize();
        Map<String, INDArray> grads = null;
        double loss = 0;
        for (int micro = 0; micro < accum; micro++) {
            MicroBatches.Draw d = batches.draw(current * accum + micro, batch);
            TrainingStep.Result r = computeParallel(d.x0(), d.t(), d.noise(), d.y());
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

    /** One batch on the master alone, or split across the replicas: gradients and mean loss weighted by shard size. */
    private TrainingStep.Result computeParallel(INDArray x0, long[] t, INDArray noise, long[] y) {
        if (replicas.isEmpty()) return step.compute(x0, t, noise, y, diffusion);
        Map<String, INDArray> master = model.stateDict();
        for (DiTModel r : replicas) r.loadStateDict(master, "master weights");
        int n = t.length, w = workers();
        List<java.util.concurrent.Callable<TrainingStep.Result>> jobs = new ArrayList<>();
        double[] shareOf = new double[w];
        for (int k = 0, start = 0; k < w; k++) {
            int size = n / w + (k < n % w ? 1 : 0), from = start, to = start + size;
            start = to;
            shareOf[k] = (double) size / n;
            TrainingStep s = k == 0 ? step : replicaSteps.get(k - 1);
            jobs.add(() -> s.compute(Slices.range(x0, 0, from, to), Arrays.copyOfRange(t, from, to),
                    Slices.range(noise, 0, from, to), Arrays.copyOfRange(y, from, to), diffusion));
        }
        List<java.util.concurrent.Future<TrainingStep.Result>> others = new ArrayList<>();
        for (int k = 1; k < w; k++) others.add(pool.submit(jobs.get(k)));
        List<TrainingStep.Result> results = new ArrayList<>();
        results.add(callOrThrow(jobs.get(0)));
        for (var f : others) {
            try {
                results.add(f.get());
            } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("a data-parallel worker failed: " + e.getCause(), e.getCause());
            }
        }
        Map<String, INDArray> grads = new LinkedHashMap<>();
        double lossMean = 0;
        for (int k = 0; k < w; k++) {
            lossMean += results.get(k).lossMean() * shareOf[k];
            double share = shareOf[k];
            for (var e : results.get(k).gradients().entrySet()) grads.merge(e.getKey(), e.getValue().mul(share), INDArray::addi);
        }
        return new TrainingStep.Result(null, null, null, lossMean, grads);
    }

    private static TrainingStep.Result callOrThrow(java.util.concurrent.Callable<TrainingStep.Result> job) {
        try {
            return job.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The x0 prediction of the current (or EMA) weights, for evaluation: x_t = q_sample(x0, t, noise). */
    public static INDArray predictX0(DiTModel m, INDArray x0, long t, long[] labels, INDArray noise) {
        GaussianDiffusion diffusion = GaussianDiffusion.create(DiffusionConfig.of("").withLearnSigma(m.config().learnSigma()));
        long[] ts = new long[labels.length];
        Arrays.fill(ts, t);
        INDArray xt = diffusion.qSample(x0, ts, noise);
        INDArray out = m.forward(xt, diffusion.modelTimesteps(ts), labels);
        return diffusion.pMeanVarianceFromOutput(out, xt, ts, false).predXstart();
    }

    /** Writes a checkpoint of the current state under {@code runDir/checkpoints} and keeps the newest ckpt_max_keep. */
    @Override
    public Path checkpoint(Path runDir) throws IOException {
        Path dir = TrainingCheckpoint.dirFor(runDir, current);
        TrainingCheckpoint.save(dir, model.config(), state());
        TrainingCheckpoint.prune(runDir, cfg.integer("ckpt_max_keep"));
        return dir;
    }
}
