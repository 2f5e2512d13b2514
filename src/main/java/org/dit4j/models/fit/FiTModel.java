package org.dit4j.models.fit;

import org.dit4j.models.Conditioning;
import org.dit4j.models.Denoiser;
import org.dit4j.models.StateDicts;
import org.dit4j.models.TokenLayout;
import org.dit4j.models.nn.SameDiffParams;
import org.dit4j.models.nn.TimestepEmbedder;
import org.dit4j.runtime.Execution;
import org.dit4j.util.Graphs;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.*;

/**
 * A FiT with its weights: {@code FiT.forward(x, t, y, grid, mask, size)} on padded token sequences, and the same network
 * on latents (N, C, H, W) of any size, patchified and unpatchified in the official (c p1 p2) order. A graph is built per
 * sequence length on first use; all of them share the one set of weight arrays.
 */
public final class FiTModel implements Denoiser {
    public static final String X = "x", T_FREQ = "t_freq", Y = "y", MASK = "mask", COS = "rope_cos", SIN = "rope_sin", OUTPUT = "output";

    private final FiTConfig cfg;
    private final Map<String, INDArray> weights;
    private final Map<String, long[]> shapes;
    private final Map<Integer, SameDiff> graphs = new LinkedHashMap<>();
    private final Execution execution = new Execution();

    private FiTModel(FiTConfig cfg, Map<String, INDArray> weights) {
        this.cfg = cfg;
        this.weights = weights;
        this.shapes = new FiTFamily().shapes(cfg);
    }

    /** A model whose parameters are {@code weights} themselves (float32 contiguous arrays are taken over, others copied). */
    public static FiTModel fromStateDict(FiTConfig cfg, Map<String, INDArray> weights, String source) {
        Map<String, INDArray> own = StateDicts.takeOver(new FiTFamily().shapes(cfg), weights, source);
        return new FiTModel(cfg, own);
    }

    /** The same weights with other RoPE extrapolation settings ({@code --interpolation}, {@code --decouple}). */
    public FiTModel withConfig(FiTConfig other) {
        if (!new FiTFamily().shapes(other).keySet().equals(shapes.keySet()))
            throw new IllegalArgumentException("the new config changes the architecture");
        return new FiTModel(other, weights);
    }

    @Override
    public FiTConfig config() {
        return cfg;
    }

    @Override
    public Map<String, long[]> parameterShapes() {
        return Collections.unmodifiableMap(shapes);
    }

    /** FiTv1 has no frozen tensors: its RoPE tables are computed, not stored. */
    @Override
    public boolean isTrainable(String name) {
        return shapes.containsKey(name);
    }

    @Override
    public Map<String, INDArray> stateDict() {
        return Collections.unmodifiableMap(weights);
    }

    @Override
    public void loadStateDict(Map<String, INDArray> w, String source) {
        StateDicts.assign(shapes, weights, w, source);
    }

    /** Times every op of later planned executions into {@code p} ({@link Execution#profile}); {@code null} stops it. */
    public void profile(org.dit4j.runtime.PlannedExecutor.Profile p) {
        execution.profile(p);
    }

    @Override
    public synchronized List<SameDiff> graphs() {
        return List.copyOf(graphs.values());
    }

    /** The graph for sequences of {@code tokens} tokens. */
    private synchronized SameDiff graph(int tokens) {
        return graphs.computeIfAbsent(tokens, n -> {
            SameDiff sd = Graphs.create();
            SameDiffParams params = new SameDiffParams(sd, weights);
            SDVariable x = sd.placeHolder(X, DataType.FLOAT, -1, cfg.tokenChannels(), n);
            SDVariable tFreq = sd.placeHolder(T_FREQ, DataType.FLOAT, -1, TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE);
            SDVariable y = sd.placeHolder(Y, DataType.INT64, -1);
            SDVariable mask = sd.placeHolder(MASK, DataType.FLOAT, -1, n);
            SDVariable cos = sd.placeHolder(COS, DataType.FLOAT, -1, n, cfg.headDim());
            SDVariable sin = sd.placeHolder(SIN, DataType.FLOAT, -1, n, cfg.headDim());
            new FiT(params, cfg, n).forward(x, tFreq, y, mask, cos, sin).rename(OUTPUT);
            return sd;
        });
    }

    /** This model as stages over padded sequences of {@code tokens} tokens, for training block by block (one view per length). */
    public FiTStaged staged(int tokens) {
        return new FiTStaged(this, tokens);
    }

    /** What the timestep embedder sees: {@code time_shifting·t / (1 + (time_shifting − 1)·t)} in float32, clamped to 1 with {@code time_clamp}. */
    public double[] modelTime(double[] t) {
        double[] out = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            if (!Double.isFinite(t[i])) throw new IllegalArgumentException("timestep " + t[i] + " is not a finite number");
            float tf = (float) t[i], s = cfg.timeShifting();
            tf = s * tf / (1f + (s - 1f) * tf);
            out[i] = cfg.timeClamp() ? Math.min(tf, 1f) : tf;
        }
        return out;
    }

    /** The RoPE of a batch whose largest sampled grid is {@code rows} × {@code cols} tokens (the extrapolation rules' target). */
    public VisionRotaryEmbedding rope(int rows, int cols) {
        int h = cfg.maxPeLenH() > 0 ? cfg.maxPeLenH() : rows, w = cfg.maxPeLenW() > 0 ? cfg.maxPeLenW() : cols;
        int ori = cfg.oriMaxPeLen() > 0 ? cfg.oriMaxPeLen() : cfg.gridSize();
        return new VisionRotaryEmbedding(cfg.headDim(), cfg.ropeTheta(), cfg.customFreqs(), h, w, cfg.decouple(), ori);
    }

    /** The placeholders of one pass over tokens x (N, p·p·C, T); checks every input against the others. */
    public Map<String, INDArray> placeholders(INDArray x, double[] t, long[] y, TokenLayout layout) {
        long[] s = x.shape();
        if (s.length != 3 || s[1] != cfg.tokenChannels())
            throw new IllegalArgumentException("tokens have shape " + Arrays.toString(s) + ", the model expects (N, " + cfg.tokenChannels() + ", T)");
        long n = s[0], tokens = s[2];
        if (tokens < 1 || tokens > FiTConfig.MAX_TOKENS)
            throw new IllegalArgumentException(tokens + " tokens per sample; the model takes 1 to " + FiTConfig.MAX_TOKENS);
        if (y == null) throw new IllegalArgumentException("a FiT needs class labels");
        if (t.length != n || y.length != n)
            throw new IllegalArgumentException("batch of " + n + " inputs with " + t.length + " timesteps and " + y.length + " labels");
        for (long label : y)
            if (label < 0 || label >= cfg.labelTableRows())
                throw new IllegalArgumentException("class label " + label + " is outside [0, " + cfg.labelTableRows() + ")");
        if (layout == null || layout.grid() == null || layout.mask() == null) throw new IllegalArgumentException("a FiT needs a grid and a mask");
        if (!Arrays.equals(layout.grid().shape(), new long[]{n, 2, tokens}))
            throw new IllegalArgumentException("grid has shape " + Arrays.toString(layout.grid().shape()) + ", expected (" + n + ", 2, " + tokens + ")");
        if (!Arrays.equals(layout.mask().shape(), new long[]{n, tokens}))
            throw new IllegalArgumentException("mask has shape " + Arrays.toString(layout.mask().shape()) + ", expected (" + n + ", " + tokens + ")");
        INDArray grid = layout.grid().castTo(DataType.LONG);
        if (grid.minNumber().longValue() < 0 || grid.maxNumber().longValue() > FiTConfig.MAX_TOKENS)
            throw new IllegalArgumentException("grid indices must be in [0, " + FiTConfig.MAX_TOKENS + "]");
        int[] extent = extent(layout, grid);
        VisionRotaryEmbedding.Tables rope = rope(extent[0], extent[1]).tables(grid);
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(X, x.castTo(DataType.FLOAT));
        ph.put(T_FREQ, TimestepEmbedder.frequencyEmbedding(modelTime(t), TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE));
        ph.put(Y, Nd4j.createFromArray(y));
        ph.put(MASK, layout.mask().castTo(DataType.FLOAT));
        ph.put(COS, rope.cos());
        ph.put(SIN, rope.sin());
        return ph;
    }

    /** The largest (rows, columns) of the batch: from {@code sizes} (N, 2) or (N, 1, 2) where given, else from the grid. */
    private static int[] extent(TokenLayout layout, INDArray grid) {
        if (layout.sizes() != null) {
            INDArray s = layout.sizes().reshape(-1, 2).castTo(DataType.LONG);
            return new int[]{s.getColumn(0).maxNumber().intValue(), s.getColumn(1).maxNumber().intValue()};
        }
        return new int[]{grid.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(1)).maxNumber().intValue() + 1,
                grid.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(0)).maxNumber().intValue() + 1};
    }

    /** {@code FiT.forward(x, t, y, grid, mask, size)} in eval mode: tokens (N, p·p·C, T) → (N, p·p·C_out, T). */
    public INDArray forwardTokens(INDArray x, double[] t, long[] y, TokenLayout layout) {
        return forwardTokens(x, t, y, layout, OUTPUT).get(OUTPUT);
    }

    /** Several named graph values of one pass (intermediates for tests and debugging). */
    public Map<String, INDArray> forwardTokens(INDArray x, double[] t, long[] y, TokenLayout layout, String... outputs) {
        Map<String, INDArray> ph = placeholders(x, t, y, layout);
        return execution.output(graph((int) x.size(2)), ph, outputs);   // copies the caller owns
    }

    /** Latents x_t (N, C, H, W) of any size that is a multiple of the patch → (N, C_out, H, W); every token is real. */
    @Override
    public INDArray forward(INDArray x, double[] t, Conditioning c) {
        long[] s = x.shape();
        int p = cfg.patchSize();
        if (s.length != 4 || s[1] != cfg.inChannels() || s[2] % p != 0 || s[3] % p != 0)
            throw new IllegalArgumentException("input has shape " + Arrays.toString(s) + ", the model expects (N, " + cfg.inChannels()
                    + ", H, W) with H and W multiples of " + p);
        int h = (int) (s[2] / p), w = (int) (s[3] / p);
        INDArray out = forwardTokens(patchify(x, p), t, c.labels(), layout((int) s[0], h, w));
        return unpatchify(out, p, h, w);
    }

    /** {@code sample_fit_ddp.py}'s layout of an h × w grid: row-major tokens, all real. */
    public static TokenLayout layout(int n, int h, int w) {
        long[] grid = new long[n * 2 * h * w];
        int t = h * w;
        for (int b = 0; b < n; b++)
            for (int k = 0; k < t; k++) {
                grid[b * 2 * t + k] = k % w;        // row 0: column index
                grid[b * 2 * t + t + k] = k / w;    // row 1: row index
            }
        long[] sizes = new long[2 * n];
        for (int b = 0; b < n; b++) {
            sizes[2 * b] = h;
            sizes[2 * b + 1] = w;
        }
        return new TokenLayout(Nd4j.create(grid, new long[]{n, 2, t}, DataType.LONG), Nd4j.ones(DataType.FLOAT, n, t),
                Nd4j.create(sizes, new long[]{n, 2}, DataType.LONG));
    }

    /** (N, C, h·p, w·p) → (N, C·p·p, h·w), channels in (c p1 p2) order: the inverse of {@link #unpatchify}. */
    public static INDArray patchify(INDArray x, int p) {
        long n = x.size(0), c = x.size(1), h = x.size(2) / p, w = x.size(3) / p;
        INDArray v = x.castTo(DataType.FLOAT).dup('c').reshape('c', n, c, h, p, w, p);   // b c h p1 w p2
        return v.permute(0, 1, 3, 5, 2, 4).dup('c').reshape('c', n, c * p * p, h * w);   // b (c p1 p2) (h w)
    }

    /** {@code FiT.unpatchify}: (N, C·p·p, h·w) → (N, C, h·p, w·p). */
    public static INDArray unpatchify(INDArray x, int p, int h, int w) {
        long n = x.size(0), c = x.size(1) / ((long) p * p);
        INDArray v = x.dup('c').reshape('c', n, c, p, p, h, w);                          // b c p1 p2 h w
        return v.permute(0, 1, 4, 2, 5, 3).dup('c').reshape('c', n, c, (long) h * p, (long) w * p);   // b c (h p1) (w p2)
    }
}
