package org.dit4j.models;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/** The official {@code DiT(...)} constructor arguments; the YAML keys are the same names. */
public record DiTConfig(int inputSize, int patchSize, int inChannels, int hiddenSize, int depth, int numHeads,
                        double mlpRatio, double classDropoutProb, int numClasses, boolean learnSigma) {

    public static final List<String> KEYS = List.of("input_size", "patch_size", "in_channels", "hidden_size", "depth",
            "num_heads", "mlp_ratio", "class_dropout_prob", "num_classes", "learn_sigma");

    public DiTConfig {
        require(inputSize > 0 && patchSize > 0 && inputSize % patchSize == 0, "input_size (" + inputSize + ") must be a positive multiple of patch_size (" + patchSize + ")");
        require(inChannels > 0, "in_channels must be positive");
        require(hiddenSize > 0 && hiddenSize % 4 == 0, "hidden_size (" + hiddenSize + ") must be a positive multiple of 4 (2-D sin-cos position embedding)");
        require(numHeads > 0 && hiddenSize % numHeads == 0, "hidden_size (" + hiddenSize + ") must be divisible by num_heads (" + numHeads + ")");
        require(depth > 0, "depth must be positive");
        require(mlpRatio > 0, "mlp_ratio must be positive");
        require(classDropoutProb >= 0 && classDropoutProb < 1, "class_dropout_prob must be in [0, 1)");
        require(numClasses > 0, "num_classes must be positive");
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("invalid model config: " + message);
    }

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

    public DiTConfig withInputSize(int size) {
        return new DiTConfig(size, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, classDropoutProb, numClasses, learnSigma);
    }

    public DiTConfig withNumClasses(int n) {
        return new DiTConfig(inputSize, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, classDropoutProb, n, learnSigma);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
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

    public String toYaml() {
        StringBuilder sb = new StringBuilder();
        toMap().forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
        return sb.toString();
    }

    /** Reads a YAML (or JSON, a subset of YAML) model config; the official constructor defaults fill absent keys. */
    public static DiTConfig load(Path file) {
        try (Reader r = Files.newBufferedReader(file)) {
            return fromMap(parse(r, file.toString()), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read model config (" + e.getMessage() + ")");
        }
    }

    public static DiTConfig load(InputStream in, String source) {
        return fromMap(parse(new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8), source), source);
    }

    private static Map<?, ?> parse(Reader r, String source) {
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(source + ": not valid YAML (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (!(doc instanceof Map<?, ?> m)) throw new IllegalArgumentException(source + ": a model config must be a mapping of " + KEYS);
        // A dit4j checkpoint nests the architecture under "model"; a fixture config.json under "model_kwargs".
        if (m.get("model") instanceof Map<?, ?> inner) return inner;
        if (m.get("model_kwargs") instanceof Map<?, ?> inner) return inner;
        return m;
    }

    public static DiTConfig fromMap(Map<?, ?> m, String source) {
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

    private static int intOf(Map<?, ?> m, String key, int def, String source) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof Integer i) return i;
        throw new IllegalArgumentException(source + ": key '" + key + "' must be an integer, found '" + v + "'");
    }

    private static double numOf(Map<?, ?> m, String key, double def, String source) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException(source + ": key '" + key + "' must be a number, found '" + v + "'");
    }

    private static boolean boolOf(Map<?, ?> m, String key, boolean def, String source) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof Boolean b) return b;
        throw new IllegalArgumentException(source + ": key '" + key + "' must be true or false, found '" + v + "'");
    }
}
