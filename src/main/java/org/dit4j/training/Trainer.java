package org.dit4j.training;

import org.dit4j.data.FitLatents;
import org.dit4j.data.TextImagePairs;
import org.dit4j.data.TrainingData;
import org.dit4j.diffusion.DiffusionConfig;
import org.dit4j.diffusion.EpsilonObjective;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.models.Conditioning;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.StagedModel;
import org.dit4j.models.StateDicts;
import org.dit4j.models.fit.FiTConfig;
import org.dit4j.models.fit.FiTModel;
import org.dit4j.models.uvit.UViTConfig;
import org.dit4j.util.Slices;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.*;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The official {@code train.py} loop on one device: x0 from the data, t uniform over the 1000 training steps, labels
 * dropped to the null class with {@code class_dropout_prob}, the learned-σ loss, AdamW, and an EMA of the weights
 * updated every step. Every random draw of step k comes from (seed, k) alone, so a run resumed from a checkpoint at
 * step k reaches the same weights as one that never stopped. Any family with a {@link StagedModel} view trains here;
 * FiT trains on padded batches of {@link FitLatents} through one staged view per sequence length (and per replica).
 */
public final class Trainer extends EngineBase {
    /** Raised on a NaN or infinite loss; the last checkpoint written before it is intact. */
    public static final class DivergedException extends RuntimeException {
        public DivergedException(long step, double loss) {
            super("loss became " + loss + " at step " + step + "; stopped without saving (the last checkpoint is intact)");
        }
    }

    private final StagedModel model;
    /** The step of the fixed-shape model, or null when steps are made per padded length ({@link #stepFor}). */
    private final TrainingStep step;
    /**
     * FiT: per worker, one step per sequence length, the most recently used kept (each holds its stage graphs and one
     * block's weights).
     */
    private final List<Map<Integer, TrainingStep>> padded = new ArrayList<>();
    static final int PADDED_STEPS_KEPT = 8;
    private final FiTModel fit;
    /** FiT's data-parallel workers beyond the first: replicas that receive the model's weights before every step. */
    private final List<FiTModel> fitReplicas = new ArrayList<>();
    private final int padTo;
    /** The trainable parameters: the model's live arrays, which the optimiser updates in place. */
    private final Map<String, INDArray> trainable;
    /** Data-parallel workers beyond the first: replicas of the model that receive its weights before every step. */
    private final List<StagedModel> replicas = new ArrayList<>();
    private final List<TrainingStep> replicaSteps = new ArrayList<>();
    private final ExecutorService pool;
    private final GaussianDiffusion diffusion;
    private final EpsilonObjective objective;   // null: ADM's training_losses
    private final AdamW optimizer;
    private final MicroBatches batches;

    public Trainer(StagedModel model, TrainingData data, TrainConfig cfg) {
        this(model, data, cfg, 1);
    }

    /**
     * With {@code workers} > 1, each micro-batch is split across that many model replicas computing in parallel and
     * their gradients are averaged, weighted by shard size: synchronous data parallelism that computes the
     * single-device step (every random draw is made once, for the whole batch) up to summation order.
     */
    public Trainer(StagedModel model, TrainingData data, TrainConfig cfg, int workers) {
        super(cfg, data);
        if (workers < 1) throw new IllegalArgumentException("the number of devices must be at least 1, got " + workers);
        if (model.paddedSamples())
            throw new IllegalArgumentException("a " + model.config().family() + " model trains on padded batches: use Trainer(FiTModel, FitLatents, TrainConfig)");
        if (workers > cfg.integer("train_batch_size"))
            throw new IllegalArgumentException(workers + " devices exceed the batch size " + cfg.integer("train_batch_size") + " (each needs an example)");
        ModelConfig m = model.config();
        requireConditioning(m, data);
        data.requireExampleShape(model.sampleShape());
        if (m.numClasses() > 0) data.requireLabels(m.numClasses());   // an unconditional model ignores the labels
        this.model = model;
        this.diffusion = GaussianDiffusion.create(DiffusionConfig.of("").withLearnSigma(m.learnSigma()));
        // U-ViT's processes train with their own objective: train.py/train_ldm.py's VP SDE, or the SD betas
        this.objective = switch (m.process()) {
            case ADM -> null;
            case VP_CONTINUOUS -> EpsilonObjective.continuousVp();
            case SD_DISCRETE -> EpsilonObjective.stableDiffusionDiscrete();
        };
        this.step = objective == null ? new TrainingStep(model, diffusion) : new TrainingStep(model, objective);
        this.trainable = step.trainableParameters();
        this.fit = null;
        this.padTo = 0;
        this.optimizer = new AdamW(cfg.real("start_learning_rate"), cfg.real("beta1"), cfg.real("beta2"), 1e-8, cfg.real("weight_decay"));
        this.batches = objective == null ? new MicroBatches(data, m, cfg, diffusion.numTimesteps()) : new MicroBatches(data, m, cfg, objective);
        startEma(model.stateDict());
        for (int i = 1; i < workers; i++) {
            StagedModel r = (StagedModel) ModelFamilies.of(m).create(m, StateDicts.copy(model.stateDict()), "replica " + i);
            replicas.add(r);
            replicaSteps.add(objective == null ? new TrainingStep(r, diffusion) : new TrainingStep(r, objective));
        }
        pool = workers > 1 ? Executors.newFixedThreadPool(workers - 1, daemonThreads()) : null;
    }

    /** A text-to-image U-ViT trains on text–image pairs whose contexts it takes, and only it trains on them. */
    public static void requireConditioning(ModelConfig m, TrainingData data) {
        boolean t2i = m instanceof UViTConfig u && u.isT2I();
        if (data instanceof TextImagePairs pairs) {
            if (!t2i) throw new IllegalArgumentException(pairs.location() + " holds text–image pairs: train a uvit-t2i model on them, not a "
                    + m.family() + " model (or extract the images without --captions)");
            UViTConfig u = (UViTConfig) m;
            long[] s = pairs.contextShape();
            if (s[0] != u.numClipToken() || s[1] != u.clipDim())
                throw new IllegalArgumentException(pairs.location() + ": caption contexts are " + Arrays.toString(s) + " (" + pairs.textEncoder()
                        + "), the model takes (num_clip_token " + u.numClipToken() + ", clip_dim " + u.clipDim() + ")");
        } else if (t2i) {
            throw new IllegalArgumentException("a uvit-t2i model trains on text–image pairs, not on " + data.describe()
                    + ": extract an MS-COCO folder with dit4j extract-features --captions FILE and train with --features DIR");
        }
    }

    /**
     * FiT on one device (train_fit.py): padded batches of {@code data}, each through the staged view of its length —
     * the batch's longest sequence ({@code pad_to: longest}, the official trim) or {@code target_len} (one graph; the
     * same gradients, a larger VB value since the official loss counts padding there).
     */
    public Trainer(FiTModel model, FitLatents data, TrainConfig cfg) {
        this(model, data, cfg, 1);
    }

    /**
     * FiT over {@code workers} synchronous replicas: each takes a share of the rows of the same padded batch (so every
     * sample's masked loss is what one device computes) and the gradients are averaged by share.
     */
    public Trainer(FiTModel model, FitLatents data, TrainConfig cfg, int workers) {
        super(cfg, data);
        if (workers < 1) throw new IllegalArgumentException("the number of devices must be at least 1, got " + workers);
        if (workers > cfg.integer("train_batch_size"))
            throw new IllegalArgumentException(workers + " devices exceed the batch size " + cfg.integer("train_batch_size") + " (each needs an example)");
        FiTConfig m = model.config();
        data.requireExampleShape(new long[]{m.tokenChannels(), data.targetLen()});
        data.requireLabels(m.numClasses());
        this.fit = model;
        this.padTo = "target_len".equals(cfg.str("pad_to")) ? data.targetLen() : 0;
        this.model = model.staged(data.targetLen());
        this.diffusion = GaussianDiffusion.create(DiffusionConfig.of("").withLearnSigma(m.learnSigma()));
        this.step = null;
        this.objective = null;
        Map<String, INDArray> live = new LinkedHashMap<>();
        model.parameterShapes().keySet().stream().filter(model::isTrainable).forEach(k -> live.put(k, model.stateDict().get(k)));
        this.trainable = live;
        this.optimizer = new AdamW(cfg.real("start_learning_rate"), cfg.real("beta1"), cfg.real("beta2"), 1e-8, cfg.real("weight_decay"));
        this.batches = new MicroBatches(data, m, cfg, diffusion.numTimesteps());
        startEma(model.stateDict());
        for (int i = 0; i < workers; i++) {
            padded.add(new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Integer, TrainingStep> e) {
                    return size() > PADDED_STEPS_KEPT;
                }
            });
            if (i > 0) fitReplicas.add(FiTModel.fromStateDict(m, StateDicts.copy(model.stateDict()), "replica " + i));
        }
        this.pool = workers > 1 ? Executors.newFixedThreadPool(workers - 1, daemonThreads()) : null;
    }

    /** Worker {@code k}'s step for padded sequences of {@code tokens} tokens. */
    private TrainingStep stepFor(int k, int tokens) {
        FiTModel m = k == 0 ? fit : fitReplicas.get(k - 1);
        return padded.get(k).computeIfAbsent(tokens, n -> new TrainingStep(m.staged(n), diffusion));
    }

    /** One padded micro-batch, its rows shared among the workers. */
    private TrainingStep.Result computePadded(MicroBatches.PaddedDraw d) {
        int tokens = (int) d.x0().size(2), n = d.y().length, w = workers();
        if (w == 1) return stepFor(0, tokens).compute(d.x0(), d.t(), d.noise(), new Conditioning(d.y(), null, d.layout()), diffusion);
        for (FiTModel r : fitReplicas) r.loadStateDict(fit.stateDict(), "master weights");
        List<Callable<TrainingStep.Result>> jobs = new ArrayList<>();
        double[] shareOf = new double[w];
        for (int k = 0, start = 0; k < w; k++) {
            int size = n / w + (k < n % w ? 1 : 0), from = start, to = start + size, worker = k;
            start = to;
            shareOf[k] = (double) size / n;
            jobs.add(() -> stepFor(worker, tokens).compute(Slices.range(d.x0(), 0, from, to), Arrays.copyOfRange(d.t(), from, to),
                    Slices.range(d.noise(), 0, from, to), new Conditioning(Arrays.copyOfRange(d.y(), from, to), null, d.layout().rows(from, to)), diffusion));
        }
        return combine(runAll(jobs), shareOf);
    }

    private static java.util.concurrent.ThreadFactory daemonThreads() {
        return r -> {
            Thread t = new Thread(r, "dit4j-worker");
            t.setDaemon(true);
            return t;
        };
    }

    public int workers() {
        return replicas.size() + fitReplicas.size() + 1;
    }

    @Override
    public String describeEngine() {
        if (fit != null) return "SameDiff, " + (workers() == 1 ? "one device" : workers() + " synchronous data-parallel replicas") + ", padded to "
                + (padTo > 0 ? padTo + " tokens" : "each batch's longest sequence");
        return workers() == 1 ? "SameDiff, one device" : "SameDiff, " + workers() + " synchronous data-parallel replicas";
    }

    public int batchSize() {
        return cfg.integer("train_batch_size");
    }

    @Override
    public ModelConfig modelConfig() {
        return model.config();
    }

    @Override
    protected Map<String, INDArray> liveWeights() {
        return model.stateDict();
    }

    /** Continues from a checkpoint: weights, EMA, optimiser moments and step, each checked against the model first. */
    @Override
    public void restore(TrainingCheckpoint.State s) {
        String source = "checkpoint at step " + s.step();
        TrainingCheckpoint.checkOptimizerState(s, trainable, source);
        model.loadStateDict(s.weights(), source);
        if (ema != null) ema.restore(s.ema() != null ? s.ema() : s.weights(), s.step());
        optimizer.restore(s.expAvg(), s.expAvgSq(), s.optimizerSteps());
        current = s.step();
    }

    @Override
    public TrainingCheckpoint.State state() {
        return new TrainingCheckpoint.State(current, optimizer.stepCount(), StateDicts.copy(model.stateDict()), ema == null ? null : ema.copy(),
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
            TrainingStep.Result r;
            if (fit != null) {
                r = computePadded(batches.drawPadded(current * accum + micro, batch, padTo));
            } else {
                MicroBatches.Draw d = batches.draw(current * accum + micro, batch);
                r = computeParallel(d.x0(), d.t(), d.times(), d.noise(), d.y(), d.context());
            }
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
        optimizer.step(trainable, grads, lr);
        if (ema != null) ema.update(model.stateDict());
        current++;
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Log(current, loss, lr, norm, 1 / seconds, (double) batch * accum / seconds);
    }

    /** One batch on the master alone, or split across the replicas: gradients and mean loss weighted by shard size. */
    private TrainingStep.Result computeParallel(INDArray x0, long[] t, double[] times, INDArray noise, long[] y, INDArray context) {
        if (replicas.isEmpty()) return compute(step, x0, t, times, noise, y, context);
        Map<String, INDArray> master = model.stateDict();
        for (StagedModel r : replicas) r.loadStateDict(master, "master weights");
        int n = y.length, w = workers();
        List<Callable<TrainingStep.Result>> jobs = new ArrayList<>();
        double[] shareOf = new double[w];
        for (int k = 0, start = 0; k < w; k++) {
            int size = n / w + (k < n % w ? 1 : 0), from = start, to = start + size;
            start = to;
            shareOf[k] = (double) size / n;
            TrainingStep s = k == 0 ? step : replicaSteps.get(k - 1);
            jobs.add(() -> compute(s, Slices.range(x0, 0, from, to), t == null ? null : Arrays.copyOfRange(t, from, to),
                    times == null ? null : Arrays.copyOfRange(times, from, to), Slices.range(noise, 0, from, to), Arrays.copyOfRange(y, from, to),
                    context == null ? null : Slices.range(context, 0, from, to)));
        }
        return combine(runAll(jobs), shareOf);
    }

    /** Job 0 on this thread, the others on the pool; their results in order. */
    private List<TrainingStep.Result> runAll(List<Callable<TrainingStep.Result>> jobs) {
        List<Future<TrainingStep.Result>> others = new ArrayList<>();
        for (int k = 1; k < jobs.size(); k++) others.add(pool.submit(jobs.get(k)));
        List<TrainingStep.Result> results = new ArrayList<>();
        results.add(callOrThrow(jobs.get(0)));
        for (var f : others) {
            try {
                results.add(f.get());
            } catch (InterruptedException | ExecutionException e) {
                throw new IllegalStateException("a data-parallel worker failed: " + e.getCause(), e.getCause());
            }
        }
        return results;
    }

    /** The batch's loss and gradients from the workers' shares of its rows. */
    private static TrainingStep.Result combine(List<TrainingStep.Result> results, double[] shareOf) {
        Map<String, INDArray> grads = new LinkedHashMap<>();
        double lossMean = 0;
        for (int k = 0; k < results.size(); k++) {
            lossMean += results.get(k).lossMean() * shareOf[k];
            double share = shareOf[k];
            for (var e : results.get(k).gradients().entrySet()) grads.merge(e.getKey(), e.getValue().mul(share), INDArray::addi);
        }
        return new TrainingStep.Result(null, null, null, lossMean, grads);
    }

    private TrainingStep.Result compute(TrainingStep s, INDArray x0, long[] t, double[] times, INDArray noise, long[] y, INDArray context) {
        Conditioning c = context != null ? new Conditioning(null, context, null) : Conditioning.labels(y);
        return objective == null ? s.compute(x0, t, noise, c, diffusion) : s.compute(x0, times, noise, c);
    }

    private static TrainingStep.Result callOrThrow(Callable<TrainingStep.Result> job) {
        try {
            return job.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The x0 prediction of a DiT-objective model, for evaluation: x_t = q_sample(x0, t, noise). */
    public static INDArray predictX0(org.dit4j.models.Denoiser m, INDArray x0, long t, long[] labels, INDArray noise) {
        GaussianDiffusion diffusion = GaussianDiffusion.create(DiffusionConfig.of("").withLearnSigma(m.config().learnSigma()));
        long[] ts = new long[labels.length];
        Arrays.fill(ts, t);
        INDArray xt = diffusion.qSample(x0, ts, noise);
        INDArray out = m.forward(xt, diffusion.modelTimesteps(ts), Conditioning.labels(labels));
        return diffusion.pMeanVarianceFromOutput(out, xt, ts, false).predXstart();
    }
}
