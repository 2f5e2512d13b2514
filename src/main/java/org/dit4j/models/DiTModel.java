package org.dit4j.models;

import org.dit4j.util.Graphs;
import org.dit4j.util.Slices;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.*;

/**
 * A DiT as an executable SameDiff graph with its weights: {@code forward} and {@code forward_with_cfg} as in the
 * official {@code models.py}. The graph is built once and reused for every batch size and every sampling step.
 */
public final class DiTModel {
    public static final String X = "x", T_FREQ = "t_freq", Y = "y", OUTPUT = "output";

    private final DiTConfig cfg;
    private final SameDiff sd;
    private final SameDiffParams params;
    private final DiT dit;

    private DiTModel(DiTConfig cfg, Map<String, INDArray> initial) {
        this.cfg = cfg;
        this.sd = Graphs.create();
        this.params = new SameDiffParams(sd, initial);
        SDVariable x = sd.placeHolder(X, DataType.FLOAT, -1, cfg.inChannels(), cfg.inputSize(), cfg.inputSize());
        SDVariable tFreq = sd.placeHolder(T_FREQ, DataType.FLOAT, -1, TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE);
        SDVariable y = sd.placeHolder(Y, DataType.INT64, -1);
        this.dit = new DiT(params, cfg);
        dit.forward(x, tFreq, y).rename(OUTPUT);
    }

    /** A model with zero weights except the fixed position table; load weights before use. */
    public static DiTModel create(DiTConfig cfg) {
        return new DiTModel(cfg, Map.of("pos_embed", PosEmbed.sincos2d(cfg.hiddenSize(), cfg.gridSize())));
    }

    /**
     * A model whose parameters are {@code weights} themselves (contiguous float32 arrays are taken over, others copied), checked as
     * {@link #loadStateDict} checks them: no zero-filled model beside the loaded one, so loading DiT-XL/2 peaks at one
     * copy of its 2.7 GB instead of two.
     */
    public static DiTModel fromStateDict(DiTConfig cfg, Map<String, INDArray> weights, String source) {
        checkStateDict(ShapeParams.of(cfg), weights, source);
        Map<String, INDArray> initial = new HashMap<>();
        weights.forEach((k, v) -> initial.put(k, v.dataType() == DataType.FLOAT && !v.isView() && v.ordering() == 'c'
                ? v : v.castTo(DataType.FLOAT).dup('c')));
        return new DiTModel(cfg, initial);
    }

    public DiTConfig config() {
        return cfg;
    }

    public SameDiff sameDiff() {
        return sd;
    }

    /** Parameter names and shapes in official state-dict order. */
    public Map<String, long[]> parameterShapes() {
        return Collections.unmodifiableMap(params.shapes());
    }

    public boolean isTrainable(String name) {
        return params.isTrainable(name);
    }

    public long parameterCount() {
        return params.shapes().values().stream().mapToLong(s -> Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum();
    }

    /** Checks {@code weights} against the architecture (every problem listed by name), then copies them in. */
    public void loadStateDict(Map<String, INDArray> weights, String source) {
        checkStateDict(params.shapes(), weights, source);
        // Values are copied into the existing arrays: once a gradient function exists it holds on to them, and
        // replacing them (setArray) would leave it training stale copies.
        for (Map.Entry<String, long[]> e : params.shapes().entrySet())
            sd.getVariable(e.getKey()).getArr().assign(weights.get(e.getKey()).castTo(DataType.FLOAT));
    }

    public static void checkStateDict(Map<String, long[]> expected, Map<String, INDArray> weights, String source) {
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), mismatched = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            INDArray w = weights.get(e.getKey());
            if (w == null) missing.add(e.getKey());
            else if (!Arrays.equals(w.shape(), e.getValue()))
                mismatched.add(e.getKey() + " " + Arrays.toString(w.shape()) + " (expected " + Arrays.toString(e.getValue()) + ")");
        }
        for (String k : weights.keySet()) if (!expected.containsKey(k)) unexpected.add(k);
        if (!missing.isEmpty() || !unexpected.isEmpty() || !mismatched.isEmpty())
            throw new StateDictMismatchException(source, missing, unexpected, mismatched);
    }

    /** The current weights in official order and layout. */
    public Map<String, INDArray> stateDict() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String k : params.shapes().keySet()) out.put(k, sd.getVariable(k).getArr());
        return out;
    }

    /** The placeholders of one forward pass; validates shapes and labels with messages a user can act on. */
    public Map<String, INDArray> placeholders(INDArray x, double[] t, long[] y) {
        long[] s = x.shape();
        long[] want = {-1, cfg.inChannels(), cfg.inputSize(), cfg.inputSize()};
        if (s.length != 4 || s[1] != want[1] || s[2] != want[2] || s[3] != want[3])
            throw new IllegalArgumentException("input has shape " + Arrays.toString(s) + ", the model expects (N, "
                    + cfg.inChannels() + ", " + cfg.inputSize() + ", " + cfg.inputSize() + ")");
        if (t.length != s[0] || y.length != s[0])
            throw new IllegalArgumentException("batch of " + s[0] + " inputs with " + t.length + " timesteps and " + y.length + " labels");
        for (long label : y)
            if (label < 0 || label >= cfg.labelTableRows())
                throw new IllegalArgumentException("class label " + label + " is outside [0, " + cfg.labelTableRows() + ")");
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(X, x.castTo(DataType.FLOAT));
        ph.put(T_FREQ, TimestepEmbedder.frequencyEmbedding(t, TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE));
        ph.put(Y, Nd4j.createFromArray(y));
        return ph;
    }

    /** {@code model.forward(x, t, y)} in eval mode: (N, out_channels, H, W). */
    public INDArray forward(INDArray x, double[] t, long[] y) {
        return forward(x, t, y, OUTPUT).get(OUTPUT);
    }

    /** Several named graph values of one forward pass (intermediates for tests and debugging). */
    public Map<String, INDArray> forward(INDArray x, double[] t, long[] y, String... outputs) {
        Map<String, INDArray> out = new HashMap<>();
        // SameDiff recycles its output buffers on the next call: hand out copies the caller owns.
        sd.output(placeholders(x, t, y), outputs).forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }

    /**
     * {@code forward_with_cfg}: runs the batch {@code cat([x[:N/2], x[:N/2]])} once and mixes conditional and
     * unconditional epsilon with {@code uncond + s·(cond − uncond)} on the chosen channels.
     */
    public INDArray forwardWithCfg(INDArray x, double[] t, long[] y, double cfgScale, GuidanceChannels channels) {
        long n = x.size(0);
        if (n % 2 != 0) throw new IllegalArgumentException("guidance needs an even batch (conditional + null rows), got " + n);
        long half = n / 2;
        INDArray h = rows(x, 0, half);
        INDArray out = forward(Nd4j.concat(0, h, h), t, y);
        long guided = channels == GuidanceChannels.ALL ? cfg.inChannels() : 3;
        INDArray eps = channelRange(out, 0, guided), rest = channelRange(out, guided, out.size(1));
        INDArray cond = rows(eps, 0, half), uncond = rows(eps, half, n);
        INDArray mixed = uncond.add(cond.sub(uncond).muli((float) cfgScale));   // uncond + s·(cond − uncond)
        INDArray guidedEps = Nd4j.concat(0, mixed, mixed);
        return rest.size(1) == 0 ? guidedEps : Nd4j.concat(1, guidedEps, rest);
    }

    private static INDArray rows(INDArray a, long from, long to) {
        return Slices.range(a, 0, from, to);
    }

    private static INDArray channelRange(INDArray a, long from, long to) {
        return Slices.range(a, 1, from, to);
    }
}
