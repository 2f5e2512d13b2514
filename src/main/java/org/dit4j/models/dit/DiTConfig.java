package org.dit4j.models.dit;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.*;

import static org.dit4j.models.ConfigKeys.boolOf;
import static org.dit4j.models.ConfigKeys.intOf;
import static org.dit4j.models.ConfigKeys.numOf;

/** The official {@code DiT(...)} constructor arguments; the YAML keys are the same names. */
public record DiTConfig(int inputSize, int patchSize, int inChannels, int hiddenSize, int depth, int numHeads,
                        double mlpRatio, double classDropoutProb, int numClasses, boolean learnSigma) implements ModelConfig {

    public static final List<String> KEYS = List.of("input_size", "patch_size", "in_channels", "hidden_size", "depth",
            "num_heads", "mlp_ratio", "class_dropout_prob", "num_classes", "learn_sigma");

    public DiTConfig {
        require(inputSize > 0 && patchSize > 0 && inputSize % patchSize == 0, "input_size (" + inputSize + ") must be a positive multiple of patch_size (" + patchSize + ")");
        require(inChannels > 0, "in_channels must be positive");
        require(hiddenSize > 0 && hiddenSize % 4 == 0, "hidden_size (" + hiddenSize + ") must be a positive multiple of 4 (2-D sin-cos position embedding)");
        require(numHeads > 0 && hiddenSize % numHeads == 0, "hidden_size (" + hiddenSize + ") must be divisible by num_heads (" + numHeads + ")");
        require(depth > 0, "depth must be positive");
        require(mlpRatio > 0 && (int) (hiddenSize * mlpRatio) > 0, "mlp_ratio must be positive");
        require(classDropoutProb >= 0 && classDropoutProb < 1, "class_dropout_prob must be in [0, 1)");
        require(numClasses > 0, "num_classes must be positive");
        // Bounds far above every published DiT, so a careless or hostile config fails here, not after gigabytes.
        require(inputSize <= MAX_INPUT_SIZE, "input_size " + inputSize + " exceeds " + MAX_INPUT_SIZE);
        require((long) (inputSize / patchSize) * (inputSize / patchSize) <= MAX_TOKENS, "input_size / patch_size gives "
                + (long) (inputSize / patchSize) * (inputSize / patchSize) + " tokens, more than " + MAX_TOKENS);
        require(inChannels <= 64, "in_channels " + inChannels + " exceeds 64");
        require(hiddenSize <= 16384, "hidden_size " + hiddenSize + " exceeds 16384");
        require(depth <= 512, "depth " + depth + " exceeds 512");
        require(Double.isFinite(mlpRatio) && mlpRatio * hiddenSize <= 65536, "mlp_ratio " + mlpRatio + " gives an MLP wider than 65536");
        require(numClasses <= 1_000_000, "num_classes " + numClasses + " exceeds 1000000");
    }

    public static final int MAX_INPUT_SIZE = 1024, MAX_TOKENS = 16384;

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("invalid model config: " + message);
    }

    @Override
    public String family() {
        return DiTFamily.NAME;
    }

    @Override
    public int nullLabel() {
        return classDropoutProb > 0 ? numClasses : -1;
    }

    @Override
    public double labelDropout() {
        return classDropoutProb;
    }

    /** {@code forward_with_cfg} guides channels [0, 3) "for exact reproducibility". */
    @Override
    public int officialGuidedChannels() {
        return 3;
    }

    @Override
    public int outChannels() {
        return learnSigma ? inChannels * 2 : inChannels;
    }

    /** Tokens per side. */
    public int gridSize() {
        return inputSize / patchSize;
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    public int mlpHidden() {
        return (int) (hiddenSize * mlpRatio);
    }

    /** Rows of the label table: the null class used by guidance exists only when labels are dropped in training. */
    public int labelTableRows() {
        return numClasses + (classDropoutProb > 0 ? 1 : 0);
    }

    @Override
    public DiTConfig withInputSize(int size) {
        return new DiTConfig(size, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, classDropoutProb, numClasses, learnSigma);
    }

    @Override
    public DiTConfig withNumClasses(int n) {
        return new DiTConfig(inputSize, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, classDropoutProb, n, learnSigma);
    }

    @Override
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(ModelFamilies.FAMILY_KEY, family());
        m.put("input_size", inputSize);
        m.put("patch_size", patchSize);
        m.put("in_channels", inChannels);
        m.put("hidden_size", hiddenSize);
        m.put("depth", depth);
        m.put("num_heads", numHeads);
        m.put("mlp_ratio", mlpRatio);
        m.put("class_dropout_prob", classDropoutProb);
        m.put("num_classes", numClasses);
        m.put("learn_sigma", learnSigma);
        return m;
    }

    /** The config in {@code file}, which must be a DiT's. */
    public static DiTConfig load(Path file) {
        return of(ModelFamilies.load(file), file.toString());
    }

    public static DiTConfig load(InputStream in, String source) {
        return of(ModelFamilies.load(in, source), source);
    }

    private static DiTConfig of(ModelConfig c, String source) {
        if (c instanceof DiTConfig d) return d;
        throw new IllegalArgumentException(source + ": a " + c.family() + " config, not a DiT one");
    }

    /** The constructor arguments of a config mapping (without its {@code family} key). */
    static DiTConfig fromMap(Map<?, ?> m, String source) {
        for (Object k : m.keySet())
            if (!KEYS.contains(String.valueOf(k)) && !"name".equals(k))
                throw new IllegalArgumentException(source + ": unknown model config key '" + k + "' (expected " + KEYS + ")");
        try {
            return new DiTConfig(
                    intOf(m, "input_size", 32, source), intOf(m, "patch_size", 2, source), intOf(m, "in_channels", 4, source),
                    intOf(m, "hidden_size", 1152, source), intOf(m, "depth", 28, source), intOf(m, "num_heads", 16, source),
                    numOf(m, "mlp_ratio", 4.0, source), numOf(m, "class_dropout_prob", 0.1, source),
                    intOf(m, "num_classes", 1000, source), boolOf(m, "learn_sigma", true, source));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }
}
