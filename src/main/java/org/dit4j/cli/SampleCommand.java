package org.dit4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.dit4j.data.ImageNetClasses;
import org.dit4j.io.AtomicFiles;
import org.dit4j.io.Images;
import org.dit4j.io.ModelLoader;
import org.dit4j.io.Npy;
import org.dit4j.io.Weights;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.clip.FrozenClipEmbedder;
import org.dit4j.models.fit.FiTConfig;
import org.dit4j.models.fit.FiTModel;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.pipeline.DiffusionPipeline;
import org.dit4j.pipeline.GuidanceChannels;
import org.dit4j.pipeline.SampleRequest;
import org.dit4j.pipeline.Vaes;
import org.dit4j.pipeline.shards.ShardExecutor;
import org.dit4j.util.PhaseTimes;
import org.dit4j.zoo.Zoo;
import org.dit4j.zoo.ZooEntry;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Sample class-conditional images (or latents) from a model; flags follow the official sample.py.")
public final class SampleCommand implements Callable<Integer> {
    /** The metadata file written beside the images. */
    static final String METADATA = "samples.json";

    @Mixin
    ModelOptions arch;

    @Mixin
    ShardOptions shards;

    @Option(names = {"-c", "--config"}, description = "A MindONE inference YAML (configs/inference/*.yaml: model_name, dit_checkpoint, vae_checkpoint,"
            + " image_size, sampling_steps, guidance_scale, seed, ddim_sampling, imagegrid, sd_scale_factor, ...); flags override it.")
    Path config;

    @Spec
    CommandSpec spec;

    @Option(names = "--ckpt", description = "Weights: a zoo name (DiT-XL/2-256), .pt (torch.save), MindSpore .ckpt, .safetensors, a diffusers folder, a dit4j checkpoint directory, or a training run folder (its newest checkpoint).")
    Path ckpt;

    @Option(names = "--image-size", description = "Image size in pixels (256 or 512 for DiT-XL/2); latents are 1/8 of it. Default: the checkpoint's.")
    Integer imageSize;

    @Option(names = "--image-height", description = "Image height in pixels, a multiple of 8·patch (16 for FiT-XL/2); with --image-width."
            + " FiT samples any size (MindONE's FiT within --image-size's largest grid), DiT experimentally. Default: the model's square size.")
    Integer imageHeight;

    @Option(names = "--image-width", description = "FiT: image width in pixels, a multiple of 8·patch; with --image-height.")
    Integer imageWidth;

    @Option(names = "--interpolation", converter = Converters.InterpolationConverter.class, completionCandidates = Converters.InterpolationConverter.class,
            description = "FiT RoPE extrapolation beyond the trained grid, as sample_fit_ddp.py: no (default), linear, dynntk, partntk, yarn.")
    String interpolation;

    @Option(names = "--decouple", description = "FiT: extrapolate rows and columns separately (VisionNTK / VisionYaRN with dynntk / yarn).")
    boolean decouple;

    @Option(names = "--num-classes", description = "Number of classes (default: the config's, 1000 for the named models).")
    Integer numClasses;

    /** What to sample: class labels, prompts or text contexts (text-to-image), or a number of samples (unconditional). */
    static final class Classes {
        @Option(names = "--labels", split = ",", description = "Class ids, comma-separated, e.g. 207,360,387.")
        long[] ids;

        @Option(names = "--class-names", description = "ImageNet class names, comma-separated, e.g. \"golden retriever,white shark\".")
        String names;

        @Option(names = "--prompt", description = "Text-to-image: a prompt, one image each; repeat the flag for more.")
        List<String> prompts;

        @Option(names = "--prompts", paramLabel = "FILE", description = "Text-to-image: one prompt per line, or a JSON list of strings.")
        Path promptsFile;

        @Option(names = "--context", paramLabel = "ctx.npy", description = "Text-to-image: contexts (N, 77, D) made by dit4j extract-text-features, one image per row.")
        Path context;

        @Option(names = "--num-samples", description = "Unconditional models: how many images.")
        Integer numSamples;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Classes classes;

    @Option(names = "--text-encoder", paramLabel = "PATH|NAME", description = "Text-to-image: the CLIP text model for --prompt/--prompts, a Hugging Face"
            + " folder or a zoo name (default: " + ExtractTextFeaturesCommand.DEFAULT_TEXT_ENCODER + ").")
    String textEncoder;

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "Text-to-image: vocab.json + merges.txt (or bpe_simple_vocab_16e6.txt.gz); default: the files beside the text encoder.")
    Path tokenizer;

    @Option(names = "--null-context", paramLabel = "empty.npy", description = "Text-to-image: the empty prompt's context (77, D) to guide away from"
            + " (U-ViT's empty_context.npy); default: the text encoder's encoding of \"\".")
    Path nullContext;

    @Option(names = "--latent-scale", description = "Divide latents by this before decoding (default: the model config's scale_factor, e.g. U-ViT MS-COCO's 0.23010,"
            + " else the VAE's 0.18215).")
    Double latentScaleFlag;

    @Option(names = "--sampler", defaultValue = "ddpm", converter = Converters.SamplerConverter.class,
            completionCandidates = Converters.SamplerConverter.class, description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    SampleRequest.SamplerKind sampler;

    @Option(names = "--steps", description = "Sampling steps (default: 250 for ddpm/ddim, as sample.py's respacing str(250); 20 for DPM-Solver).")
    Integer steps;

    @Option(names = "--order", description = "DPM-Solver order 1, 2 or 3 (default: 2).")
    Integer order;

    @Option(names = "--solver-method", converter = Converters.SolverMethodConverter.class, completionCandidates = Converters.SolverMethodConverter.class,
            description = "DPM-Solver method: multistep (default), singlestep (the official adaptive-order plan, DPM-Solver-fast; 'fast' is the same), singlestep-fixed.")
    org.dit4j.diffusion.DpmSolver.Method solverMethod;

    @Option(names = "--skip-type", converter = Converters.SkipTypeConverter.class, completionCandidates = Converters.SkipTypeConverter.class,
            description = "DPM-Solver time grid: time_uniform (default), logSNR, time_quadratic.")
    org.dit4j.diffusion.DpmSolver.SkipType skipType;

    @Option(names = "--respacing", description = "Explicit timestep respacing (e.g. 250, ddim50, 10,20,30); overrides --steps.")
    String respacing;

    @Option(names = "--eta", defaultValue = "0.0", description = "DDIM eta (default: ${DEFAULT-VALUE}).")
    double eta;

    @Option(names = "--cfg-scale", defaultValue = "4.0", description = "Classifier-free guidance scale: DiT's s in uncond + s·(cond − uncond), 1 disables guidance"
            + " (default: ${DEFAULT-VALUE}); for U-ViT its s in cond + s·(cond − uncond) (= DiT's s − 1), 0 disables (default: the model config's sample.scale).")
    double cfgScale;

    @Option(names = "--cfg-channels", defaultValue = "3", converter = Converters.CfgChannels.class, completionCandidates = Converters.CfgChannels.class,
            description = "Guide the official channels '3' (DiT) or 'all' (diffusers) (default: ${DEFAULT-VALUE}).")
    GuidanceChannels cfgChannels;

    @Option(names = "--clip-denoised", description = "Clip x0 predictions to [-1, 1] (off in sample.py).")
    boolean clipDenoised;

    @Option(names = "--cache-interval", defaultValue = "1", paramLabel = "N", description = "FORA's static caching (DiT only): every N-th model evaluation runs in full and the blocks' attention and MLP outputs are reused"
            + " in between, gated by the current step's adaLN; evaluations are counted as FORA counts steps (for DPM-Solver: network evaluations)."
            + " Faster, approximate; 1 = off (default: ${DEFAULT-VALUE}).")
    int cacheInterval;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the initial and per-step noise (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch-size", defaultValue = "0", description = "Labels per batch (default: " + SampleRequest.DEFAULT_BATCH + ").")
    int batchSize;

    @Option(names = "--noise", description = "Initial latents z as .npy (N, C, H, W), one row per label, e.g. from PyTorch.")
    Path noise;

    @Option(names = "--save-latents", description = "Write the final latents of the N samples (before VAE scaling) to this .npy file.")
    Path saveLatents;

    @Option(names = "--vae", defaultValue = "mse", description = "Autoencoder for latent models: mse, ema (zoo, downloaded once), or a weights file/folder (default: ${DEFAULT-VALUE}).")
    String vae;

    @Option(names = "--no-decode", description = "Keep latents only (no VAE).")
    boolean noDecode;

    @Option(names = "--out", defaultValue = "samples", description = "Output directory for the PNG files and " + METADATA + " (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--grid", description = "Grid image file (default: OUT/grid.png).")
    Path grid;

    @Option(names = "--no-grid", description = "Write the images without a grid.")
    boolean noGrid;

    /** MindONE's sd_scale_factor: what latents are divided by before decoding (default: the VAE's own, 0.18215). */
    private double latentScale = Double.NaN;

    @Option(names = "--vae-tile", defaultValue = "0", description = "Decode in overlapping latent tiles of this side (e.g. 32) to bound memory for large images; 0 = whole images.")
    int vaeTile;

    @Option(names = "--grid-nrow", defaultValue = "8", description = "Images per grid row, like save_image's nrow (default: ${DEFAULT-VALUE}).")
    int gridNrow;

    @Option(names = "--timings", description = "Print to stderr the wall time of each phase: JVM start, flag parsing, ND4J's native backend, weight reading,"
            + " model building, the first sampling step (with its executor plan), the other steps, decoding and writing.")
    boolean timings;

    @Override
    public Integer call() throws Exception {
        long[] labels = applyConfig();
        if (steps == null) steps = sampler.defaultSteps();
        if (steps <= 0) throw new IllegalArgumentException("--steps must be positive, got " + steps);
        if (!sampler.isDpmSolver() && (order != null || solverMethod != null || skipType != null))
            throw new IllegalArgumentException("--order, --solver-method and --skip-type are DPM-Solver settings; --sampler " + sampler.spelling() + " takes none");
        if (sampler.isDpmSolver() && respacing != null) throw new IllegalArgumentException("--respacing is for ddpm/ddim; DPM-Solver takes --steps");
        if (sampler.isDpmSolver() && clipDenoised) throw new IllegalArgumentException("--clip-denoised is not available with DPM-Solver");
        SampleRequest.Solver solver = solver();
        if (batchSize < 0) throw new IllegalArgumentException("--batch-size must be >= 0");
        if (cacheInterval < 1) throw new IllegalArgumentException("--cache-interval must be at least 1 (1 = no caching), got " + cacheInterval);
        shards.check();
        if (gridNrow <= 0) throw new IllegalArgumentException("--grid-nrow must be positive");
        if (vaeTile < 0) throw new IllegalArgumentException("--vae-tile must be >= 0");
        if (!Double.isFinite(cfgScale)) throw new IllegalArgumentException("--cfg-scale must be a finite number, got " + cfgScale);
        if (!Double.isFinite(eta) || eta < 0) throw new IllegalArgumentException("--eta must be a finite number >= 0, got " + eta);
        requireWritableTarget(out, "--out");
        if (numClasses != null && numClasses < 1) throw new IllegalArgumentException("--num-classes must be at least 1, got " + numClasses);
        // Refused before sampling, not after it: a latents file that cannot be written (a folder, a device, a link).
        if (saveLatents != null) AtomicFiles.requireReplaceableFile(saveLatents);
        if ((imageHeight == null) != (imageWidth == null)) throw new IllegalArgumentException("give --image-height and --image-width together");
        if (imageHeight != null && (imageHeight <= 0 || imageWidth <= 0))
            throw new IllegalArgumentException("--image-height and --image-width must be positive, got " + imageHeight + " x " + imageWidth);
        if (decouple && (interpolation == null || interpolation.equals("no")))
            throw new IllegalArgumentException("--decouple needs an --interpolation method (linear, dynntk, partntk or yarn)");
        if (latentScaleFlag != null && !(latentScaleFlag > 0 && Double.isFinite(latentScaleFlag)))
            throw new IllegalArgumentException("--latent-scale must be a positive number, got " + latentScaleFlag);
        if (latentScaleFlag != null) latentScale = latentScaleFlag;
        if (!isTextRequest() && (textEncoder != null || tokenizer != null || nullContext != null))
            throw new IllegalArgumentException("--text-encoder, --tokenizer and --null-context go with --prompt, --prompts or --context");
        if (tokenizer != null && !Files.exists(tokenizer)) throw new IllegalArgumentException("--tokenizer: no such file or folder " + tokenizer);
        PhaseTimes times = timings ? PhaseTimes.sinceJvmStart(System.err) : PhaseTimes.NONE;
        times.mark("JVM start to dit4j's main", Dit4j.runStartMillis);
        times.mark("command line (picocli, flag checks)");
        if (timings) {
            Nd4j.getExecutioner();   // ND4J loads its native libraries on first use: made its own phase here
            times.mark("ND4J native backend");
        }
        INDArray z = noise == null ? null : Npy.readFloat32(noise);

        Zoo zoo = Zoo.standard();
        Path weightsPath = ckpt;
        String archName = arch.model;
        if (!Files.exists(ckpt) && zoo.contains(ckpt.toString())) {
            // A zoo name: the cached (or freshly downloaded) official weights, at the entry's architecture.
            ZooEntry entry = zoo.entry(ckpt.toString());
            weightsPath = ZooCommand.fetchWithProgress(zoo, entry.name());
            if (entry.vae() != null && !given("--vae")) vae = entry.vae();   // U-ViT: the autoencoder its config names
            if (archName == null && arch.modelConfig == null) {
                archName = entry.architecture();
                if (imageSize == null) imageSize = entry.imageSize();
            }
        } else if (!Files.exists(ckpt)) {
            throw new IllegalArgumentException("--ckpt " + ckpt + ": no such file or directory, and not a zoo name (dit4j zoo list)");
        }
        Path resolved = ModelLoader.resolve(weightsPath);
        Weights.Imported weights = ModelLoader.read(resolved, archName, arch.modelConfig, imageSize == null ? 0 : imageSize,
                numClasses == null ? 0 : numClasses, arch.weights);
        times.mark("weight reading");
        Denoiser model = withExtrapolation(ModelLoader.build(weights, resolved));
        ModelConfig cfg = model.config();
        if (inference != null) {
            // MindONE's sample.py builds the network from the file: embed_method is a MindONE FiT's pos, patch_size is checked
            ModelConfig applied = inference.applyTo(cfg);
            if (!applied.equals(cfg)) model = org.dit4j.models.ModelFamilies.of(applied).create(applied, model.stateDict(), resolved.toString());
            cfg = applied;
        }
        checkCacheInterval(cacheInterval, model);
        if (cfg.officialSampling() != null) solver = applyOfficialSampling(cfg.officialSampling());
        boolean pixelSpace = cfg.inChannels() == 3;
        int[] latentSize = latentSize(cfg);
        times.mark("model graph building");
        AutoencoderKL autoencoder = pixelSpace || noDecode ? null : Vaes.load(vae, zoo);
        if (autoencoder != null) times.mark("VAE loading");
        DiffusionPipeline pipeline = new DiffusionPipeline(model, autoencoder);

        String spacing = respacing != null ? respacing : String.valueOf(steps);
        SampleRequest request = what(cfg, labels, zoo).withSampler(sampler, spacing)
                .withEta(eta).withGuidance(cfgScale, cfgChannels).withClipDenoised(clipDenoised)
                .withSeed(seed).withBatchSize(batchSize).withNoise(z).withSolver(solver).withCacheInterval(cacheInterval);
        if (latentSize != null) request = request.withSize(latentSize[0], latentSize[1]);
        if (isTextRequest()) times.mark("text conditioning (CLIP text encoder)");
        INDArray latents;
        if (shards.devices > 1 || shards.spark != null) {
            // the batches sampled as shards (the noise stream picked up where each starts); the VAE decodes here, as on one device
            int batches = request.batches();
            try (ShardExecutor executor = shards.executor(new DiffusionPipeline(model, null), resolved, arch.weights, null)) {
                System.err.println("dit4j sample: " + batches + " batches on " + executor.describe());
                latents = executor.latents(request, (run, l) -> System.err.println("dit4j sample: batches " + run[0] + "-" + (run[1] - 1) + " of " + batches + " done"));
            }
            times.mark("sampling (shards)");
        } else {
            long[] stepCount = {0};
            try (ProgressBar bar = progressBar()) {
                latents = pipeline.latents(request, (done, total) -> {
                    if (done == 1) times.mark("first sampling step (with its executor plan)");
                    stepCount[0] = total;
                    if (bar != null) {
                        bar.maxHint(total);
                        bar.stepTo(done);
                    }
                });
            }
            times.mark("other sampling steps (" + (stepCount[0] - 1) + ")");
        }
        if (saveLatents != null) {
            Npy.write(saveLatents, latents);
            System.out.println("wrote latents " + Arrays.toString(latents.shape()) + " to " + saveLatents);
            times.mark("writing latents");
        }
        Map<String, String> params = parameters(resolved, cfg, spacing);
        if (!pixelSpace && autoencoder == null) {
            if (saveLatents == null) {
                Path file = out.resolve("latents.npy");
                Npy.write(file, latents);
                writeMetadata(params, labels, List.of(), file);
                System.out.println("wrote latents " + Arrays.toString(latents.shape()) + " to " + file + " (--no-decode)");
                times.mark("writing latents and metadata");
            }
            times.total();
            return 0;
        }
        INDArray images = Double.isNaN(latentScale) ? pipeline.toImages(latents, vaeTile) : pipeline.toImages(latents, vaeTile, latentScale);
        times.mark("decoding to images");
        Path gridFile = noGrid ? null : grid != null ? grid : out.resolve("grid.png");
        List<String> files = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) files.add(String.format(Locale.ROOT, "%06d%s.png", i, fileSuffix(labels[i])));
        Images.writeAll(out, images, i -> fileSuffix(labels[i]), i -> pngText(params, labels[i], i), gridFile, gridNrow, params);
        writeMetadata(params, labels, files, gridFile);
        System.out.println("wrote " + labels.length + " images to " + out + (gridFile == null ? "" : " and the grid " + gridFile));
        times.mark("writing images");
        times.total();
        return 0;
    }

    /**
     * Fills what the flags leave open from {@code --config} (flags given on the command line win) and returns the labels.
     * A MindONE config also means MindONE's guidance, on every channel, and its {@code sample.py} class labels.
     */
    private long[] applyConfig() {
        if (config != null) {
            InferenceConfig c = InferenceConfig.load(config);
            inference = c;
            if (!c.ignored().isEmpty())
                System.err.println("dit4j sample: --config " + config + ": ignoring MindSpore/Ascend settings " + String.join(", ", c.ignored()));
            if (c.has("model_name") && !given("--model") && !given("--model-config")) arch.model = c.modelName();
            if (c.hasCheckpoint() && !given("--ckpt")) ckpt = Path.of(c.checkpoint());
            if (c.has("vae_checkpoint") && !given("--vae")) vae = c.str("vae_checkpoint");
            if (!given("--image-size")) {
                if (c.has("image_size")) imageSize = c.integer("image_size");
                else if (!c.describesFit() && c.has("image_height")) imageSize = c.integer("image_height");
                else if (!c.describesFit() && c.has("image_width")) imageSize = c.integer("image_width");
            }
            // a MindONE FiT samples image_height × image_width (sample.py's 256 each) inside image_size's largest grid
            if (c.describesFit() && !given("--image-height") && !given("--image-width")) {
                imageHeight = c.imageHeight();
                imageWidth = c.imageWidth();
            }
            if (c.has("sampling_steps") && !given("--steps")) steps = c.integer("sampling_steps");
            if (c.has("guidance_scale") && !given("--cfg-scale")) cfgScale = c.number("guidance_scale");
            if (c.has("seed") && !given("--seed")) seed = c.integer("seed");
            if (c.has("ddim_sampling") && !given("--sampler")) sampler = c.bool("ddim_sampling") ? SampleRequest.SamplerKind.DDIM : SampleRequest.SamplerKind.DDPM;
            if (c.has("imagegrid") && !given("--grid") && !given("--no-grid")) noGrid = !c.bool("imagegrid");
            if (c.has("sd_scale_factor")) latentScale = c.number("sd_scale_factor");
            if (!given("--cfg-channels")) cfgChannels = GuidanceChannels.ALL;   // MindONE's construct_with_cfg guides every channel
        }
        if (ckpt == null) throw new IllegalArgumentException("no weights: give --ckpt (or dit_checkpoint in --config)");
        if (classes == null) {
            if (config == null) throw new IllegalArgumentException("give --labels or --class-names (a text-to-image model: --prompt, --prompts or --context;"
                    + " an unconditional one: --num-samples)");
            return InferenceConfig.MINDONE_LABELS.clone();
        }
        if (classes.ids != null) return classes.ids;
        if (classes.names != null) return ImageNetClasses.ids(classes.names);
        int n;
        if (classes.numSamples != null) {
            if (classes.numSamples < 1) throw new IllegalArgumentException("--num-samples must be at least 1, got " + classes.numSamples);
            n = classes.numSamples;
        } else if (classes.context != null) {
            contexts = Npy.readFloat32(classes.context);
            if (contexts.rank() != 3 || contexts.size(0) < 1)
                throw new IllegalArgumentException("--context " + classes.context + ": expected contexts (N, tokens, width), found shape "
                        + Arrays.toString(contexts.shape()));
            n = (int) contexts.size(0);
        } else {
            prompts = classes.prompts != null ? classes.prompts : ExtractTextFeaturesCommand.readPrompts(classes.promptsFile);
            n = prompts.size();
        }
        return SampleRequest.unconditional(n).labels();
    }

    /** The prompts of --prompt/--prompts, or null. */
    private List<String> prompts;
    /** The text contexts of --context, or of the prompts once encoded; null for a labelled request. */
    private INDArray contexts;

    private boolean isTextRequest() {
        return classes != null && (classes.prompts != null || classes.promptsFile != null || classes.context != null);
    }

    /**
     * The request's conditioning: labels; or U-ViT's {@code FrozenCLIPEmbedder} contexts of the prompts (or --context) with
     * the empty prompt's context for guidance ({@code sample_t2i_discrete.py}), checked against the model's context shape first.
     */
    private SampleRequest what(ModelConfig cfg, long[] labels, Zoo zoo) throws java.io.IOException {
        if (!isTextRequest()) {
            if (cfg.contextShape() != null)
                throw new IllegalArgumentException("this text-to-image model samples from --prompt, --prompts or --context, not class labels");
            if (cfg.numClasses() == 0 && classes != null && classes.numSamples == null)
                throw new IllegalArgumentException("this unconditional model takes no class labels: give --num-samples N");
            if (cfg.numClasses() > 0 && classes != null && classes.numSamples != null)
                throw new IllegalArgumentException("--num-samples is for unconditional models; this one takes --labels or --class-names");
            return SampleRequest.of(labels);
        }
        int[] shape = cfg.contextShape();
        if (shape == null) throw new IllegalArgumentException("--prompt, --prompts and --context are for text-to-image models; this " + cfg.family()
                + " model takes " + (cfg.numClasses() > 0 ? "--labels or --class-names" : "--num-samples"));
        FrozenClipEmbedder embedder = null;
        if (contexts == null || nullContext == null && cfgScale > 0) {
            String name = textEncoder != null ? textEncoder : ExtractTextFeaturesCommand.DEFAULT_TEXT_ENCODER;
            embedder = ExtractTextFeaturesCommand.textEncoder(name, tokenizer, zoo);
            if (embedder.contextDim() != shape[1] || embedder.maxLength() != shape[0])
                throw new IllegalArgumentException("--text-encoder " + name + ": its contexts are (" + embedder.maxLength() + ", " + embedder.contextDim()
                        + "), the model takes (" + shape[0] + ", " + shape[1] + ") (num_clip_token, clip_dim)");
        }
        if (contexts == null) contexts = ExtractTextFeaturesCommand.encode(embedder, prompts).context();
        INDArray empty = nullContext != null ? Npy.readFloat32(nullContext) : cfgScale > 0 ? embedder.emptyContext() : null;
        if (nullContext != null && empty.length() != (long) shape[0] * shape[1])
            throw new IllegalArgumentException("--null-context " + nullContext + ": shape " + Arrays.toString(empty.shape()) + ", the model takes ("
                    + shape[0] + ", " + shape[1] + ")");
        if (classes.context != null && (contexts.size(1) != shape[0] || contexts.size(2) != shape[1]))
            throw new IllegalArgumentException("--context " + classes.context + ": contexts " + Arrays.toString(contexts.shape()) + ", the model takes (N, "
                    + shape[0] + ", " + shape[1] + ") (num_clip_token, clip_dim)");
        return SampleRequest.ofContexts(contexts, empty);
    }

    /** File names: {@code 000003-class207.png} for a label, {@code 000003.png} for a prompt or an unconditional sample. */
    private static String fileSuffix(long label) {
        return label == SampleRequest.NO_CLASS ? "" : "-class" + label;
    }

    /** The {@code --config} file, applied to the model once it is loaded. */
    private InferenceConfig inference;

    /** {@code --interpolation}/{@code --decouple} on a FiTv1; refused for families without these rules. */
    private Denoiser withExtrapolation(Denoiser model) {
        if (interpolation == null || interpolation.equals("no") && !decouple) return model;
        if (!(model instanceof FiTModel fit))
            throw new IllegalArgumentException("--interpolation and --decouple are FiTv1 settings; this is a " + model.config().family() + " model");
        return fit.withConfig(fit.config().withExtrapolation(FiTConfig.customFreqsOf(interpolation), decouple));
    }

    /**
     * The model input size of {@code --image-height}/{@code --image-width} (latents are 1/8 of the image), checked against
     * the model and, for attention over many tokens, against this machine's memory; null for the model's own size.
     */
    private int[] latentSize(ModelConfig cfg) {
        if (imageHeight == null) return null;
        int factor = cfg.inChannels() == 3 ? 1 : 8, multiple = factor * cfg.patchSize();
        if (imageHeight % multiple != 0 || imageWidth % multiple != 0)
            throw new IllegalArgumentException("--image-height " + imageHeight + " and --image-width " + imageWidth + " must be multiples of "
                    + (factor == 8 ? "8·patch = " : "the patch size ") + multiple + " pixels");
        int h = imageHeight / factor, w = imageWidth / factor;
        try {
            cfg.checkSampleSize(h, w);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--image-height/--image-width: " + e.getMessage());
        }
        if (cfg instanceof FiTConfig f) {
            int rows = (cfgScale > 1.0 ? 2 : 1) * (batchSize > 0 ? batchSize : SampleRequest.DEFAULT_BATCH);
            long need = f.attentionBytes(rows, (h / f.patchSize()) * (w / f.patchSize()));
            long have = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
            if (need > have)
                throw new IllegalArgumentException("--image-height " + imageHeight + " --image-width " + imageWidth + ": attention over "
                        + (h / f.patchSize()) * (w / f.patchSize()) + " tokens needs about " + need / (1L << 20) + " MiB per batch of " + rows
                        + " rows, more than this machine's " + have / (1L << 20) + " MiB; lower --batch-size or the size");
        }
        return new int[]{h, w};
    }

    private SampleRequest.Solver solver() {
        return new SampleRequest.Solver(order != null ? order : SampleRequest.Solver.DEFAULT.order(),
                solverMethod != null ? solverMethod : SampleRequest.Solver.DEFAULT.method(), skipType != null ? skipType : SampleRequest.Solver.DEFAULT.skipType());
    }

    /** A family whose official script samples otherwise (U-ViT's eval configs): its settings for every flag not given. */
    private SampleRequest.Solver applyOfficialSampling(ModelConfig.SamplingDefaults d) {
        if (!given("--sampler")) sampler = SampleRequest.SamplerKind.parse(d.sampler());
        if (!given("--steps") && respacing == null) steps = d.steps();
        if (!given("--cfg-scale")) cfgScale = d.scale();
        if (sampler.isDpmSolver() && d.solverMethod() != null) {
            SampleRequest.Solver official = officialSolver(d);
            if (order == null) order = official.order();
            if (solverMethod == null) solverMethod = official.method();
            if (skipType == null) skipType = official.skipType();
        }
        return solver();
    }

    /** The DPM-Solver plan of a family's eval script (its order, method and skip type); {@code d.solverMethod()} non-null. */
    static SampleRequest.Solver officialSolver(ModelConfig.SamplingDefaults d) {
        return new SampleRequest.Solver(d.order(), new Converters.SolverMethodConverter().convert(d.solverMethod()),
                new Converters.SkipTypeConverter().convert(d.skipType()));
    }

    /** {@code --cache-interval} > 1 needs a family with FORA's cached step (DiT). */
    static void checkCacheInterval(int interval, Denoiser model) {
        if (interval > 1 && !(model instanceof org.dit4j.models.BlockCaching))
            throw new IllegalArgumentException("--cache-interval " + interval + " is implemented for DiT only; this is a " + model.config().family() + " model");
    }

    private boolean given(String flag) {
        return spec.commandLine().getParseResult().hasMatchedOption(flag);
    }

    /** The generation parameters every output records (PNG text chunks, {@value #METADATA}). */
    private Map<String, String> parameters(Path weights, ModelConfig cfg, String spacing) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("Software", "dit4j");
        p.put("model", arch.model != null ? arch.model : arch.modelConfig != null ? arch.modelConfig.toString() : cfg.family());
        p.put("checkpoint", ckpt.toString().equals(weights.toString()) ? ckpt.toString() : ckpt + " (" + weights + ")");
        p.put("weights", arch.weights.name().toLowerCase(Locale.ROOT));
        p.put("seed", String.valueOf(seed));
        p.put("sampler", sampler.spelling());
        p.put("steps", spacing);
        if (sampler == SampleRequest.SamplerKind.DDIM) p.put("eta", String.valueOf(eta));
        if (sampler.isDpmSolver()) {
            p.put("order", String.valueOf(order != null ? order : SampleRequest.Solver.DEFAULT.order()));
            p.put("solver_method", Converters.SolverMethodConverter.name(solverMethod != null ? solverMethod : SampleRequest.Solver.DEFAULT.method()));
            p.put("skip_type", Converters.SkipTypeConverter.name(skipType != null ? skipType : SampleRequest.Solver.DEFAULT.skipType()));
        }
        if (imageHeight != null) {
            p.put("image_height", String.valueOf(imageHeight));
            p.put("image_width", String.valueOf(imageWidth));
        }
        if (interpolation != null) p.put("interpolation", interpolation + (decouple ? " (decoupled)" : ""));
        p.put("cfg_scale", String.valueOf(cfgScale));
        if (cfg.guidanceRule() == ModelConfig.GuidanceRule.BATCHED) p.put("cfg_channels", cfgChannels == GuidanceChannels.ALL ? "all" : "3");
        p.put("clip_denoised", String.valueOf(clipDenoised));
        if (cacheInterval > 1) p.put("cache_interval", String.valueOf(cacheInterval));
        if (noise != null) p.put("noise", noise.toString());
        if (cfg.inChannels() != 3 && !noDecode) {
            p.put("vae", vae);
            double scale = !Double.isNaN(latentScale) ? latentScale : cfg.latentScaleFactor();   // NaN: the VAE's own
            if (!Double.isNaN(scale)) p.put("latent_scale", String.valueOf(scale));
        }
        if (isTextRequest()) {
            if (classes.context != null) p.put("context", classes.context.toString());
            else p.put("text_encoder", textEncoder != null ? textEncoder : ExtractTextFeaturesCommand.DEFAULT_TEXT_ENCODER);
            if (nullContext != null) p.put("null_context", nullContext.toString());
        }
        return p;
    }

    private Map<String, String> pngText(Map<String, String> params, long label, int index) {
        Map<String, String> t = new LinkedHashMap<>(params);
        if (label != SampleRequest.NO_CLASS) t.put("class", String.valueOf(label));
        if (prompts != null) t.put("prompt", prompts.get(index));
        t.put("index", String.valueOf(index));
        return t;
    }

    private void writeMetadata(Map<String, String> params, long[] labels, List<String> files, Path grid) throws java.io.IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        params.forEach(root::put);
        ArrayNode samples = root.putArray("samples");
        for (int i = 0; i < labels.length; i++) {
            ObjectNode s = samples.addObject().put("index", i);
            if (labels[i] != SampleRequest.NO_CLASS) s.put("class", labels[i]);
            if (prompts != null) s.put("prompt", prompts.get(i));
            if (i < files.size()) s.put("file", files.get(i));
        }
        if (grid != null) root.put(files.isEmpty() ? "latents" : "grid", grid.toString());
        byte[] bytes = json.writerWithDefaultPrettyPrinter().writeValueAsString(root).concat("\n").getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(out.resolve(METADATA), o -> o.write(bytes));
    }

    /** Refuses, before any work, an output folder that is a file. */
    static void requireWritableTarget(Path dir, String flag) {
        if (Files.exists(dir) && !Files.isDirectory(dir))
            throw new IllegalArgumentException(flag + " " + dir + " is a file, not a folder");
    }

    /** A progress bar on an interactive terminal only, so logs and pipes stay clean. */
    private static ProgressBar progressBar() {
        if (System.console() == null) return null;
        return new ProgressBarBuilder().setTaskName("sampling").setStyle(ProgressBarStyle.ASCII).setUnit(" evals", 1).build();
    }
}
