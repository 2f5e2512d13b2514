package org.dit4j.models.fitmindone;

import org.dit4j.models.Conditioning;
import org.dit4j.models.Denoiser;
import org.dit4j.models.StateDicts;
import org.dit4j.models.nn.SameDiffParams;
import org.dit4j.models.nn.TimestepEmbedder;
import org.dit4j.util.Graphs;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.*;

/**
 * A MindONE FiT with its weights. {@link #construct} is {@code FiT.construct(x, t, y, pos, mask)} on any latent with the
 * caller's table and mask; {@link #forward} runs a latent (N, C, H, W) of any size as {@code FiTInferPipeline} does, with
 * the position table of its grid under the config's {@code max_length} (VisionNTK), but on its real tokens only: the mask
 * hides padding keys, so padding never changes a real output and {@link #forwardPadded} (the pipeline's padded call) gives
 * the same values at the padded cost. A graph is built per token count on first use; all share one set of weight arrays.
 */
public final class MindOneFiTModel implements Denoiser {
    public static final String X = "x", T_FREQ = "t_freq", Y = "y", POS = "pos", COS = "rope_cos", SIN = "rope_sin", MASK = "mask",
            OUTPUT = "final_layer_out";

    private final MindOneFiTConfig cfg;
    private final Map<String, INDArray> weights;
    private final Map<String, long[]> shapes;
    private final Map<Integer, SameDiff> graphs = new LinkedHashMap<>();

    private MindOneFiTModel(MindOneFiTConfig cfg, Map<String, INDArray> weights) {
        this.cfg = cfg;
        this.weights = weights;
        this.shapes = MindOneFiTFamily.declared(cfg).shapes();
    }

    /** A model whose parameters are {@code weights} themselves (float32 contiguous arrays are taken over, others copied). */
    public static MindOneFiTModel fromStateDict(MindOneFiTConfig cfg, Map<String, INDArray> weights, String source) {
        Map<String, INDArray> own = StateDicts.takeOver(MindOneFiTFamily.declared(cfg).shapes(), weights, source);
        return new MindOneFiTModel(cfg, own);
    }

    /** The same weights under another {@code pos} or {@code input_size} (which the weights do not fix). */
    public MindOneFiTModel withConfig(MindOneFiTConfig other) {
        if (!MindOneFiTFamily.declared(other).shapes().keySet().equals(shapes.keySet()))
            throw new IllegalArgumentException("the new config changes the architecture");
        StateDicts.check(MindOneFiTFamily.declared(other).shapes(), weights, "the model's weights");
        return new MindOneFiTModel(other, weights);
    }

    @Override
    public MindOneFiTConfig config() {
        return cfg;
    }

    @Override
    public Map<String, long[]> parameterShapes() {
        return Collections.unmodifiableMap(shapes);
    }

    /** No frozen tensors: the position tables are computed per grid, not stored. */
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

    @Override
    public synchronized List<SameDiff> graphs() {
        return List.copyOf(graphs.values());
    }

    private boolean rotate() {
        return cfg.pos().equals("rotate");
    }

    private synchronized SameDiff graph(int tokens) {
        return graphs.computeIfAbsent(tokens, n -> {
            SameDiff sd = Graphs.create();
            SameDiffParams params = new SameDiffParams(sd, weights);
            SDVariable x = sd.placeHolder(X, DataType.FLOAT, -1, n, cfg.tokenChannels());
            SDVariable tFreq = sd.placeHolder(T_FREQ, DataType.FLOAT, -1, TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE);
            SDVariable y = sd.placeHolder(Y, DataType.INT64, -1);
            SDVariable mask = sd.placeHolder(MASK, DataType.FLOAT, -1, n);
            SDVariable pos = rotate() ? null : sd.placeHolder(POS, DataType.FLOAT, -1, n, cfg.hiddenSize());
            SDVariable cos = rotate() ? sd.placeHolder(COS, DataType.FLOAT, -1, n, cfg.headDim()) : null;
            SDVariable sin = rotate() ? sd.placeHolder(SIN, DataType.FLOAT, -1, n, cfg.headDim()) : null;
            new MindOneFiT(params, cfg, n).forward(x, tFreq, y, pos, cos, sin, mask);
            return sd;
        });
    }

    /** {@code FiT.construct(x, t, y, pos, mask)} in eval mode: x (N, C, H, W) → (N, C_out, H, W) = [eps | var]. */
    public INDArray construct(INDArray x, double[] t, long[] y, INDArray pos, INDArray mask) {
        int p = cfg.patchSize();
        INDArray out = construct(x, t, y, pos, mask, OUTPUT).get(OUTPUT);
        return MindOneFiTLayout.unpatchify(out, p, (int) x.size(2) / p, (int) x.size(3) / p);
    }

    /**
     * Named graph values of one {@code construct} call (before {@code unpatchify}): {@link #OUTPUT} (N, T, p·p·C_out) and
     * the intermediates {@link MindOneFiT#forward} names. {@code pos} is (1 or N, T, embed_dim), {@code mask} (N, T) with
     * nonzero = real (bool or numbers).
     */
    public Map<String, INDArray> construct(INDArray x, double[] t, long[] y, INDArray pos, INDArray mask, String... outputs) {
        long[] s = x.shape();
        int p = cfg.patchSize();
        if (s.length != 4 || s[1] != cfg.inChannels() || s[2] % p != 0 || s[3] % p != 0 || s[2] == 0 || s[3] == 0)
            throw new IllegalArgumentException("input has shape " + Arrays.toString(s) + ", the model expects (N, " + cfg.inChannels()
                    + ", H, W) with H and W positive multiples of " + p);
        int n = (int) s[0];
        long tokens = (s[2] / p) * (s[3] / p);
        if (tokens > MindOneFiTConfig.MAX_TOKENS)
            throw new IllegalArgumentException(tokens + " tokens per sample; the model takes at most " + MindOneFiTConfig.MAX_TOKENS);
        checkLabels(n, t, y);
        int d = cfg.embedDim();
        if (pos == null || pos.rank() != 3 || (pos.size(0) != 1 && pos.size(0) != n) || pos.size(1) != tokens || pos.size(2) != d)
            throw new IllegalArgumentException("pos has shape " + (pos == null ? "none" : Arrays.toString(pos.shape())) + ", expected (1 or " + n
                    + ", " + tokens + ", " + d + ")");
        if (mask == null || !Arrays.equals(mask.shape(), new long[]{n, tokens}))
            throw new IllegalArgumentException("mask has shape " + (mask == null ? "none" : Arrays.toString(mask.shape())) + ", expected (" + n + ", " + tokens + ")");
        INDArray m = mask.castTo(DataType.FLOAT).neq(0).castTo(DataType.FLOAT);
        for (int i = 0; i < n; i++)
            if (m.getRow(i).sumNumber().doubleValue() == 0) throw new IllegalArgumentException("mask row " + i + " has no real token");
        INDArray table = pos.castTo(DataType.FLOAT);
        if (table.size(0) != n) table = Nd4j.tile(table, n, 1, 1);
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(X, MindOneFiTLayout.patchify(x, p));
        ph.put(T_FREQ, TimestepEmbedder.frequencyEmbedding(t, TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE));
        ph.put(Y, Nd4j.createFromArray(y));
        ph.put(MASK, m);
        if (rotate()) {
            INDArray[] cs = pairs(table.dup('c'));
            ph.put(COS, cs[0]);
            ph.put(SIN, cs[1]);
        } else {
            ph.put(POS, table);
        }
        Map<String, INDArray> out = new HashMap<>();
        // SameDiff recycles its output buffers on the next call: hand out copies the caller owns.
        graph((int) tokens).output(ph, outputs).forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }

    /** The interleaved (cos, sin) pairs of a RoPE table (N, T, hd) as two (N, T, hd) tables, each value repeated for its pair. */
    private static INDArray[] pairs(INDArray table) {
        float[] v = table.data().asFloat();
        float[] cos = new float[v.length], sin = new float[v.length];
        for (int i = 0; i < v.length; i += 2) {
            cos[i] = cos[i + 1] = v[i];
            sin[i] = sin[i + 1] = v[i + 1];
        }
        return new INDArray[]{Nd4j.create(cos, table.shape(), 'c'), Nd4j.create(sin, table.shape(), 'c')};
    }

    private void checkLabels(int n, double[] t, long[] y) {
        if (y == null) throw new IllegalArgumentException("a FiT needs class labels");
        if (t.length != n || y.length != n)
            throw new IllegalArgumentException("batch of " + n + " inputs with " + t.length + " timesteps and " + y.length + " labels");
        for (double ti : t) if (!Double.isFinite(ti)) throw new IllegalArgumentException("timestep " + ti + " is not a finite number");
        for (long label : y)
            if (label < 0 || label >= cfg.labelTableRows())
                throw new IllegalArgumentException("class label " + label + " is outside [0, " + cfg.labelTableRows() + ")");
    }

    /** The position table of an h × w latent's real tokens, under the config's {@code max_length}: (1, T, embed_dim). */
    public INDArray positions(int h, int w) {
        int p = cfg.patchSize(), t = (h / p) * (w / p);
        INDArray table = MindOneFiTLayout.posEmbed(h, w, p, cfg.maxLength(), cfg.embedDim(), cfg.pos());
        return table.get(NDArrayIndex.all(), NDArrayIndex.interval(0, t), NDArrayIndex.all()).dup('c');
    }

    /**
     * Latents x_t (N, C, H, W), H and W multiples of the patch → (N, C_out, H, W): {@code FiTInferPipeline}'s model call
     * (its VisionNTK table under {@code max_length}) on the real tokens, every one unmasked.
     */
    @Override
    public INDArray forward(INDArray x, double[] t, Conditioning c) {
        checkLatent(x);
        int n = (int) x.size(0), h = (int) x.size(2), w = (int) x.size(3), p = cfg.patchSize();
        return construct(x, t, c.labels(), positions(h, w), Nd4j.ones(DataType.FLOAT, n, (long) (h / p) * (w / p)));
    }

    /**
     * The pipeline's padded call as {@code sample.py} makes it: {@code _pad_latent} to {@code max_length} tokens,
     * {@code _create_pos_embed}, {@code _create_mask}, {@code construct}, {@code _unpad_latent} → (N, C_out, H, W).
     */
    public INDArray forwardPadded(INDArray x, double[] t, long[] y) {
        checkLatent(x);
        int n = (int) x.size(0), h = (int) x.size(2), w = (int) x.size(3), p = cfg.patchSize(), valid = (h / p) * (w / p);
        INDArray padded = MindOneFiTLayout.padLatent(x, p, cfg.maxLength());
        INDArray pos = MindOneFiTLayout.posEmbed(h, w, p, cfg.maxLength(), cfg.embedDim(), cfg.pos());
        INDArray out = construct(padded, t, y, pos, MindOneFiTLayout.mask(valid, cfg.maxLength(), n));
        return MindOneFiTLayout.unpadLatent(out, valid, h, w, p);
    }

    private void checkLatent(INDArray x) {
        long[] s = x.shape();
        int p = cfg.patchSize();
        if (s.length != 4 || s[1] != cfg.inChannels() || s[2] % p != 0 || s[3] % p != 0 || s[2] == 0 || s[3] == 0)
            throw new IllegalArgumentException("input has shape " + Arrays.toString(s) + ", the model expects (N, " + cfg.inChannels()
                    + ", H, W) with H and W positive multiples of " + p);
    }
}
