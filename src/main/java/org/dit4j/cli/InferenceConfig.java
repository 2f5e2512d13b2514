package org.dit4j.cli;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.fitmindone.MindOneFiTConfig;
import org.dit4j.models.fitmindone.MindOneFiTFamily;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * A MindONE inference YAML ({@code examples/dit/configs/inference/*.yaml}, {@code examples/fit/configs/inference/*.yaml},
 * {@code sample.py -c}): the keys that mean the same as a {@code dit4j sample} flag, the Ascend/MindSpore settings dit4j
 * accepts and ignores, and nothing else. A FiT config ({@link #describesFit}) names MindONE's FiT (family
 * {@code fit-mindone}): {@code model_name: FiT-XL/2} is dit4j's {@code MindONE-FiT-XL/2}, {@code embed_method} its
 * {@code pos}, {@code image_size} its largest grid and token count (as {@code sample.py}'s {@code max_size}/{@code max_length}),
 * {@code image_height}/{@code image_width} the size sampled.
 */
record InferenceConfig(Path file, Map<String, Object> values, List<String> ignored) {
    /** Key → the flag it stands for. */
    static final Map<String, String> KEYS;
    /** Keys that only steer MindSpore or Ascend. */
    static final List<String> IGNORED = List.of("use_fp16", "enable_flash_attention", "device_target", "mode", "jit_level");
    /** MindONE's {@code sample.py} samples these classes. */
    static final long[] MINDONE_LABELS = {207, 360, 387, 974, 88, 979, 417, 279};

    static {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("model_name", "--model");
        k.put("dit_checkpoint", "--ckpt");
        k.put("fit_checkpoint", "--ckpt");
        k.put("vae_checkpoint", "--vae");
        k.put("image_size", "--image-size");
        k.put("image_height", "--image-height");
        k.put("image_width", "--image-width");
        k.put("sampling_steps", "--steps");
        k.put("guidance_scale", "--cfg-scale");
        k.put("seed", "--seed");
        k.put("ddim_sampling", "--sampler");
        k.put("imagegrid", "--grid");
        k.put("sd_scale_factor", "(the VAE's latent scale)");
        k.put("patch_size", "(the model's patch size)");
        k.put("embed_method", "(MindONE FiT's position embedding: the model's pos)");
        k.put("embed_dim", "(MindONE FiT's position table width, checked against the model)");
        KEYS = Collections.unmodifiableMap(k);
    }

    static InferenceConfig load(Path file) {
        Object doc;
        try (Reader r = Files.newBufferedReader(file)) {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("--config " + file + ": cannot read (" + e.getMessage() + ")");
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--config " + file + ": not valid YAML (" + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")");
        }
        if (doc == null) doc = Map.of();
        if (!(doc instanceof Map<?, ?> m)) throw new IllegalArgumentException("--config " + file + ": an inference config must be a mapping of keys");
        Map<String, Object> values = new LinkedHashMap<>();
        List<String> ignored = new ArrayList<>();
        for (var e : m.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (IGNORED.contains(key)) ignored.add(key);
            else if (KEYS.containsKey(key)) values.put(key, e.getValue());
            else throw new IllegalArgumentException("--config " + file + ": unknown key '" + key + "' (known: "
                    + String.join(", ", KEYS.keySet()) + "; ignored: " + String.join(", ", IGNORED) + ")");
        }
        if (values.containsKey("dit_checkpoint") && values.containsKey("fit_checkpoint")
                && !isBlank(values.get("dit_checkpoint")) && !isBlank(values.get("fit_checkpoint")))
            throw new IllegalArgumentException("--config " + file + ": give dit_checkpoint or fit_checkpoint, not both");
        return new InferenceConfig(file, values, ignored);
    }

    private static boolean isBlank(Object v) {
        return v == null || v.toString().isBlank();
    }

    boolean has(String key) {
        return values.containsKey(key) && !isBlank(values.get(key));
    }

    String str(String key) {
        Object v = values.get(key);
        if (v instanceof String s) return s;
        throw wrong(key, v, "a string");
    }

    int integer(String key) {
        Object v = values.get(key);
        if (v instanceof Integer i) return i;
        throw wrong(key, v, "an integer");
    }

    double number(String key) {
        Object v = values.get(key);
        if (v instanceof Number n && Double.isFinite(n.doubleValue())) return n.doubleValue();
        throw wrong(key, v, "a finite number");
    }

    boolean bool(String key) {
        Object v = values.get(key);
        if (v instanceof Boolean b) return b;
        throw wrong(key, v, "true or false");
    }

    /** {@code sample.py}'s default {@code --image_height}/{@code --image_width} (FiT) and {@code --image_size}. */
    static final int MINDONE_IMAGE_SIDE = 256;

    /** Whether the file configures MindONE's FiT ({@code examples/fit/sample.py}) rather than its DiT. */
    boolean describesFit() {
        return has("fit_checkpoint") || has("embed_method") || has("embed_dim") || has("model_name") && str("model_name").startsWith("FiT-");
    }

    /** dit4j's model name for {@code model_name}: MindONE's FiT sizes carry the {@code MindONE-} prefix, DiT names are dit4j's. */
    String modelName() {
        String name = str("model_name");
        if (!describesFit()) return name;
        try {
            return MindOneFiTFamily.fromMindOneName(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--config " + file + ": key 'model_name': " + e.getMessage());
        }
    }

    /** {@code image_height} in pixels, {@code sample.py}'s 256 when absent. */
    int imageHeight() {
        return has("image_height") ? positive("image_height") : MINDONE_IMAGE_SIDE;
    }

    /** {@code image_width} in pixels, {@code sample.py}'s 256 when absent. */
    int imageWidth() {
        return has("image_width") ? positive("image_width") : MINDONE_IMAGE_SIDE;
    }

    private int positive(String key) {
        int v = integer(key);
        if (v <= 0) throw wrong(key, v, "a positive number of pixels");
        return v;
    }

    /**
     * The architecture as MindONE's {@code sample.py} builds it from this file: a MindONE FiT gets {@code pos =
     * embed_method}, and {@code patch_size} and {@code embed_dim} (the table width: head size for {@code rotate}, hidden
     * size for {@code absolute}) are checked against it; other models get the {@code patch_size} check only.
     */
    ModelConfig applyTo(ModelConfig cfg) {
        ModelConfig out = cfg;
        if (cfg instanceof MindOneFiTConfig fit) {
            if (has("embed_method")) {
                String method = str("embed_method");
                if (!MindOneFiTConfig.POSITIONS.contains(method))
                    throw wrong("embed_method", method, "one of " + MindOneFiTConfig.POSITIONS);
                fit = fit.withPos(method);
            }
            if (has("embed_dim") && integer("embed_dim") != fit.embedDim())
                throw new IllegalArgumentException("--config " + file + ": embed_dim " + integer("embed_dim") + " does not match the model's "
                        + fit.embedDim() + " (" + (fit.pos().equals("rotate") ? "the head size, for embed_method rotate" : "the hidden size, for embed_method absolute") + ")");
            out = fit;
        } else if (has("embed_method") || has("embed_dim")) {
            throw new IllegalArgumentException("--config " + file + ": embed_method and embed_dim configure MindONE's FiT, but the model is " + cfg.family());
        }
        Object p = out.toMap().get("patch_size");
        if (has("patch_size") && !Integer.valueOf(integer("patch_size")).equals(p))
            throw new IllegalArgumentException("--config " + file + ": patch_size " + integer("patch_size") + " does not match the model's " + p);
        return out;
    }

    /** The checkpoint path, whichever key names it. */
    String checkpoint() {
        return has("dit_checkpoint") ? str("dit_checkpoint") : str("fit_checkpoint");
    }

    boolean hasCheckpoint() {
        return has("dit_checkpoint") || has("fit_checkpoint");
    }

    private IllegalArgumentException wrong(String key, Object v, String expected) {
        return new IllegalArgumentException("--config " + file + ": key '" + key + "' must be " + expected + ", found '" + v + "'");
    }
}
