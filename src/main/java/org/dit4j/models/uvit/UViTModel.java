package org.dit4j.models.uvit;

import org.dit4j.models.Conditioning;
import org.dit4j.models.StagedModel;
import org.dit4j.models.StateDicts;
import org.dit4j.models.nn.Params;
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
 * A U-ViT as an executable SameDiff graph with its weights: {@code nnet(x, timesteps, y=...)} or
 * {@code nnet(x, timesteps, context)}, ε out. The graph is built once and reused for every batch size and step.
 */
public final class UViTModel implements StagedModel {
    public static final String X = "x", T_EMB = "t_emb", Y = "y", CONTEXT = "context", OUTPUT = "output";
    /** The carried state of the block stages: the tokens, and each in-block's output until its out-block pops it. */
    public static final String TOKENS = "tokens", SKIP = "skip.";
    private static final String PLAIN = "block", WITH_SKIP = "skip_block";

    private final UViTConfig cfg;
    private final SameDiff sd;
    private final SameDiffParams params;
    private final Execution execution = new Execution();

    private UViTModel(UViTConfig cfg, Map<String, INDArray> initial) {
        this.cfg = cfg;
        this.sd = Graphs.create();
        this.params = new SameDiffParams(sd, initial);
        Map<String, SDVariable> in = declareInputs(sd);
        new UViT(params, cfg).forward(in.get(X), in.get(T_EMB), in.get(Y), in.get(CONTEXT)).rename(OUTPUT);
    }

    /** A model whose parameters are {@code weights} themselves (contiguous float32 arrays taken over, others copied), checked first. */
    public static UViTModel fromStateDict(UViTConfig cfg, Map<String, INDArray> weights, String source) {
        return new UViTModel(cfg, StateDicts.takeOver(new UViTFamily(cfg.family()).shapes(cfg), weights, source));
    }

    @Override
    public UViTConfig config() {
        return cfg;
    }

    public SameDiff sameDiff() {
        return sd;
    }

    /** Times every op of later planned executions into {@code p} ({@link Execution#profile}); {@code null} stops it. */
    public void profile(org.dit4j.runtime.PlannedExecutor.Profile p) {
        execution.profile(p);
    }

    @Override
    public List<SameDiff> graphs() {
        return List.of(sd);
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
        // Copied into the existing arrays: a gradient function created earlier holds on to them.
        for (String k : params.shapes().keySet()) sd.getVariable(k).getArr().assign(weights.get(k).castTo(DataType.FLOAT));
    }

    @Override
    public Map<String, INDArray> stateDict() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String k : params.shapes().keySet()) out.put(k, sd.getVariable(k).getArr());
        return out;
    }

    /** The placeholders of one pass; shapes, labels and contexts checked with messages a user can act on. */
    public Map<String, INDArray> placeholders(INDArray x, double[] t, Conditioning c) {
        long[] s = x.shape();
        int size = cfg.imgSize();
        if (s.length != 4 || s[1] != cfg.inChans() || s[2] != size || s[3] != size)
            throw new IllegalArgumentException("input has shape " + Arrays.toString(s) + ", the model expects (N, "
                    + cfg.inChans() + ", " + size + ", " + size + ")");
        if (t.length != s[0]) throw new IllegalArgumentException("batch of " + s[0] + " inputs with " + t.length + " timesteps");
        for (double v : t) if (!Double.isFinite(v)) throw new IllegalArgumentException("timestep " + v + " is not a finite number");
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(X, x.castTo(DataType.FLOAT));
        ph.put(T_EMB, TimestepEmbedder.frequencyEmbedding(t, cfg.embedDim()));
        if (cfg.hasLabels()) {
            long[] y = c == null ? null : c.labels();
            if (y == null) throw new IllegalArgumentException("a class-conditional U-ViT needs class labels");
            if (y.length != s[0]) throw new IllegalArgumentException("batch of " + s[0] + " inputs with " + y.length + " labels");
            for (long label : y)
                if (label < 0 || label >= cfg.numClassesArg())
                    throw new IllegalArgumentException("class label " + label + " is outside [0, " + cfg.numClassesArg() + ")");
            ph.put(Y, Nd4j.createFromArray(y));
        }
        if (cfg.isT2I()) {
            INDArray ctx = c == null ? null : c.context();
            if (ctx == null) throw new IllegalArgumentException("a text-to-image U-ViT needs a text context (N, " + cfg.numClipToken() + ", " + cfg.clipDim() + ")");
            long[] cs = ctx.shape();
            if (cs.length != 3 || cs[0] != s[0] || cs[1] != cfg.numClipToken() || cs[2] != cfg.clipDim())
                throw new IllegalArgumentException("text context has shape " + Arrays.toString(cs) + ", the model expects (" + s[0] + ", "
                        + cfg.numClipToken() + ", " + cfg.clipDim() + ") (num_clip_token, clip_dim)");
            ph.put(CONTEXT, ctx.castTo(DataType.FLOAT));
        }
        return ph;
    }

    @Override
    public INDArray forward(INDArray x, double[] t, Conditioning c) {
        return forward(x, t, c, OUTPUT).get(OUTPUT);
    }

    /** Several named graph values of one forward pass (intermediates for tests and debugging), as copies. */
    public Map<String, INDArray> forward(INDArray x, double[] t, Conditioning c, String... outputs) {
        return execution.output(sd, placeholders(x, t, c), outputs);
    }

    // ---- the staged view (training.TrainingStep) ----

    @Override
    public long[] sampleShape() {
        return new long[]{cfg.inChans(), cfg.imgSize(), cfg.imgSize()};
    }

    @Override
    public Map<String, INDArray> inputs(INDArray x, double[] t, Conditioning c) {
        return placeholders(x, t, c);
    }

    @Override
    public Map<String, SDVariable> declareInputs(SameDiff g) {
        Map<String, SDVariable> in = new HashMap<>();
        in.put(X, g.placeHolder(X, DataType.FLOAT, -1, cfg.inChans(), cfg.imgSize(), cfg.imgSize()));
        in.put(T_EMB, g.placeHolder(T_EMB, DataType.FLOAT, -1, cfg.embedDim()));
        if (cfg.hasLabels()) in.put(Y, g.placeHolder(Y, DataType.INT64, -1));
        if (cfg.isT2I()) in.put(CONTEXT, g.placeHolder(CONTEXT, DataType.FLOAT, -1, cfg.numClipToken(), cfg.clipDim()));
        return in;
    }

    private int skips() {
        return cfg.skip() ? cfg.depth() / 2 : 0;
    }

    /** The tokens; each skip state starts as the embedded tokens and is overwritten by its in-block before it is read. */
    @Override
    public Map<String, SDVariable> embed(Params p, Map<String, SDVariable> in) {
        SDVariable tokens = new UViT.Stem(p, cfg).apply(in.get(X), in.get(T_EMB), in.get(Y), in.get(CONTEXT));   // (N, T, D)
        Map<String, SDVariable> state = new LinkedHashMap<>();
        state.put(TOKENS, tokens);
        for (int i = 0; i < skips(); i++) state.put(SKIP + i, tokens);
        return state;
    }

    @Override
    public Map<String, StateSpec> stateSpecs() {
        Map<String, StateSpec> specs = new LinkedHashMap<>();
        long[] shape = {cfg.numTokens(), cfg.embedDim()};                                      // (T, D)
        specs.put(TOKENS, new StateSpec(shape, true));
        for (int i = 0; i < skips(); i++) specs.put(SKIP + i, new StateSpec(shape, true));
        return specs;
    }

    /** in_blocks.i write the tokens and skip i; out_blocks.i read skip (depth/2 − 1 − i): the official {@code skips.pop()}. */
    @Override
    public List<BlockCall> blockCalls() {
        List<BlockCall> calls = new ArrayList<>();
        int half = cfg.depth() / 2;
        for (int i = 0; i < half; i++) {
            Map<String, String> writes = new LinkedHashMap<>();
            writes.put(TOKENS, "x");
            if (cfg.skip()) writes.put(SKIP + i, "x");
            calls.add(new BlockCall(PLAIN, "in_blocks." + i, Map.of("x", TOKENS), writes));
        }
        calls.add(new BlockCall(PLAIN, "mid_block", Map.of("x", TOKENS), Map.of(TOKENS, "x")));
        for (int i = 0; i < half; i++)
            calls.add(cfg.skip()
                    ? new BlockCall(WITH_SKIP, "out_blocks." + i, Map.of("x", TOKENS, "skip", SKIP + (half - 1 - i)), Map.of(TOKENS, "x"))
                    : new BlockCall(PLAIN, "out_blocks." + i, Map.of("x", TOKENS), Map.of(TOKENS, "x")));
        return calls;
    }

    @Override
    public Map<String, SDVariable> block(String kind, Params p, String prefix, Map<String, SDVariable> in) {
        if (!kind.equals(PLAIN) && !kind.equals(WITH_SKIP)) throw new IllegalArgumentException("U-ViT has no block kind '" + kind + "'");
        return Map.of("x", new UViTBlock(p, prefix, cfg, kind.equals(WITH_SKIP)).apply(in.get("x"), in.get("skip")));   // (N, T, D)
    }

    @Override
    public SDVariable head(Params p, Map<String, SDVariable> state, Map<String, SDVariable> inputs) {
        return new UViT.Head(p, cfg).apply(state.get(TOKENS));                                 // (N, C, H, W)
    }
}
