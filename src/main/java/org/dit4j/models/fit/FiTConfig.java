package org.dit4j.models.fit;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;

import java.util.*;

import static org.dit4j.models.ConfigKeys.*;

/**
 * The official FiTv1 {@code FiT(...)} constructor arguments (whlzy/FiT {@code fit_model.py}); the YAML keys are the same
 * names. {@code custom_freqs}, {@code decouple}, {@code max_pe_len_h/w} and {@code ori_max_pe_len} are the RoPE
 * extrapolation settings {@code sample_fit_ddp.py} writes into the config; a length of 0 means "from the sampled grid"
 * (and {@code ori_max_pe_len} 0 means {@code int(sqrt(context_size))}). {@code time_clamp} is dit4j's: true reproduces
 * the pinned code's {@code clamp(t, max=1)} before the timestep embedder.
 */
public record FiTConfig(int contextSize, int patchSize, int inChannels, int hiddenSize, int depth, int numHeads,
                        double mlpRatio, double classDropoutProb, int numClasses, boolean learnSigma, boolean useSwiglu,
                        boolean useSwigluLarge, boolean qkvBias, boolean ffnBias, boolean adalnBias, double ropeTheta,
                        String customFreqs, boolean decouple, int maxPeLenH, int maxPeLenW, int oriMaxPeLen,
                        int timeShifting, boolean timeClamp) implements ModelConfig {

    public static final List<String> KEYS = List.of("context_size", "patch_size", "in_channels", "hidden_size", "depth",
            "num_heads", "mlp_ratio", "class_dropout_prob", "num_classes", "learn_sigma", "use_swiglu", "use_swiglu_large",
            "qkv_bias", "ffn_bias", "adaln_bias", "rope_theta", "custom_freqs", "decouple", "max_pe_len_h", "max_pe_len_w",
            "ori_max_pe_len", "time_shifting", "time_clamp");
    /** Official keys whose only supported value is the FiTv1 default (the others are FiTv2 or training-only options). */
    private static final Map<String, Object> FIXED = fixed();
    /** Keys that do not change what the network computes. */
    private static final Set<String> IGNORED = Set.of("name", "use_checkpoint", "pretrain_ckpt", "ignore_keys", "finetune");
    public static final int MAX_TOKENS = 16384;

    private static Map<String, Object> fixed() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rel_pos_embed", "rope");
        m.put("norm_type", "layernorm");
        m.put("adaln_type", "normal");
        m.put("use_sit", false);
        m.put("online_rope", false);
        m.put("add_rel_pe_to_v", false);
        m.put("qk_norm_weight", false);
        m.put("q_norm", null);
        m.put("k_norm", null);
        m.put("adaln_lora_dim", null);
        return m;
    }

    public FiTConfig {
        require(patchSize > 0 && patchSize <= 16, "patch_size (" + patchSize + ") must be in [1, 16]");
        require(contextSize > 0 && contextSize <= MAX_TOKENS, "context_size (" + contextSize + ") must be in [1, " + MAX_TOKENS + "]");
        require(inChannels > 0 && inChannels <= 64, "in_channels must be in [1, 64]");
        require(numHeads > 0 && hiddenSize > 0 && hiddenSize % numHeads == 0, "hidden_size (" + hiddenSize + ") must be divisible by num_heads (" + numHeads + ")");
        require((hiddenSize / numHeads) % 4 == 0, "the head size (" + hiddenSize / numHeads + ") must be a multiple of 4 (2-D RoPE pairs on each axis)");
        require(hiddenSize <= 16384, "hidden_size " + hiddenSize + " exceeds 16384");
        require(depth > 0 && depth <= 512, "depth must be in [1, 512]");
        require(Double.isFinite(mlpRatio) && mlpRatio > 0 && mlpRatio * hiddenSize <= 65536, "mlp_ratio " + mlpRatio + " must give an MLP of 1 to 65536");
        require(classDropoutProb >= 0 && classDropoutProb < 1, "class_dropout_prob must be in [0, 1)");
        require(numClasses > 0 && numClasses <= 1_000_000, "num_classes must be in [1, 1000000]");
        require(Double.isFinite(ropeTheta) && ropeTheta > 1, "rope_theta must be a number > 1");
        require(VisionRotaryEmbedding.CUSTOM_FREQS.contains(customFreqs), "custom_freqs '" + customFreqs + "' is not one of " + VisionRotaryEmbedding.CUSTOM_FREQS);
        require(maxPeLenH >= 0 && maxPeLenW >= 0 && oriMaxPeLen >= 0, "max_pe_len_h, max_pe_len_w and ori_max_pe_len must be >= 0");
        require(timeShifting >= 1, "time_shifting must be >= 1");
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("invalid model config: " + message);
    }

    @Override
    public String family() {
        return FiTFamily.NAME;
    }

    @Override
    public int outChannels() {
        return learnSigma ? 2 * inChannels : inChannels;
    }

    /** The square latent side of {@code context_size} tokens: the size the model was trained for. */
    @Override
    public int inputSize() {
        return gridSize() * patchSize;
    }

    /** {@code int(sqrt(context_size))}: the official "original max PE length". */
    public int gridSize() {
        return (int) Math.sqrt(contextSize);
    }

    @Override
    public int nullLabel() {
        return classDropoutProb > 0 ? numClasses : -1;
    }

    @Override
    public double labelDropout() {
        return classDropoutProb;
    }

    /** {@code forward_with_cfg}'s {@code C_cfg = 3·p·p} token channels are latent channels [0, 3). */
    @Override
    public int officialGuidedChannels() {
        return 3;
    }

    /** Any grid of whole patches up to {@link #MAX_TOKENS} tokens. */
    @Override
    public void checkSampleSize(int height, int width) {
        if (height <= 0 || width <= 0 || height % patchSize != 0 || width % patchSize != 0)
            throw new IllegalArgumentException("a FiT samples latents whose sides are positive multiples of the patch size " + patchSize
                    + ", not " + height + "x" + width);
        long tokens = (long) (height / patchSize) * (width / patchSize);
        if (tokens > MAX_TOKENS)
            throw new IllegalArgumentException(height + "x" + width + " latents make " + tokens + " tokens, more than the " + MAX_TOKENS + " a FiT takes");
    }

    /** {@code sample_fit_ddp.py}'s {@code --interpolation} name → the model's {@code custom_freqs}. */
    public static String customFreqsOf(String interpolation) {
        return switch (interpolation) {
            case "no" -> "normal";
            case "linear" -> "linear";
            case "dynntk" -> "ntk-aware";
            case "partntk" -> "ntk-by-parts";
            case "yarn" -> "yarn";
            default -> throw new IllegalArgumentException("unknown interpolation '" + interpolation + "' (expected no, linear, dynntk, partntk or yarn)");
        };
    }

    /** About the bytes one forward of {@code rows} sequences of {@code tokens} holds at its peak: logits, probabilities and bias. */
    public long attentionBytes(int rows, long tokens) {
        return 4L * rows * tokens * tokens * (2L * numHeads + 1);
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    public int labelTableRows() {
        return numClasses + (classDropoutProb > 0 ? 1 : 0);
    }

    /** Channels of one token: p·p·C in (c p1 p2) order. */
    public int tokenChannels() {
        return patchSize * patchSize * inChannels;
    }

    /** {@code FiTBlock}: SwiGLU of 4D (large) or 2·4D/3, else a GELU MLP of 4D. */
    public int mlpHidden() {
        int h = (int) (hiddenSize * mlpRatio);
        return useSwiglu && !useSwigluLarge ? (h * 2) / 3 : h;
    }

    public FiTConfig withExtrapolation(String freqs, boolean decoupled) {
        return new FiTConfig(contextSize, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, classDropoutProb,
                numClasses, learnSigma, useSwiglu, useSwigluLarge, qkvBias, ffnBias, adalnBias, ropeTheta, freqs, decoupled,
                maxPeLenH, maxPeLenW, oriMaxPeLen, timeShifting, timeClamp);
    }

    public FiTConfig withTimeClamp(boolean clamp) {
        return new FiTConfig(contextSize, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, classDropoutProb,
                numClasses, learnSigma, useSwiglu, useSwigluLarge, qkvBias, ffnBias, adalnBias, ropeTheta, customFreqs, decouple,
                maxPeLenH, maxPeLenW, oriMaxPeLen, timeShifting, clamp);
    }

    /** A square {@code size} (latent side) sets {@code context_size} = (size / p)². */
    @Override
    public FiTConfig withInputSize(int size) {
        int g = size / patchSize;
        return new FiTConfig(g * g, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, classDropoutProb,
                numClasses, learnSigma, useSwiglu, useSwigluLarge, qkvBias, ffnBias, adalnBias, ropeTheta, customFreqs, decouple,
                maxPeLenH, maxPeLenW, oriMaxPeLen, timeShifting, timeClamp);
    }

    @Override
    public FiTConfig withNumClasses(int n) {
        return new FiTConfig(contextSize, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, classDropoutProb,
                n, learnSigma, useSwiglu, useSwigluLarge, qkvBias, ffnBias, adalnBias, ropeTheta, customFreqs, decouple,
                maxPeLenH, maxPeLenW, oriMaxPeLen, timeShifting, timeClamp);
    }

    @Override
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(ModelFamilies.FAMILY_KEY, family());
        m.put("context_size", contextSize);
        m.put("patch_size", patchSize);
        m.put("in_channels", inChannels);
        m.put("hidden_size", hiddenSize);
        m.put("depth", depth);
        m.put("num_heads", numHeads);
        m.put("mlp_ratio", mlpRatio);
        m.put("class_dropout_prob", classDropoutProb);
        m.put("num_classes", numClasses);
        m.put("learn_sigma", learnSigma);
        m.put("use_swiglu", useSwiglu);
        m.put("use_swiglu_large", useSwigluLarge);
        m.put("qkv_bias", qkvBias);
        m.put("ffn_bias", ffnBias);
        m.put("adaln_bias", adalnBias);
        m.put("rope_theta", ropeTheta);
        m.put("custom_freqs", customFreqs);
        m.put("decouple", decouple);
        m.put("max_pe_len_h", maxPeLenH);
        m.put("max_pe_len_w", maxPeLenW);
        m.put("ori_max_pe_len", oriMaxPeLen);
        m.put("time_shifting", timeShifting);
        m.put("time_clamp", timeClamp);
        return m;
    }

    /** The constructor arguments of a config mapping (without its {@code family} key), with the official defaults. */
    static FiTConfig fromMap(Map<?, ?> m, String source) {
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String k = String.valueOf(e.getKey());
            if (KEYS.contains(k) || IGNORED.contains(k)) continue;
            if (FIXED.containsKey(k)) {
                if (!Objects.equals(FIXED.get(k), e.getValue()))
                    throw new IllegalArgumentException(source + ": key '" + k + "' = '" + e.getValue() + "' is not supported by dit4j's FiTv1 (only "
                            + FIXED.get(k) + ")");
                continue;
            }
            throw new IllegalArgumentException(source + ": unknown FiT config key '" + k + "' (expected " + KEYS + ")");
        }
        try {
            return new FiTConfig(
                    intOf(m, "context_size", 256, source), intOf(m, "patch_size", 2, source), intOf(m, "in_channels", 4, source),
                    intOf(m, "hidden_size", 1152, source), intOf(m, "depth", 28, source), intOf(m, "num_heads", 16, source),
                    numOf(m, "mlp_ratio", 4.0, source), numOf(m, "class_dropout_prob", 0.1, source),
                    intOf(m, "num_classes", 1000, source), boolOf(m, "learn_sigma", true, source),
                    boolOf(m, "use_swiglu", false, source), boolOf(m, "use_swiglu_large", false, source),
                    boolOf(m, "qkv_bias", true, source), boolOf(m, "ffn_bias", true, source), boolOf(m, "adaln_bias", true, source),
                    numOf(m, "rope_theta", 10000.0, source), strOf(m, "custom_freqs", "normal", source).toLowerCase(Locale.ROOT),
                    boolOf(m, "decouple", false, source), intOf(m, "max_pe_len_h", 0, source), intOf(m, "max_pe_len_w", 0, source),
                    intOf(m, "ori_max_pe_len", 0, source), intOf(m, "time_shifting", 1, source), boolOf(m, "time_clamp", false, source));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source.isEmpty() || e.getMessage().startsWith(source) ? e.getMessage() : source + ": " + e.getMessage(), e);
        }
    }
}
