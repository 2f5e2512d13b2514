package org.dit4j.training;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * Training settings: the official {@code train.py} defaults, overridable by a YAML file (keys as in MindONE's
 * training YAML where they mean the same thing) and then by command-line flags. Unknown keys are errors.
 */
public final class TrainConfig {
    /** Key → default; the order is the documentation order. */
    public static final Map<String, Object> DEFAULTS = defaults();

    private static Map<String, Object> defaults() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("model", "DiT-XL/2");              // official name; or model_config
        d.put("model_config", null);             // path to a YAML model config
        d.put("image_size", 256);
        d.put("num_classes", 1000);
        d.put("vae", "ema");                     // train.py's default; mse, a path, or none (pixel space)
        d.put("data_path", null);                // ImageNet-format folder
        d.put("features_path", null);            // dit4j extract-features output
        d.put("scale_factor", 0.18215);          // latents = posterior sample × this, for --moments features (U-ViT's MS-COCO configs: 0.23010)
        d.put("train_batch_size", 256);          // train.py's global batch size
        d.put("gradient_accumulation_steps", 1);
        d.put("start_learning_rate", 1e-4);
        d.put("end_learning_rate", 0.0);         // cosine schedule's floor
        d.put("scheduler", "constant");          // constant, cosine, or customized (U-ViT's min(step / warmup, 1))
        d.put("warmup_steps", 0);
        d.put("weight_decay", 0.0);
        d.put("beta1", 0.9);                     // AdamW betas (U-ViT's configs: 0.99/0.99, 0.99/0.999, 0.9/0.9)
        d.put("beta2", 0.999);
        d.put("epochs", 1400);
        d.put("max_steps", 0);                   // 0: as many as the epochs take
        d.put("use_ema", true);
        d.put("ema_decay", 0.9999);
        d.put("ema_warmup", false);              // decay min(ema_decay, (1 + n)/(10 + n)) at update n
        d.put("clip_grad", false);
        d.put("max_grad_norm", 1.0);
        d.put("random_flip", true);
        d.put("target_len", 0);                  // FiT: tokens of the latent dataset (its folders' <L>); 0: the model's context_size
        d.put("latent_copy", "resize");          // FiT: resize, crop or random (the official data.random)
        d.put("pad_to", "longest");              // FiT: longest (train_fit.py's trim to the batch's longest) or target_len
        d.put("ckpt_every", 50000);
        d.put("ckpt_max_keep", 3);
        d.put("log_every", 100);
        d.put("sample_every", 0);                // a sample grid from the EMA weights every N steps (0: never)
        d.put("sample_labels", "");              // their class ids, comma-separated; empty: the first (up to 8) classes
        d.put("sample_steps", 25);               // sampling steps of those samples
        d.put("sample_sampler", "ddim");         // ddim, ddpm, dpm-solver, dpm-solver++ (U-ViT also euler-maruyama[-ode])
        d.put("seed", 0);
        d.put("init_from", null);                // weights to fine-tune from
        return Collections.unmodifiableMap(d);
    }

    private final Map<String, Object> values = new LinkedHashMap<>(DEFAULTS);

    public static TrainConfig defaultsOnly() {
        return new TrainConfig();
    }

    public static TrainConfig load(Path file) {
        TrainConfig c = new TrainConfig();
        try (Reader r = Files.newBufferedReader(file)) {
            Object doc;
            try {
                doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ": not valid YAML (" + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")");
            }
            if (doc == null) return c;
            if (!(doc instanceof Map<?, ?> m)) throw new IllegalArgumentException(file + ": a training config must be a mapping");
            for (var e : m.entrySet()) c.set(String.valueOf(e.getKey()), e.getValue(), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read (" + e.getMessage() + ")");
        }
        return c;
    }

    /** Sets a key, converting strings from the command line to the default's type. */
    public TrainConfig set(String key, Object value, String source) {
        if (!DEFAULTS.containsKey(key)) throw new IllegalArgumentException(source + ": unknown training key '" + key + "' (known: " + String.join(", ", DEFAULTS.keySet()) + ")");
        Object def = DEFAULTS.get(key);
        Object v = value;
        try {
            if (value instanceof String s && def != null && !(def instanceof String)) {
                if (def instanceof Integer) v = Integer.parseInt(s);
                else if (def instanceof Double) v = Double.parseDouble(s);
                else if (def instanceof Boolean) v = parseBool(s);
            }
            if (def instanceof Double && v instanceof Number n) v = n.doubleValue();
            if (def != null && v != null && !def.getClass().isInstance(v))
                throw new IllegalArgumentException("expected " + def.getClass().getSimpleName().toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": key '" + key + "' = '" + value + "': " + (e instanceof NumberFormatException ? "not a number" : e.getMessage()));
        }
        String bad = v == null ? null : rangeProblem(key, v);
        if (bad != null) throw new IllegalArgumentException(source + ": key '" + key + "' = '" + value + "': " + bad);
        values.put(key, v);
        return this;
    }

    /** What is wrong with a value of the right type, or null. */
    private static String rangeProblem(String key, Object v) {
        if (v instanceof Double d && !Double.isFinite(d)) return "must be a finite number";
        return switch (key) {
            case "train_batch_size", "gradient_accumulation_steps", "ckpt_every", "log_every", "ckpt_max_keep", "epochs", "sample_steps",
                 "image_size", "num_classes" -> (Integer) v >= 1 ? null : "must be at least 1";
            case "latent_copy" -> org.dit4j.data.FitLatents.VARIANTS.contains(v) ? null : "must be resize, crop or random";
            case "pad_to" -> v.equals("longest") || v.equals("target_len") ? null : "must be longest or target_len";
            case "max_steps", "warmup_steps", "sample_every", "seed", "target_len" -> (Integer) v >= 0 ? null : "must be 0 or more";
            case "start_learning_rate", "end_learning_rate", "weight_decay" -> (Double) v >= 0 ? null : "must be 0 or more";
            case "max_grad_norm", "scale_factor" -> (Double) v > 0 ? null : "must be positive";
            case "beta1", "beta2" -> (Double) v >= 0 && (Double) v < 1 ? null : "must lie in [0, 1)";
            case "ema_decay" -> (Double) v >= 0 && (Double) v <= 1 ? null : "must lie in [0, 1]";
            case "scheduler" -> v.equals("constant") || v.equals("cosine") || v.equals("customized") ? null : "must be constant, cosine or customized";
            case "sample_sampler" -> java.util.Arrays.stream(org.dit4j.pipeline.SampleRequest.SamplerKind.values())
                    .anyMatch(k -> k.spelling().equals(v)) ? null : "must be ddim, ddpm, dpm-solver, dpm-solver++, euler-maruyama or euler-maruyama-ode";
            default -> null;
        };
    }

    private static boolean parseBool(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException("expected true or false");
        };
    }

    public String str(String key) {
        Object v = values.get(key);
        return v == null ? null : v.toString();
    }

    public int integer(String key) {
        return (Integer) values.get(key);
    }

    public double real(String key) {
        return (Double) values.get(key);
    }

    public boolean bool(String key) {
        return (Boolean) values.get(key);
    }

    public Map<String, Object> asMap() {
        return Collections.unmodifiableMap(values);
    }

    public String toYaml() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(k).append(": ").append(v == null ? "null" : v instanceof String s ? "\"" + s + "\"" : v).append('\n'));
        return sb.toString();
    }

    /** Optimiser steps of a run over {@code examples}: max_steps, or as many as the epochs take. */
    public long totalSteps(int examples) {
        if (integer("max_steps") > 0) return integer("max_steps");
        long perEpoch = Math.max(1, examples / ((long) integer("train_batch_size") * integer("gradient_accumulation_steps")));
        return perEpoch * integer("epochs");
    }

    /** Learning rate at {@code step}: linear warm-up, then constant or cosine to {@code end_learning_rate}. */
    public double learningRate(long step, long totalSteps) {
        // U-ViT's utils.customized_lr_scheduler: LambdaLR(min(step / warmup, 1)), so its first update runs at lr 0
        if ("customized".equals(str("scheduler")))
            return real("start_learning_rate") * (integer("warmup_steps") == 0 ? 1.0 : Math.min(1.0, (double) step / integer("warmup_steps")));
        return learningRate(real("start_learning_rate"), real("end_learning_rate"), integer("warmup_steps"), cosine(), step, totalSteps);
    }

    public boolean cosine() {
        if (!"cosine".equals(str("scheduler")) && !"constant".equals(str("scheduler")) && !"customized".equals(str("scheduler")))
            throw new IllegalArgumentException("scheduler must be constant, cosine or customized, got '" + str("scheduler") + "'");
        return "cosine".equals(str("scheduler"));
    }

    public static double learningRate(double start, double end, int warmup, boolean cosine, long step, long totalSteps) {
        if (step < warmup) return start * (step + 1) / warmup;
        if (!cosine) return start;
        double progress = Math.min(1.0, (double) (step - warmup) / Math.max(1, totalSteps - warmup));
        return end + 0.5 * (start - end) * (1 + Math.cos(Math.PI * progress));
    }
}
