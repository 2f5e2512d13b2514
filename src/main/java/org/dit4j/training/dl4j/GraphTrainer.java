package org.dit4j.training.dl4j;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.dit4j.data.TrainingData;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.training.MicroBatches;
import org.dit4j.training.TrainConfig;
import org.dit4j.training.EngineBase;
import org.dit4j.training.Trainer;
import org.dit4j.training.TrainingCheckpoint;
import org.dit4j.util.Slices;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

import java.util.*;

/**
 * The {@code train.py} loop over the ComputationGraph wrapping ({@link DiTGraph}): each optimiser step draws one batch
 * ({@link MicroBatches}, the same draws as the SameDiff trainer), splits it into one shard per worker and hands the
 * shards to an {@link Engine} — ParallelWrapper threads or Spark executors — which trains one averaging round. The
 * driver keeps the EMA after each round and writes the same checkpoints as the SameDiff trainer.
 * <p>
 * The optimiser is DL4J's Adam (with decoupled weight decay): its moments are PyTorch AdamW's exp_avg/exp_avg_sq, so
 * checkpoints move between engines, but it adds ε to √v̂·√(1−β₂ᵗ) rather than to √v̂, a difference only where |g| ≈ ε.
 */
public final class GraphTrainer extends EngineBase {
    /** Trains one averaging round on a graph: shard k goes to worker k. Returns the mean loss of the round. */
    public interface Engine extends AutoCloseable {
        double fitRound(ComputationGraph graph, List<DataSet> shards);

        int workers();

        String describe();

        /**
         * Trains the round of step {@code step}; {@code shards} builds its shards on the driver. Engines whose
         * workers read their own data override it and never call {@code shards}.
         */
        default double fitStep(ComputationGraph graph, long step, java.util.function.LongFunction<List<DataSet>> shards) {
            return fitRound(graph, shards.apply(step));
        }

        @Override
        default void close() {}
    }

    private final ComputationGraph graph;
    private final Engine engine;
    private final MicroBatches batches;
    private final GraphBatches graphBatches;

    /** The graph route takes DiT models only: {@link DiTLayer} is DiT's forward and loss as one DL4J output layer. */
    public GraphTrainer(Denoiser model, TrainingData data, TrainConfig cfg, Engine engine) {
        super(cfg, data);
        if (!(model instanceof DiTModel dit))
            throw new IllegalArgumentException("the " + engine.describe() + " engine trains DiT models only (a " + model.config().family()
                    + " model was given); use the SameDiff trainer");
        DiTConfig m = dit.config();
        data.requireExampleShape(dit.sampleShape());
        data.requireLabels(m.numClasses());
        if (cfg.integer("gradient_accumulation_steps") != 1)
            throw new IllegalArgumentException("gradient_accumulation_steps " + cfg.integer("gradient_accumulation_steps")
                    + " is not supported by the " + engine.describe() + " engine (DL4J updates after every round); use 1");
        if (engine.workers() > cfg.integer("train_batch_size"))
            throw new IllegalArgumentException(engine.workers() + " workers exceed the batch size " + cfg.integer("train_batch_size"));
        this.engine = engine;
        this.batches = new MicroBatches(data, m, cfg, DiTLayer.trainingDiffusion(m.learnSigma()).numTimesteps());
        this.graphBatches = new GraphBatches(m);
        this.graph = DiTGraph.create(configuration(m, cfg, totalSteps()), dit.stateDict());
        startEma(DiTGraph.stateDict(graph));
    }

    public static ComputationGraphConfiguration configuration(DiTConfig m, TrainConfig cfg, long totalSteps) {
        Adam adam = Adam.builder().learningRateSchedule(new LearningRateSchedule(cfg, totalSteps)).beta1(0.9).beta2(0.999).epsilon(1e-8).build();
        return DiTGraph.configuration(m, adam, cfg.real("weight_decay"), cfg.bool("clip_grad") ? cfg.real("max_grad_norm") : 0, cfg.integer("seed"));
    }

    public ComputationGraph graph() {
        return graph;
    }

    @Override
    public ModelConfig modelConfig() {
        return DiTGraph.modelConfig(graph);
    }

    @Override
    protected Map<String, INDArray> liveWeights() {
        return DiTGraph.liveStateDict(graph);
    }

    /** The shards of step {@code step}'s batch, one per worker, sizes differing by at most one. */
    public List<DataSet> shards(long step) {
        int batch = cfg.integer("train_batch_size"), w = engine.workers();
        DataSet all = graphBatches.dataSet(batches.draw(step, batch));
        List<DataSet> out = new ArrayList<>();
        for (int k = 0, start = 0; k < w; k++) {
            int size = batch / w + (k < batch % w ? 1 : 0);
            out.add(new DataSet(Slices.range(all.getFeatures(), 0, start, start + size).dup(),
                    Slices.range(all.getLabels(), 0, start, start + size).dup()));
            start += size;
        }
        return out;
    }

    @Override
    public Log trainStep() {
        long t0 = System.nanoTime();
        double lr = cfg.learningRate(current, totalSteps());
        long step = current;
        double loss = engine.fitStep(graph, step, this::shards);
        if (!Double.isFinite(loss)) throw new Trainer.DivergedException(current, loss);
        if (ema != null) ema.update(DiTGraph.liveStateDict(graph));
        current++;
        // ND4J frees native buffers only when their Java owners are collected (see TrainingStep).
        System.gc();
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Log(current, loss, lr, Double.NaN, 1 / seconds, cfg.integer("train_batch_size") / seconds);
    }

    @Override
    public void restore(TrainingCheckpoint.State s) {
        String source = "checkpoint at step " + s.step();
        Map<String, INDArray> trainable = new LinkedHashMap<>(DiTGraph.liveStateDict(graph));
        trainable.keySet().removeAll(DiTLayer.FAMILY.buffers(DiTGraph.modelConfig(graph)));
        TrainingCheckpoint.checkOptimizerState(s, trainable, source);
        DiTGraph.loadStateDict(graph, s.weights());
        if (ema != null) ema.restore(s.ema() != null ? s.ema() : s.weights(), s.step());
        AdamState.set(graph, s.expAvg(), s.expAvgSq(), s.optimizerSteps());
        current = s.step();
    }

    @Override
    public TrainingCheckpoint.State state() {
        AdamState st = AdamState.of(graph);
        return new TrainingCheckpoint.State(current, st.steps(), DiTGraph.stateDict(graph), ema == null ? null : ema.copy(),
                st.expAvg(), st.expAvgSq(), cfg.asMap());
    }

    @Override
    public String describeEngine() {
        return engine.describe();
    }

    @Override
    public void close() {
        try {
            engine.close();
        } catch (Exception e) {
            throw new IllegalStateException("could not shut the training engine down: " + e.getMessage(), e);
        }
    }
}
