package org.dit4j.models.dit;

import org.dit4j.models.BlockCaching;
import org.dit4j.models.Conditioning;
import org.dit4j.models.StagedModel;
import org.dit4j.models.StateDicts;
import org.dit4j.models.nn.Params;
import org.dit4j.models.nn.PosEmbed;
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
 * A DiT as an executable SameDiff graph with its weights: {@code forward} as in the official {@code models.py}
 * (guidance is the pipeline's rule, not the model's). The graph is built once and reused for every batch size and
 * every sampling step.
 */
public final class DiTModel implements StagedModel, BlockCaching {
    public static final String X = "x", T_FREQ = "t_freq", Y = "y", OUTPUT = "output";
    /** The carried state of the block stages. */
    public static final String TOKENS = "tokens", C = "c";
    private static final String BLOCK_KIND = "dit";
    /** The cached graphs' placeholders of block i's attention and MLP outputs: {@code blocks.i.cached_attn}, {@code .cached_mlp}. */
    public static final String CACHED_ATTN = ".cached_attn", CACHED_MLP = ".cached_mlp";

    private final DiTConfig cfg;
    private final SameDiff sd;
    private final SameDiffParams params;
    /** Graphs for other grids (h, w), on the same weights with an interpolated position table: experimental. */
    private final Map<List<Integer>, SameDiff> resized = new HashMap<>();
    /** FORA's cached-step graphs by grid (h, w), built on first use on the same weight arrays. */
    private final Map<List<Integer>, SameDiff> cached = new HashMap<>();
    private final Execution execution = new Execution();

    private DiTModel(DiTConfig cfg, Map<String, INDArray> initial) {
        this.cfg = cfg;
        this.sd = Graphs.create();
        this.params = new SameDiffParams(sd, initial);
        Map<String, SDVariable> in = declareInputs(sd);
        new DiT(params, cfg).forward(in.get(X), in.get(T_FREQ), in.get(Y)).rename(OUTPUT);
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
        return new DiTModel(cfg, StateDicts.takeOver(new DiTFamily().shapes(cfg), weights, source));
    }

    @Override
    public DiTConfig config() {
        return cfg;
    }

    public SameDiff sameDiff() {
        return sd;
    }

    @Override
    public synchronized List<SameDiff> graphs() {
        List<SameDiff> all = new ArrayList<>(List.of(sd));
        all.addAll(resized.values());
        all.addAll(cached.values());
        return all;
    }

    @Override
    public Map<String, long[]> parameterShapes() {
        return Collections.unmodifiableMap(params.shapes());
    }

    @Override
    public boolean isTrainable(String name) {
        return params.isTrainable(name);
    }

    @Override
    public void loadStateDict(Map<String, INDArray> weights, String source) {
        StateDicts.check(params.shapes(), weights, source);
        // Values are copied into the existing arrays: once a gradient function exists it holds on to them, and
        // replacing them (setArray) would leave it training stale copies.
        for (Map.Entry<String, long[]> e : params.shapes().entrySet())
            sd.getVariable(e.getKey()).getArr().assign(weights.get(e.getKey()).castTo(DataType.FLOAT));
    }

    @Override
    public Map<String, INDArray> stateDict() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String k : params.shapes().keySet()) out.put(k, sd.getVariable(k).getArr());
        return out;
    }

    /** The placeholders of one forward pass; validates shapes and labels with messages a user can act on. */
    public Map<String, INDArray> placeholders(INDArray x, double[] t, long[] y) {
        long[] s = x.shape();
        if (s.length != 4 || s[1] != cfg.inChannels() || !cfg.takesSize(s[2], s[3]))
            throw new IllegalArgumentException("input has shape " + Arrays.toString(s) + ", the model expects (N, "
                    + cfg.inChannels() + ", " + cfg.inputSize() + ", " + cfg.inputSize() + ") (experimentally, other multiples of "
                    + cfg.patchSize() + ")");
        if (y == null) throw new IllegalArgumentException("a DiT needs class labels");
        if (t.length != s[0] || y.length != s[0])
            throw new IllegalArgumentException("batch of " + s[0] + " inputs with " + t.length + " timesteps and " + y.length + " labels");
        for (double v : t)
            if (!Double.isFinite(v)) throw new IllegalArgumentException("timestep " + v + " is not a finite number");
        for (long label : y)
            if (label < 0 || label >= cfg.labelTableRows())
                throw new IllegalArgumentException("class label " + label + " is outside [0, " + cfg.labelTableRows() + ")");
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(X, x.castTo(DataType.FLOAT));
        ph.put(T_FREQ, TimestepEmbedder.frequencyEmbedding(t, TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE));
        ph.put(Y, Nd4j.createFromArray(y));
        return ph;
    }

    @Override
    public INDArray forward(INDArray x, double[] t, Conditioning c) {
        return forward(x, t, c.labels());
    }

    /** {@code model.forward(x, t, y)} in eval mode: (N, out_channels, H, W). */
    public INDArray forward(INDArray x, double[] t, long[] y) {
        return forward(x, t, y, OUTPUT).get(OUTPUT);
    }

    /** Several named graph values of one forward pass (intermediates for tests and debugging). */
    public Map<String, INDArray> forward(INDArray x, double[] t, long[] y, String... outputs) {
        return execution.output(graph((int) x.size(2), (int) x.size(3)), placeholders(x, t, y), outputs);   // copies the caller owns
    }

    @Override
    public Step forwardStoring(INDArray x, double[] t, Conditioning c) {
        List<String> names = new ArrayList<>(List.of(OUTPUT));
        for (int i = 0; i < cfg.depth(); i++) names.addAll(List.of("blocks." + i + ".attn_out", "blocks." + i + ".mlp_out"));
        Map<String, INDArray> out = forward(x, t, c.labels(), names.toArray(new String[0]));
        List<INDArray> attn = new ArrayList<>(), mlp = new ArrayList<>();
        for (int i = 0; i < cfg.depth(); i++) {
            attn.add(out.get("blocks." + i + ".attn_out"));
            mlp.add(out.get("blocks." + i + ".mlp_out"));
        }
        return new Step(out.get(OUTPUT), new BlockOutputs(attn, mlp));
    }

    @Override
    public INDArray forwardCached(INDArray x, double[] t, Conditioning c, BlockOutputs blocks) {
        int height = (int) x.size(2), width = (int) x.size(3);
        Map<String, INDArray> ph = placeholders(x, t, c.labels());
        long[] want = {x.size(0), (long) (height / cfg.patchSize()) * (width / cfg.patchSize()), cfg.hiddenSize()};
        if (blocks.attn().size() != cfg.depth() || blocks.mlp().size() != cfg.depth())
            throw new IllegalArgumentException("cached block outputs of " + blocks.attn().size() + " blocks, the model has " + cfg.depth());
        for (int i = 0; i < cfg.depth(); i++) {
            for (INDArray a : List.of(blocks.attn().get(i), blocks.mlp().get(i)))
                if (!Arrays.equals(a.shape(), want))
                    throw new IllegalArgumentException("cached output of block " + i + " has shape " + Arrays.toString(a.shape()) + ", this step needs " + Arrays.toString(want));
            ph.put("blocks." + i + CACHED_ATTN, blocks.attn().get(i));
            ph.put("blocks." + i + CACHED_MLP, blocks.mlp().get(i));
        }
        return execution.output(cachedGraph(height, width), ph, OUTPUT).get(OUTPUT);
    }

    /** The graph for (H, W) inputs: the model's own, or one over an interpolated sin-cos table (see {@link DiTConfig#checkSampleSize}). */
    private synchronized SameDiff graph(int height, int width) {
        if (height == cfg.inputSize() && width == cfg.inputSize()) return sd;
        int gh = height / cfg.patchSize(), gw = width / cfg.patchSize();
        return resized.computeIfAbsent(List.of(gh, gw), k -> build(height, width, false));
    }

    /** FORA's cached-step graph for (H, W) inputs. */
    private synchronized SameDiff cachedGraph(int height, int width) {
        return cached.computeIfAbsent(List.of(height / cfg.patchSize(), width / cfg.patchSize()), k -> build(height, width, true));
    }

    /** A graph for (H, W) inputs on this model's weight arrays: the full forward, or FORA's cached step. */
    private SameDiff build(int height, int width, boolean cachedStep) {
        int gh = height / cfg.patchSize(), gw = width / cfg.patchSize();
        Map<String, INDArray> live = new HashMap<>(stateDict());
        if (gh != cfg.gridSize() || gw != cfg.gridSize())
            live.put("pos_embed", PosEmbed.sincos2dInterpolated(cfg.hiddenSize(), cfg.gridSize(), gh, gw));
        SameDiff g = Graphs.create();
        SameDiffParams p = new SameDiffParams(g, live);
        SDVariable xIn = g.placeHolder(X, DataType.FLOAT, -1, cfg.inChannels(), height, width);
        SDVariable tIn = g.placeHolder(T_FREQ, DataType.FLOAT, -1, TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE);
        SDVariable yIn = g.placeHolder(Y, DataType.INT64, -1);
        DiT dit = new DiT(p, cfg, gh, gw);
        if (!cachedStep) {
            dit.forward(xIn, tIn, yIn).rename(OUTPUT);
            return g;
        }
        List<SDVariable> attn = new ArrayList<>(), mlp = new ArrayList<>();
        for (int i = 0; i < cfg.depth(); i++) {
            attn.add(g.placeHolder("blocks." + i + CACHED_ATTN, DataType.FLOAT, -1, (long) gh * gw, cfg.hiddenSize()));   // (N, T, D)
            mlp.add(g.placeHolder("blocks." + i + CACHED_MLP, DataType.FLOAT, -1, (long) gh * gw, cfg.hiddenSize()));     // (N, T, D)
        }
        dit.forwardCached(xIn, tIn, yIn, attn, mlp).rename(OUTPUT);
        return g;
    }

    // ---- the staged view (training.TrainingStep) ----

    @Override
    public long[] sampleShape() {
        return new long[]{cfg.inChannels(), cfg.inputSize(), cfg.inputSize()};
    }

    @Override
    public Map<String, INDArray> inputs(INDArray x, double[] t, Conditioning c) {
        return placeholders(x, t, c.labels());
    }

    @Override
    public Map<String, SDVariable> declareInputs(SameDiff g) {
        return Map.of(X, g.placeHolder(X, DataType.FLOAT, -1, cfg.inChannels(), cfg.inputSize(), cfg.inputSize()),
                T_FREQ, g.placeHolder(T_FREQ, DataType.FLOAT, -1, TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE),
                Y, g.placeHolder(Y, DataType.INT64, -1));
    }

    @Override
    public Map<String, SDVariable> embed(Params p, Map<String, SDVariable> in) {
        DiT.Embedded e = new DiT.Stem(p, cfg).apply(in.get(X), in.get(T_FREQ), in.get(Y), false);
        return Map.of(TOKENS, e.tokens(), C, e.c());
    }

    @Override
    public Map<String, StateSpec> stateSpecs() {
        Map<String, StateSpec> specs = new LinkedHashMap<>();
        specs.put(TOKENS, new StateSpec(new long[]{cfg.numPatches(), cfg.hiddenSize()}, true));   // (T, D)
        specs.put(C, new StateSpec(new long[]{cfg.hiddenSize()}, true));                          // (D)
        return specs;
    }

    /** Every block reads the tokens and c and writes the tokens. */
    @Override
    public List<BlockCall> blockCalls() {
        List<BlockCall> calls = new ArrayList<>();
        for (int i = 0; i < cfg.depth(); i++)
            calls.add(new BlockCall(BLOCK_KIND, "blocks." + i, Map.of("x", TOKENS, "c", C), Map.of(TOKENS, "x")));
        return calls;
    }

    @Override
    public Map<String, SDVariable> block(String kind, Params p, String prefix, Map<String, SDVariable> in) {
        if (!kind.equals(BLOCK_KIND)) throw new IllegalArgumentException("DiT has no block kind '" + kind + "'");
        return Map.of("x", new DiTBlock(p, prefix, cfg).apply(in.get("x"), in.get("c")));   // (N, T, D)
    }

    @Override
    public SDVariable head(Params p, Map<String, SDVariable> state, Map<String, SDVariable> inputs) {
        return new DiT.Head(p, cfg).apply(state.get(TOKENS), state.get(C));                // (N, out, H, W)
    }
}
