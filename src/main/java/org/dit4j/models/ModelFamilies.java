package org.dit4j.models;

import org.dit4j.models.dit.DiTFamily;
import org.dit4j.models.fit.FiTFamily;
import org.dit4j.models.fitmindone.MindOneFiTFamily;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.dit4j.models.uvit.UViTFamily;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * The registry of model families, and model configs read with their family: a YAML names it with {@code family:}
 * (absent = {@code dit}, so every earlier config and checkpoint still reads) and otherwise keeps the official constructor's
 * argument names.
 */
public final class ModelFamilies {
    public static final String FAMILY_KEY = "family", DEFAULT = "dit";
    private static final Map<String, ModelFamily> FAMILIES = new LinkedHashMap<>();

    static {
        register(new DiTFamily());
        register(new FiTFamily());
        register(new MindOneFiTFamily());
        register(new UViTFamily(UViTFamily.NAME));
        register(new UViTFamily(UViTFamily.T2I));
    }

    private ModelFamilies() {}

    private static void register(ModelFamily f) {
        FAMILIES.put(f.name(), f);
    }

    public static ModelFamily get(String name) {
        ModelFamily f = FAMILIES.get(name);
        if (f != null) return f;
        throw new IllegalArgumentException("unknown model family '" + name + "' (expected one of " + String.join(", ", FAMILIES.keySet()) + ")");
    }

    public static ModelFamily of(ModelConfig cfg) {
        return get(cfg.family());
    }

    /** The family whose characteristic keys a raw state dict of unknown origin has; the default (DiT) otherwise. */
    public static ModelFamily detect(Map<String, INDArray> raw) {
        for (ModelFamily f : FAMILIES.values()) if (f.recognizes(raw)) return f;
        return get(DEFAULT);
    }

    public static Collection<ModelFamily> all() {
        return Collections.unmodifiableCollection(FAMILIES.values());
    }

    /** Every official architecture name of every family. */
    public static List<String> modelNames() {
        List<String> names = new ArrayList<>();
        for (ModelFamily f : FAMILIES.values()) names.addAll(f.modelNames());
        return names;
    }

    /** A named architecture ({@code DiT-XL/2}) at its shipped defaults, from whichever family has it. */
    public static ModelConfig named(String name) {
        for (ModelFamily f : FAMILIES.values()) if (f.modelNames().contains(name)) return f.named(name);
        throw new IllegalArgumentException("unknown model '" + name + "' (expected one of " + String.join(", ", modelNames()) + ")");
    }

    /** Reads a YAML (or JSON) model config; the official constructor defaults fill absent keys. */
    public static ModelConfig load(Path file) {
        try (Reader r = Files.newBufferedReader(file)) {
            return fromMap(parse(r, file.toString()), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read model config (" + e.getMessage() + ")");
        }
    }

    public static ModelConfig load(InputStream in, String source) {
        return fromMap(parse(new InputStreamReader(in, StandardCharsets.UTF_8), source), source);
    }

    public static ModelConfig fromYaml(String yaml, String source) {
        return fromMap(parse(new java.io.StringReader(yaml), source), source);
    }

    private static Map<?, ?> parse(Reader r, String source) {
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(source + ": not valid YAML (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (!(doc instanceof Map<?, ?> m)) throw new IllegalArgumentException(source + ": a model config must be a mapping of constructor arguments");
        // A dit4j checkpoint nests the architecture under "model"; a fixture config.json under "model_kwargs".
        if (m.get("model") instanceof Map<?, ?> inner) return inner;
        if (m.get("model_kwargs") instanceof Map<?, ?> inner) return inner;
        return m;
    }

    /** A config mapping: {@code family} picks the family, the other keys are its constructor arguments. */
    public static ModelConfig fromMap(Map<?, ?> m, String source) {
        Object family = m.get(FAMILY_KEY);
        if (family != null && !(family instanceof String))
            throw new IllegalArgumentException(source + ": key 'family' must be one of " + FAMILIES.keySet() + ", found '" + family + "'");
        ModelFamily f;
        try {
            f = get(family == null ? DEFAULT : (String) family);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage());
        }
        Map<Object, Object> args = new LinkedHashMap<>(m);
        args.remove(FAMILY_KEY);
        return f.parseConfig(args, source);
    }
}
