package org.dit4j.models.fitmindone;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;

import java.util.*;

import static org.dit4j.models.ConfigKeys.*;

/**
 * MindONE's {@code FiT(...)} constructor arguments ({@code mindone/models/fit.py}; the YAML keys are the same names) and
 * {@code input_size}, the latent side of {@code sample.py}'s {@code --image_size} ({@code image_size / 8}): the pipeline pads
 * every latent to {@code max_length = (input_size / p)²} tokens and its VisionNTK RoPE scales by that length.
 */
public record MindOneFiTConfig(int patchSize, int inChannels, int hiddenSize, int depth, int numHeads, double mlpRatio,
                               double classDropoutProb, int numClasses, boolean learnSigma, String ffn, String pos,
                               int inputSize) implements ModelConfig {

    public static final List<String> KEYS = List.of("patch_size", "in_channels", "hidden_size", "depth", "num_heads", "mlp_ratio",
            "class_dropout_prob", "num_classes", "learn_sigma", "ffn", "pos", "input_size");
    public static final List<String> FFNS = List.of("swiglu", "mlp"), POSITIONS = List.of("rotate", "absolute");
    /** Keys that do not change what the network computes ({@code block_kwargs} holds {@code enable_flash_attention}). */
    private static final Set<String> IGNORED = Set.of("name", "block_kwargs");
    /** The most tokens one sample may have (a 1024×1024 latent at patch 8 is 16384). */
    public static final int MAX_TOKENS = 16384;

    public MindOneFiTConfig {
        require(patchSize > 0 && patchSize <= 16, "patch_size (" + patchSize + ") must be in [1, 16]");
        require(inChannels > 0 && inChannels <= 64, "in_channels must be in [1, 64]");
        require(numHeads > 0 && hiddenSize > 0 && hiddenSize % numHeads == 0, "hidden_size (" + hiddenSize + ") must be divisible by num_heads (" + numHeads + ")");
        require(hiddenSize <= 16384, "hidden_size " + hiddenSize + " exceeds 16384");
        require(depth > 0 && depth <= 512, "depth must be in [1, 512]");
        require(Double.isFinite(mlpRatio) && mlpRatio > 0 && mlpRatio * hiddenSize <= 65536, "mlp_ratio " + mlpRatio + " must give an MLP of 1 to 65536");
        require(classDropoutProb >= 0 && classDropoutProb < 1, "class_dropout_prob must be in [0, 1)");
        require(numClasses > 0 && numClasses <= 1_000_000, "num_classes must be in [1, 1000000]");
        require(FFNS.contains(ffn), "ffn '" + ffn + "' is not one of " + FFNS);
        require(POSITIONS.contains(pos), "pos '" + pos + "' is not one of " + POSITIONS);
        require(!pos.equals("rotate") || (hiddenSize / numHeads) % 4 == 0 && hiddenSize / numHeads >= 8,
                "the head size (" + hiddenSize / numHeads + ") must be a multiple of 4 of at least 8 (complex pairs on both axes; VisionNTK's d/(d−2) needs d > 2)");
        require(pos.equals("rotate") || hiddenSize % 4 == 0, "hidden_size (" + hiddenSize + ") must be a multiple of 4 for the 2-D sin-cos table");
        require(inputSize > 0 && inputSize % patchSize == 0 && (long) (inputSize / patchSize) * (inputSize / patchSize) <= MAX_TOKENS,
                "input_size (" + inputSize + ") must be a positive multiple of patch_size (" + patchSize + ") of at most " + MAX_TOKENS + " tokens");
        require(ffn.equals("mlp") || (int) (hiddenSize * mlpRatio * 2 / 3) > 0, "mlp_ratio " + mlpRatio + " gives an empty SwiGLU");
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("invalid model config: " + message);
    }

    @Override
    public String family() {
        return MindOneFiTFamily.NAME;
    }

    @Override
    public int outChannels() {
        return learnSigma ? 2 * inChannels : inChannels;
    }

    @Override
    public int nullLabel() {
        return classDropoutProb > 0 ? numClasses : -1;
    }

    @Override
    public double labelDropout() {
        return classDropoutProb;
    }

    /** {@code construct_with_cfg} guides {@code model_out[:, :in_channels]}: every noise channel. */
    @Override
    public int officialGuidedChannels() {
        return inChannels;
    }

    /** MindONE's {@code GaussianDiffusion} builds its tables in float32. */
    @Override
    public boolean float32DiffusionTables() {
        return true;
    }

    /** Any grid of whole patches within {@code sample.py}'s {@code max_length} tokens. */
    @Override
    public void checkSampleSize(int height, int width) {
        if (height <= 0 || width <= 0 || height % patchSize != 0 || width % patchSize != 0)
            throw new IllegalArgumentException("a MindONE FiT samples latents whose sides are positive multiples of the patch size " + patchSize
                    + ", not " + height + "x" + width);
        long tokens = (long) (height / patchSize) * (width / patchSize);
        if (tokens > maxLength())
            throw new IllegalArgumentException(height + "x" + width + " latents make " + tokens + " tokens, more than the model's max_length "
                    + maxLength() + " (image_size " + inputSize * 8 + "; a larger --image-size raises it)");
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    public int labelTableRows() {
        return numClasses + (classDropoutProb > 0 ? 1 : 0);
    }

    /** Channels of one token: p·p·C in (p1, p2, c) order. */
    public int tokenChannels() {
        return patchSize * patchSize * inChannels;
    }

    /** {@code FiTBlock}: {@code int(D·mlp_ratio·2/3)} for SwiGLU (LLaMA's rule, truncated), {@code int(D·mlp_ratio)} for the MLP. */
    public int mlpHidden() {
        return ffn.equals("swiglu") ? (int) (hiddenSize * mlpRatio * 2 / 3) : (int) (hiddenSize * mlpRatio);
    }

    /** {@code sample.py}'s {@code max_length}: the token count every latent is padded to, VisionNTK's reference length. */
    public int maxLength() {
        int g = inputSize / patchSize;
        return g * g;
    }

    /** {@code sample.py}'s {@code embed_dim}: the RoPE table covers one head, the sin-cos table the hidden width. */
    public int embedDim() {
        return pos.equals("rotate") ? headDim() : hiddenSize;
    }

    /** {@code sample.py}'s {@code pos=args.embed_method}: the weights are the same for both, the network is not. */
    public MindOneFiTConfig withPos(String method) {
        return new MindOneFiTConfig(patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, classDropoutProb, numClasses,
                learnSigma, ffn, method, inputSize);
    }

    @Override
    public MindOneFiTConfig withInputSize(int size) {
        return new MindOneFiTConfig(patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, classDropoutProb, numClasses,
                learnSigma, ffn, pos, size);
    }

    @Override
    public MindOneFiTConfig withNumClasses(int n) {
        return new MindOneFiTConfig(patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, classDropoutProb, n,
                learnSigma, ffn, pos, inputSize);
    }

    @Override
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(ModelFamilies.FAMILY_KEY, family());
        m.put("patch_size", patchSize);
        m.put("in_channels", inChannels);
        m.put("hidden_size", hiddenSize);
        m.put("depth", depth);
        m.put("num_heads", numHeads);
        m.put("mlp_ratio", mlpRatio);
        m.put("class_dropout_prob", classDropoutProb);
        m.put("num_classes", numClasses);
        m.put("learn_sigma", learnSigma);
        m.put("ffn", ffn);
        m.put("pos", pos);
        m.put("input_size", inputSize);
        return m;
    }

    /** The constructor arguments of a config mapping (without its {@code family} key), with MindONE's defaults (FiT-XL/2, 256² images). */
    static MindOneFiTConfig fromMap(Map<?, ?> m, String source) {
        for (Object k : m.keySet())
            if (!KEYS.contains(String.valueOf(k)) && !IGNORED.contains(String.valueOf(k)))
                throw new IllegalArgumentException(source + ": unknown MindONE FiT config key '" + k + "' (expected " + KEYS + ")");
        try {
            return new MindOneFiTConfig(intOf(m, "patch_size", 2, source), intOf(m, "in_channels", 4, source),
                    intOf(m, "hidden_size", 1152, source), intOf(m, "depth", 28, source), intOf(m, "num_heads", 16, source),
                    numOf(m, "mlp_ratio", 4.0, source), numOf(m, "class_dropout_prob", 0.1, source),
                    intOf(m, "num_classes", 1000, source), boolOf(m, "learn_sigma", true, source),
                    strOf(m, "ffn", "swiglu", source), strOf(m, "pos", "rotate", source), intOf(m, "input_size", 32, source));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source.isEmpty() || e.getMessage().startsWith(source) ? e.getMessage() : source + ": " + e.getMessage(), e);
        }
    }
}
