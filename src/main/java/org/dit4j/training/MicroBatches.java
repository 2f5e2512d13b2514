package org.dit4j.training;

import org.dit4j.data.DataOrder;
import org.dit4j.data.FitLatents;
import org.dit4j.data.TextImagePairs;
import org.dit4j.data.TrainingData;
import org.dit4j.diffusion.EpsilonObjective;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.TokenLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

/**
 * Every random draw of {@code train.py}'s loop for one micro-batch, made from (seed, draw index) alone: the examples,
 * their flips, the labels dropped to the null class, the timesteps and the noise (and the data's own draws: a VAE
 * posterior sample; for text–image pairs, each example's caption and whether the empty context replaces it). All training engines (one device,
 * replicas, ParallelWrapper, Spark) take their batches from here, so they see the same data.
 */
public final class MicroBatches {
    /**
     * x0 (B, C, H, W), the timesteps — ADM's respaced integer t, or (an {@link EpsilonObjective}) its continuous t or
     * discrete n in {@code times}, the other null — Gaussian noise shaped like x0, labels after dropout, and for
     * {@link TextImagePairs} the caption contexts (B, L, D) after dropout to the empty context (null otherwise).
     */
    public record Draw(INDArray x0, long[] t, double[] times, INDArray noise, long[] y, INDArray context) {}

    private final TrainingData data;
    private final DataOrder order;
    private final ModelConfig model;
    private final long seed;
    private final boolean randomFlip;
    private final int numTimesteps;
    private final EpsilonObjective objective;

    public MicroBatches(TrainingData data, ModelConfig model, TrainConfig cfg, int numTimesteps) {
        this(data, model, cfg, numTimesteps, null);
    }

    /** Times drawn as {@code objective} draws them (U-ViT's t ~ U[0, 1) or n uniform in 1..N). */
    public MicroBatches(TrainingData data, ModelConfig model, TrainConfig cfg, EpsilonObjective objective) {
        this(data, model, cfg, 0, objective);
    }

    private MicroBatches(TrainingData data, ModelConfig model, TrainConfig cfg, int numTimesteps, EpsilonObjective objective) {
        this.objective = objective;
        this.data = data;
        this.model = model;
        this.seed = cfg.integer("seed");
        this.randomFlip = cfg.bool("random_flip");
        this.numTimesteps = numTimesteps;
        this.order = new DataOrder(data.size(), seed);
    }

    /** A padded micro-batch (FiT): tokens x0 (B, p·p·C, N), timesteps, noise shaped like x0, labels after dropout, the layout. */
    public record PaddedDraw(INDArray x0, long[] t, INDArray noise, long[] y, TokenLayout layout) {}

    /**
     * Micro-batch number {@code draw} of FiT latents, padded to its longest sequence ({@code padTo} 0, as train_fit.py
     * trims) or to {@code padTo} tokens; the draws are {@link #draw}'s, plus which copy ("copy") under {@code random}.
     */
    public PaddedDraw drawPadded(long draw, int batch, int padTo) {
        if (!(data instanceof FitLatents fit)) throw new IllegalStateException("padded batches need FiT latents");
        long[] indices = order.indices(draw * batch, batch);
        SplittableRandom flipRng = DataOrder.stream(seed, draw, "flip"), copyRng = DataOrder.stream(seed, draw, "copy"),
                dropRng = DataOrder.stream(seed, draw, "label-drop"), tRng = DataOrder.stream(seed, draw, "t"),
                noiseRng = DataOrder.stream(seed, draw, "noise");
        boolean[] flips = new boolean[batch];
        double[] copy = new double[batch];
        for (int i = 0; i < batch; i++) {
            flips[i] = randomFlip && flipRng.nextDouble() < 0.5;
            copy[i] = copyRng.nextDouble();
        }
        FitLatents.Padded b = fit.batch(indices, flips, copy, padTo);
        long[] y = new long[batch], t = new long[batch];
        for (int i = 0; i < batch; i++) {
            y[i] = dropRng.nextDouble() < model.labelDropout() ? model.nullLabel() : b.labels()[i];
            t[i] = tRng.nextInt(numTimesteps);
        }
        // train_fit.py's randn_like(x_start): noise at the padding too.
        float[] noise = new float[(int) b.x().length()];
        for (int i = 0; i < noise.length; i++) noise[i] = (float) noiseRng.nextGaussian();
        return new PaddedDraw(b.x(), t, Nd4j.create(noise, b.x().shape(), 'c'), y, new TokenLayout(b.grid(), b.mask(), b.sizes()));
    }

    /** Micro-batch number {@code draw} (= step · accumulation + micro) of {@code batch} examples. */
    public Draw draw(long draw, int batch) {
        long[] indices = order.indices(draw * batch, batch);
        SplittableRandom flipRng = DataOrder.stream(seed, draw, "flip"), dropRng = DataOrder.stream(seed, draw, "label-drop"),
                tRng = DataOrder.stream(seed, draw, "t"), noiseRng = DataOrder.stream(seed, draw, "noise");
        boolean[] flips = new boolean[batch];
        if (randomFlip) for (int i = 0; i < batch; i++) flips[i] = flipRng.nextDouble() < 0.5;
        TrainingData.Batch b = data.batch(indices, flips, draw);
        long[] y = new long[batch], t = objective == null ? new long[batch] : null;
        boolean[] dropped = new boolean[batch];
        for (int i = 0; i < batch; i++) {
            dropped[i] = dropRng.nextDouble() < model.labelDropout();
            y[i] = dropped[i] ? model.nullLabel() : b.labels()[i];
            if (t != null) t[i] = tRng.nextInt(numTimesteps);
        }
        // CFGDataset's p_uncond: the same draws that drop a label replace a caption with the empty prompt
        INDArray context = data instanceof TextImagePairs pairs ? pairs.contexts(indices, DataOrder.stream(seed, draw, "caption"), dropped) : null;
        double[] times = objective == null ? null : objective.drawTimes(batch, tRng);
        float[] noise = new float[(int) b.x().length()];
        for (int i = 0; i < noise.length; i++) noise[i] = (float) noiseRng.nextGaussian();
        return new Draw(b.x().castTo(DataType.FLOAT), t, times, Nd4j.create(noise, b.x().shape(), 'c'), y, context);
    }

    /**
     * Rows [from, to) of {@code draw(draw, batch)}, reading only their examples: how a Spark executor builds its own
     * shard of a batch from data it reads itself. Each generator is run past the rows before {@code from}, so the rows
     * equal the full draw's for data whose examples do not depend on the rest of the batch (latents, images).
     */
    public Draw rows(long draw, int batch, int from, int to) {
        if (from < 0 || to > batch || from >= to) throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a batch of " + batch);
        if (objective != null || data instanceof TextImagePairs) throw new IllegalStateException("executor rows are drawn for ADM's process only (Spark trains DiT)");
        int n = to - from;
        long[] indices = order.indices(draw * batch + from, n);
        SplittableRandom flipRng = DataOrder.stream(seed, draw, "flip"), dropRng = DataOrder.stream(seed, draw, "label-drop"),
                tRng = DataOrder.stream(seed, draw, "t"), noiseRng = DataOrder.stream(seed, draw, "noise");
        boolean[] flips = new boolean[n];
        if (randomFlip) for (int i = 0; i < to; i++) {
            boolean f = flipRng.nextDouble() < 0.5;
            if (i >= from) flips[i - from] = f;
        }
        TrainingData.Batch b = data.batch(indices, flips, draw);
        long[] y = new long[n], t = new long[n];
        for (int i = 0; i < to; i++) {
            boolean drop = dropRng.nextDouble() < model.labelDropout();
            int ti = tRng.nextInt(numTimesteps);
            if (i < from) continue;
            y[i - from] = drop ? model.nullLabel() : b.labels()[i - from];
            t[i - from] = ti;
        }
        long perRow = b.x().length() / n;
        for (long i = 0; i < from * perRow; i++) noiseRng.nextGaussian();
        float[] noise = new float[(int) b.x().length()];
        for (int i = 0; i < noise.length; i++) noise[i] = (float) noiseRng.nextGaussian();
        return new Draw(b.x().castTo(DataType.FLOAT), t, null, Nd4j.create(noise, b.x().shape(), 'c'), y, null);
    }
}
