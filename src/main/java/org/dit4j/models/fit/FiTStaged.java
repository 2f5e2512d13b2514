package org.dit4j.models.fit;

import org.dit4j.models.Conditioning;
import org.dit4j.models.ForwardingDenoiser;
import org.dit4j.models.StagedModel;
import org.dit4j.models.nn.Params;
import org.dit4j.models.nn.TimestepEmbedder;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.*;

/**
 * A {@link FiTModel} as stages over padded sequences of {@code tokens} tokens, for training block by block: the
 * {@link FiT.Stem}, the {@link FiTBlock}s, the {@link FiT.Head}, with the tokens and c carried (differentiable) beside the
 * RoPE tables, the attention bias and the token mask (data). Samples are the padded sequences (p·p·C, T), and the loss
 * is FiT's masked one. Weights, forward pass and state dict are the model's own.
 */
public final class FiTStaged extends ForwardingDenoiser implements StagedModel {
    /** The carried state; names apart from the input placeholders', which the head graph declares too. */
    public static final String TOKENS = "tokens", C = "c", COS = "cos", SIN = "sin", BIAS = "attn_bias", MASK = "token_mask";
    private static final String BLOCK_KIND = "fit";

    private final FiTModel fit;
    private final FiTConfig cfg;
    private final int tokens;

    FiTStaged(FiTModel model, int tokens) {
        super(model);
        if (tokens < 1 || tokens > FiTConfig.MAX_TOKENS)
            throw new IllegalArgumentException(tokens + " tokens per sample; the model takes 1 to " + FiTConfig.MAX_TOKENS);
        this.fit = model;
        this.cfg = model.config();
        this.tokens = tokens;
    }

    public int tokens() {
        return tokens;
    }

    @Override
    public FiTConfig config() {
        return cfg;
    }

    @Override
    public long[] sampleShape() {
        return new long[]{cfg.tokenChannels(), tokens};
    }

    @Override
    public boolean paddedSamples() {
        return true;
    }

    @Override
    public INDArray tokenMask(Conditioning c) {
        if (c.layout() == null || c.layout().mask() == null) throw new IllegalArgumentException("a FiT batch needs a token mask");
        return c.layout().mask();
    }

    /** Tokens x_t (N, p·p·C, T) with the conditioning's labels and layout (grid, mask, sizes). */
    @Override
    public Map<String, INDArray> inputs(INDArray x, double[] t, Conditioning c) {
        if (x.rank() != 3 || x.size(2) != tokens)
            throw new IllegalArgumentException("tokens have shape " + Arrays.toString(x.shape()) + ", this stage graph takes " + tokens + " per sample");
        return fit.placeholders(x, t, c.labels(), c.layout());
    }

    @Override
    public Map<String, SDVariable> declareInputs(SameDiff sd) {
        Map<String, SDVariable> in = new LinkedHashMap<>();
        in.put(FiTModel.X, sd.placeHolder(FiTModel.X, DataType.FLOAT, -1, cfg.tokenChannels(), tokens));
        in.put(FiTModel.T_FREQ, sd.placeHolder(FiTModel.T_FREQ, DataType.FLOAT, -1, TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE));
        in.put(FiTModel.Y, sd.placeHolder(FiTModel.Y, DataType.INT64, -1));
        in.put(FiTModel.MASK, sd.placeHolder(FiTModel.MASK, DataType.FLOAT, -1, tokens));
        in.put(FiTModel.COS, sd.placeHolder(FiTModel.COS, DataType.FLOAT, -1, tokens, cfg.headDim()));
        in.put(FiTModel.SIN, sd.placeHolder(FiTModel.SIN, DataType.FLOAT, -1, tokens, cfg.headDim()));
        return in;
    }

    @Override
    public Map<String, SDVariable> embed(Params p, Map<String, SDVariable> in) {
        FiT.Embedded e = new FiT.Stem(p, cfg, tokens).apply(in.get(FiTModel.X), in.get(FiTModel.T_FREQ), in.get(FiTModel.Y),
                in.get(FiTModel.MASK), in.get(FiTModel.COS), in.get(FiTModel.SIN));
        Map<String, SDVariable> state = new LinkedHashMap<>();
        state.put(TOKENS, e.tokens());   // (N, T, D)
        state.put(C, e.c());             // (N, D)
        state.put(COS, e.cos());         // (N, 1, T, hd)
        state.put(SIN, e.sin());         // (N, 1, T, hd)
        state.put(BIAS, e.bias());       // (N, 1, T, T)
        state.put(MASK, e.mask());       // (N, T, 1)
        return state;
    }

    @Override
    public Map<String, StateSpec> stateSpecs() {
        Map<String, StateSpec> specs = new LinkedHashMap<>();
        specs.put(TOKENS, new StateSpec(new long[]{tokens, cfg.hiddenSize()}, true));
        specs.put(C, new StateSpec(new long[]{cfg.hiddenSize()}, true));
        specs.put(COS, new StateSpec(new long[]{1, tokens, cfg.headDim()}, false));
        specs.put(SIN, new StateSpec(new long[]{1, tokens, cfg.headDim()}, false));
        specs.put(BIAS, new StateSpec(new long[]{1, tokens, tokens}, false));
        specs.put(MASK, new StateSpec(new long[]{tokens, 1}, false));
        return specs;
    }

    /** Every block reads the whole state and writes the tokens. */
    @Override
    public List<BlockCall> blockCalls() {
        Map<String, String> reads = new LinkedHashMap<>();
        reads.put("x", TOKENS);
        reads.put("c", C);
        reads.put("cos", COS);
        reads.put("sin", SIN);
        reads.put("bias", BIAS);
        reads.put("mask", MASK);
        List<BlockCall> calls = new ArrayList<>();
        for (int i = 0; i < cfg.depth(); i++) calls.add(new BlockCall(BLOCK_KIND, "blocks." + i, reads, Map.of(TOKENS, "x")));
        return calls;
    }

    @Override
    public Map<String, SDVariable> block(String kind, Params p, String prefix, Map<String, SDVariable> in) {
        if (!kind.equals(BLOCK_KIND)) throw new IllegalArgumentException("FiT has no block kind '" + kind + "'");
        return Map.of("x", new FiTBlock(p, prefix, cfg, tokens).apply(in.get("x"), in.get("c"), in.get("cos"), in.get("sin"),
                in.get("bias"), in.get("mask")));   // (N, T, D)
    }

    @Override
    public SDVariable head(Params p, Map<String, SDVariable> state, Map<String, SDVariable> inputs) {
        return new FiT.Head(p, cfg, tokens).apply(state.get(TOKENS), state.get(C), state.get(MASK));   // (N, p·p·C_out, T)
    }
}
