package org.dit4j.models.uvit;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;

import java.util.*;

import static org.dit4j.models.ConfigKeys.boolOf;
import static org.dit4j.models.ConfigKeys.intOf;
import static org.dit4j.models.ConfigKeys.numOf;

/**
 * The official {@code UViT(...)} constructor arguments of {@code libs/uvit.py} ({@code family: uvit}) and
 * {@code libs/uvit_t2i.py} ({@code family: uvit-t2i}), under the same key names, plus two keys of the training
 * config that decide how the network is used: {@code schedule} ({@code continuous}: the VP SDE of {@code train.py} /
 * {@code train_ldm.py}, network time t·999; {@code discrete}: the Stable Diffusion betas of
 * {@code train_ldm_discrete.py} / {@code train_t2i_discrete.py}, network time n ∈ 1..1000) and {@code p_uncond}
 * (the dataset's label dropout: when positive, the last row of {@code label_emb} is the null label of guidance).
 * {@code use_checkpoint} (gradient checkpointing, a memory choice) is kept for round trips and has no effect here.
 * {@code sample} holds the eval config's {@code config.sample} settings that sampling defaults to: {@code algorithm}
 * ({@code dpm_solver}, {@code euler_maruyama_sde}, {@code euler_maruyama_ode}), {@code sample_steps} and the guidance
 * {@code scale} (U-ViT's s in {@code cond + s·(cond − uncond)}; 0 = none). {@code scale_factor} is the config's
 * {@code config.autoencoder.scale_factor} for latent models: what training multiplied the autoencoder's latents by
 * (0.18215, {@code libs/autoencoder.py}'s default; MS-COCO 0.23010), so what samples are divided by before decoding.
 */
public record UViTConfig(String family, int imgSize, int patchSize, int inChans, int embedDim, int depth, int numHeads,
                         double mlpRatio, boolean qkvBias, boolean mlpTimeEmbed, int numClassesArg, int clipDim,
                         int numClipToken, boolean conv, boolean skip, boolean useCheckpoint, String schedule,
                         double pUncond, double scaleFactor, Sample sample) implements ModelConfig {
    /** {@code config.sample}: the eval script's algorithm, steps and guidance scale. */
    public record Sample(String algorithm, int sampleSteps, double scale) {
        public static final List<String> ALGORITHMS = List.of("dpm_solver", "euler_maruyama_sde", "euler_maruyama_ode");
        public static final Sample DEFAULT = new Sample("dpm_solver", 50, 0);

        public Sample {
            require(ALGORITHMS.contains(algorithm), "sample.algorithm must be one of " + ALGORITHMS + ", found " + algorithm);
            require(sampleSteps >= 1 && sampleSteps <= 100_000, "sample.sample_steps must be in [1, 100000], found " + sampleSteps);
            require(Double.isFinite(scale) && scale >= 0, "sample.scale must be a finite number >= 0, found " + scale);
        }
    }

    public static final String CONTINUOUS = "continuous", DISCRETE = "discrete";
    /** {@code libs/autoencoder.get_model}'s default scale factor. */
    public static final double DEFAULT_SCALE_FACTOR = 0.18215;
    static final List<String> COMMON = List.of("img_size", "patch_size", "in_chans", "embed_dim", "depth", "num_heads",
            "mlp_ratio", "qkv_bias", "qk_scale", "mlp_time_embed", "use_checkpoint", "conv", "skip", "schedule", "p_uncond", "scale_factor", "sample", "name");
    static final List<String> CLASS_KEYS = List.of("num_classes"), T2I_KEYS = List.of("clip_dim", "num_clip_token");

    public UViTConfig {
        require(family.equals(UViTFamily.NAME) || family.equals(UViTFamily.T2I), "family must be uvit or uvit-t2i, found " + family);
        require(imgSize > 0 && patchSize > 0 && imgSize % patchSize == 0, "img_size (" + imgSize + ") must be a positive multiple of patch_size (" + patchSize + ")");
        require(inChans > 0 && inChans <= 64, "in_chans must be in [1, 64], found " + inChans);
        require(embedDim > 0 && embedDim <= 16384, "embed_dim must be in [1, 16384], found " + embedDim);
        require(numHeads > 0 && embedDim % numHeads == 0, "embed_dim (" + embedDim + ") must be divisible by num_heads (" + numHeads + ")");
        require(depth >= 1 && depth <= 512, "depth must be in [1, 512], found " + depth);
        require(Double.isFinite(mlpRatio) && mlpRatio > 0 && (int) (embedDim * mlpRatio) > 0 && mlpRatio * embedDim <= 65536,
                "mlp_ratio must give an MLP width in [1, 65536], found " + mlpRatio);
        require(numClassesArg == -1 || numClassesArg > 0 && numClassesArg <= 1_000_000, "num_classes must be -1 (unconditional) or in [1, 1000000], found " + numClassesArg);
        require(clipDim > 0 && clipDim <= 16384, "clip_dim must be in [1, 16384], found " + clipDim);
        require(numClipToken > 0 && numClipToken <= 4096, "num_clip_token must be in [1, 4096], found " + numClipToken);
        require(schedule.equals(CONTINUOUS) || schedule.equals(DISCRETE), "schedule must be continuous or discrete, found " + schedule);
        require(pUncond >= 0 && pUncond < 1, "p_uncond must be in [0, 1), found " + pUncond);
        require(Double.isFinite(scaleFactor) && scaleFactor > 0, "scale_factor must be a positive number, found " + scaleFactor);
        require(pUncond == 0 || family.equals(UViTFamily.T2I) || numClassesArg >= 2, "p_uncond > 0 needs a label table with a null row (num_classes ≥ 2)");
        require(sample != null, "sample settings missing");
        require(!sample.algorithm().startsWith("euler") || schedule.equals(CONTINUOUS), "Euler-Maruyama samples the continuous VP SDE, not schedule " + schedule);
        require(imgSize <= 1024 && (long) (imgSize / patchSize) * (imgSize / patchSize) <= 16384, "img_size / patch_size gives more than 16384 tokens");
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("invalid model config: " + message);
    }

    public boolean isT2I() {
        return family.equals(UViTFamily.T2I);
    }

    /** A label token: class-conditional ({@code num_classes > 0}); t2i models take a context instead. */
    public boolean hasLabels() {
        return !isT2I() && numClassesArg > 0;
    }

    /** Pixel space: the samples are images (3 input channels), no autoencoder. */
    public boolean isPixelSpace() {
        return inChans == 3;
    }

    /** What a latent model's samples are divided by before decoding; NaN for a pixel model. */
    @Override
    public double latentScaleFactor() {
        return isPixelSpace() ? Double.NaN : scaleFactor;
    }

    public boolean isContinuous() {
        return schedule.equals(CONTINUOUS);
    }

    /** The tokens before the patches: [label, time] or [time], t2i [time, context]. */
    public int extras() {
        return isT2I() ? 1 + numClipToken : hasLabels() ? 2 : 1;
    }

    public int gridSize() {
        return imgSize / patchSize;
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    public int numTokens() {
        return extras() + numPatches();
    }

    public int mlpHidden() {
        return (int) (embedDim * mlpRatio);
    }

    public int patchDim() {
        return patchSize * patchSize * inChans;
    }

    @Override
    public String family() {
        return family;
    }

    @Override
    public int inChannels() {
        return inChans;
    }

    /** ε only. */
    @Override
    public int outChannels() {
        return inChans;
    }

    @Override
    public boolean learnSigma() {
        return false;
    }

    @Override
    public int inputSize() {
        return imgSize;
    }

    /** The real classes: the label table without its null row. */
    @Override
    public int numClasses() {
        if (!hasLabels()) return 0;
        return pUncond > 0 ? numClassesArg - 1 : numClassesArg;
    }

    /** {@code (num_clip_token, clip_dim)} for a text-to-image U-ViT. */
    @Override
    public int[] contextShape() {
        return isT2I() ? new int[]{numClipToken, clipDim} : null;
    }

    /** The last row of {@code label_emb} ({@code dataset.K}) when labels were dropped in training. */
    @Override
    public int nullLabel() {
        return hasLabels() && pUncond > 0 ? numClassesArg - 1 : -1;
    }

    @Override
    public double labelDropout() {
        return pUncond;
    }

    /** {@code cfg_nnet} guides every channel. */
    @Override
    public int officialGuidedChannels() {
        return inChans;
    }

    @Override
    public GuidanceRule guidanceRule() {
        return GuidanceRule.TWO_PASS;
    }

    @Override
    public Process process() {
        return isContinuous() ? Process.VP_CONTINUOUS : Process.SD_DISCRETE;
    }

    /**
     * The eval scripts: {@code eval_ldm_discrete.py} / {@code eval_t2i_discrete.py} run {@code dpm_solver_pp.py}'s
     * DPM-Solver with {@code predict_x0=True} (order 3, 'fast', time_uniform); {@code eval.py} / {@code eval_ldm.py}
     * run {@code dpm_solver_pytorch.py}'s noise-prediction DPM-Solver-fast (order 3, logSNR) or Euler–Maruyama.
     */
    @Override
    public SamplingDefaults officialSampling() {
        double scale = nullLabel() >= 0 || isT2I() ? sample.scale() : 0;
        return switch (sample.algorithm()) {
            case "dpm_solver" -> isContinuous() ? new SamplingDefaults("dpm-solver", sample.sampleSteps(), scale, 3, "fast", "logSNR")
                    : new SamplingDefaults("dpm-solver++", sample.sampleSteps(), scale, 3, "fast", "time_uniform");
            case "euler_maruyama_sde" -> new SamplingDefaults("euler-maruyama", sample.sampleSteps(), scale, 0, null, null);
            default -> new SamplingDefaults("euler-maruyama-ode", sample.sampleSteps(), scale, 0, null, null);
        };
    }

    @Override
    public UViTConfig withInputSize(int size) {
        return new UViTConfig(family, size, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, mlpTimeEmbed,
                numClassesArg, clipDim, numClipToken, conv, skip, useCheckpoint, schedule, pUncond, scaleFactor, sample);
    }

    /** {@code n} real classes (the null row added where the model has one). */
    @Override
    public UViTConfig withNumClasses(int n) {
        if (!hasLabels()) throw new IllegalArgumentException("a " + (isT2I() ? "text-to-image" : "unconditional") + " U-ViT has no classes");
        return new UViTConfig(family, imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, mlpTimeEmbed,
                pUncond > 0 ? n + 1 : n, clipDim, numClipToken, conv, skip, useCheckpoint, schedule, pUncond, scaleFactor, sample);
    }

    @Override
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(ModelFamilies.FAMILY_KEY, family);
        m.put("schedule", schedule);
        m.put("img_size", imgSize);
        m.put("patch_size", patchSize);
        m.put("in_chans", inChans);
        m.put("embed_dim", embedDim);
        m.put("depth", depth);
        m.put("num_heads", numHeads);
        m.put("mlp_ratio", mlpRatio);
        m.put("qkv_bias", qkvBias);
        m.put("mlp_time_embed", mlpTimeEmbed);
        if (isT2I()) {
            m.put("clip_dim", clipDim);
            m.put("num_clip_token", numClipToken);
        } else {
            m.put("num_classes", numClassesArg);
        }
        m.put("use_checkpoint", useCheckpoint);
        m.put("conv", conv);
        m.put("skip", skip);
        m.put("p_uncond", pUncond);
        if (!isPixelSpace()) m.put("scale_factor", scaleFactor);
        Map<String, Object> smp = new LinkedHashMap<>();
        smp.put("algorithm", sample.algorithm());
        smp.put("sample_steps", sample.sampleSteps());
        smp.put("scale", sample.scale());
        m.put("sample", smp);
        return m;
    }

    /** One line per key, {@code sample} as a flow mapping (checkpoint folders indent these lines under {@code model:}). */
    @Override
    public String toYaml() {
        StringBuilder sb = new StringBuilder();
        toMap().forEach((k, v) -> {
            sb.append(k).append(": ");
            if (v instanceof Map<?, ?> m) {
                StringJoiner j = new StringJoiner(", ", "{", "}");
                m.forEach((a, b) -> j.add(a + ": " + b));
                sb.append(j);
            } else {
                sb.append(v);
            }
            sb.append('\n');
        });
        return sb.toString();
    }

    /** The constructor arguments of a config mapping (without its {@code family} key); absent keys take the official defaults. */
    static UViTConfig fromMap(String family, Map<?, ?> m, String source) {
        boolean t2i = family.equals(UViTFamily.T2I);
        List<String> keys = new ArrayList<>(COMMON);
        keys.addAll(t2i ? T2I_KEYS : CLASS_KEYS);
        for (Object k : m.keySet())
            if (!keys.contains(String.valueOf(k)))
                throw new IllegalArgumentException(source + ": unknown " + family + " model config key '" + k + "' (expected " + keys + ")");
        if (m.get("qk_scale") != null)
            throw new IllegalArgumentException(source + ": key 'qk_scale' must be null (head_dim^-0.5), found '" + m.get("qk_scale") + "'");
        try {
            Object schedule = m.get("schedule");
            if (schedule != null && !(schedule instanceof String))
                throw new IllegalArgumentException(source + ": key 'schedule' must be continuous or discrete, found '" + schedule + "'");
            return new UViTConfig(family, intOf(m, "img_size", 224, source), intOf(m, "patch_size", 16, source),
                    intOf(m, "in_chans", 3, source), intOf(m, "embed_dim", 768, source), intOf(m, "depth", 12, source),
                    intOf(m, "num_heads", 12, source), numOf(m, "mlp_ratio", 4.0, source), boolOf(m, "qkv_bias", false, source),
                    boolOf(m, "mlp_time_embed", false, source), t2i ? -1 : intOf(m, "num_classes", -1, source),
                    intOf(m, "clip_dim", 768, source), intOf(m, "num_clip_token", 77, source), boolOf(m, "conv", true, source),
                    boolOf(m, "skip", true, source), boolOf(m, "use_checkpoint", false, source),
                    schedule != null ? (String) schedule : t2i ? DISCRETE : CONTINUOUS, numOf(m, "p_uncond", 0.0, source),
                    numOf(m, "scale_factor", DEFAULT_SCALE_FACTOR, source), sampleOf(m.get("sample"), source));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith(source) ? e.getMessage() : source + ": " + e.getMessage(), e);
        }
    }

    private static Sample sampleOf(Object v, String source) {
        if (v == null) return Sample.DEFAULT;
        if (!(v instanceof Map<?, ?> m)) throw new IllegalArgumentException(source + ": key 'sample' must be a mapping (algorithm, sample_steps, scale)");
        for (Object k : m.keySet())
            if (!List.of("algorithm", "sample_steps", "scale").contains(String.valueOf(k)))
                throw new IllegalArgumentException(source + ": unknown key 'sample." + k + "' (expected algorithm, sample_steps, scale)");
        Object algorithm = m.get("algorithm");
        if (algorithm != null && !(algorithm instanceof String))
            throw new IllegalArgumentException(source + ": key 'sample.algorithm' must be one of " + Sample.ALGORITHMS + ", found '" + algorithm + "'");
        return new Sample(algorithm == null ? Sample.DEFAULT.algorithm() : (String) algorithm,
                intOf(m, "sample_steps", Sample.DEFAULT.sampleSteps(), source), numOf(m, "scale", Sample.DEFAULT.scale(), source));
    }
}
