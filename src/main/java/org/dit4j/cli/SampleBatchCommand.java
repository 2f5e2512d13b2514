package org.dit4j.cli;

import org.dit4j.io.ModelLoader;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.pipeline.DiffusionPipeline;
import org.dit4j.pipeline.GuidanceChannels;
import org.dit4j.pipeline.SampleBatch;
import org.dit4j.pipeline.SampleRequest;
import org.dit4j.pipeline.Vaes;
import org.dit4j.pipeline.shards.ShardExecutor;
import org.dit4j.zoo.Zoo;
import org.dit4j.zoo.ZooEntry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "sample-batch", mixinStandardHelpOptions = true,
        description = "A sample batch for FID as DiT's sample_ddp.py makes it: --num-samples PNGs with uniformly random labels and one .npz (arr_0, uint8); resumable. Defaults are the official FID settings: DDPM 250 steps, guidance 1.5 on 3 channels.")
public final class SampleBatchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions arch;

    @Mixin
    ShardOptions shards;

    @Option(names = "--ckpt", required = true, description = "Weights: a zoo name (DiT-XL/2-256), a weights file or folder, or a training run folder.")
    Path ckpt;

    @Option(names = "--image-size", description = "Image size in pixels (default: the checkpoint's).")
    Integer imageSize;

    @Option(names = "--num-classes", description = "Number of classes labels are drawn from (default: the model's).")
    Integer numClasses;

    @Option(names = "--num-samples", required = true, description = "Samples in the batch (50000 for the papers' FID).")
    int numSamples;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the labels and of every batch's noise (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--sampler", defaultValue = "ddpm", converter = Converters.SamplerConverter.class,
            description = "ddpm, ddim, dpm-solver or dpm-solver++ (default: ${DEFAULT-VALUE}).")
    SampleRequest.SamplerKind sampler;

    @Option(names = "--steps", description = "Sampling steps (default: 250 for ddpm/ddim, 20 for DPM-Solver).")
    Integer steps;

    @Option(names = "--cfg-scale", defaultValue = "1.5", description = "Guidance scale (default: ${DEFAULT-VALUE}, sample_ddp.py's FID setting; a U-ViT's default is its config's"
            + " sample.scale, with its eval script's sampler and steps).")
    double cfgScale;

    @Option(names = "--cfg-channels", defaultValue = "3", converter = Converters.CfgChannels.class, description = "3 (official) or all.")
    GuidanceChannels cfgChannels;

    @Option(names = "--batch-size", defaultValue = "8", description = "Samples per batch (default: ${DEFAULT-VALUE}); also the unit of resumption.")
    int batchSize;

    @Option(names = "--cache-interval", defaultValue = "1", paramLabel = "N", description = "FORA's static caching (DiT only): every N-th model evaluation runs in full and the blocks' attention and MLP outputs are reused"
            + " in between, gated by the current step's adaLN; evaluations are counted as FORA counts steps (for DPM-Solver: network evaluations)."
            + " Faster, approximate; 1 = off (default: ${DEFAULT-VALUE}).")
    int cacheInterval;

    @Option(names = "--vae", defaultValue = "mse", description = "Autoencoder for latent models: mse, ema or a weights path (default: ${DEFAULT-VALUE}).")
    String vae;

    @Option(names = "--out", required = true, description = "Folder for the {index:06d}.png files; the .npz goes beside it as OUT.npz unless --npz.")
    Path out;

    @Option(names = "--npz", description = "The sample batch file (default: OUT.npz).")
    Path npz;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (numSamples < 1) throw new IllegalArgumentException("--num-samples must be at least 1, got " + numSamples);
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        if (cacheInterval < 1) throw new IllegalArgumentException("--cache-interval must be at least 1 (1 = no caching), got " + cacheInterval);
        if (!Double.isFinite(cfgScale)) throw new IllegalArgumentException("--cfg-scale must be a finite number, got " + cfgScale);
        int stepCount = steps != null ? steps : sampler.defaultSteps();
        if (stepCount <= 0) throw new IllegalArgumentException("--steps must be positive, got " + stepCount);
        if (numClasses != null && numClasses < 1) throw new IllegalArgumentException("--num-classes must be at least 1, got " + numClasses);
        SampleCommand.requireWritableTarget(out, "--out");
        shards.check();
        Zoo zoo = Zoo.standard();
        Path weights = ckpt;
        String archName = arch.model;
        if (!Files.exists(ckpt) && zoo.contains(ckpt.toString())) {
            ZooEntry entry = zoo.entry(ckpt.toString());
            weights = ZooCommand.fetchWithProgress(zoo, entry.name());
            if (archName == null && arch.modelConfig == null) {
                archName = entry.architecture();
                if (imageSize == null) imageSize = entry.imageSize();
            }
            if (entry.vae() != null && !given("--vae")) vae = entry.vae();
        } else if (!Files.exists(ckpt)) {
            throw new IllegalArgumentException("--ckpt " + ckpt + ": no such file or directory, and not a zoo name (dit4j zoo list)");
        }
        Path resolved = ModelLoader.resolve(weights);
        Denoiser model = ModelLoader.load(resolved, archName, arch.modelConfig, imageSize == null ? 0 : imageSize,
                numClasses == null ? 0 : numClasses, arch.weights);
        if (model.config().contextShape() != null)
            throw new IllegalArgumentException("sample-batch draws class labels; a text-to-image model samples from prompts (dit4j sample --prompts)");
        SampleCommand.checkCacheInterval(cacheInterval, model);
        int classes = numClasses != null ? numClasses : model.config().numClasses();
        AutoencoderKL autoencoder = model.config().inChannels() == 3 ? null : Vaes.load(vae, zoo);
        DiffusionPipeline pipeline = new DiffusionPipeline(model, autoencoder);
        Path file = npz != null ? npz : out.toAbsolutePath().resolveSibling(out.getFileName() + ".npz");
        long start = System.nanoTime();
        // locals, so the request carries values (to Spark executors too), not this command
        SampleRequest.SamplerKind kind = sampler;
        double scale = cfgScale;
        SampleRequest.Solver solver = SampleRequest.Solver.DEFAULT;
        // a family whose eval script samples otherwise (U-ViT): its sampler, steps, scale and DPM-Solver plan, unless given
        ModelConfig.SamplingDefaults d = model.config().officialSampling();
        if (d != null) {
            if (!given("--sampler")) kind = SampleRequest.SamplerKind.parse(d.sampler());
            if (!given("--steps")) stepCount = d.steps();
            if (!given("--cfg-scale")) scale = d.scale();
            if (kind.isDpmSolver() && d.solverMethod() != null) solver = SampleCommand.officialSolver(d);
        }
        String spacing = String.valueOf(stepCount);
        SampleRequest.SamplerKind sampling = kind;
        double guidance = scale;
        SampleRequest.Solver plan = solver;
        GuidanceChannels channels = cfgChannels;
        int interval = cacheInterval;
        int sampled;
        try (ShardExecutor executor = shards.executor(pipeline, resolved, arch.weights, vae)) {
            if (executor.workers() > 1) System.err.println("sample-batch: batches on " + executor.describe());
            sampled = SampleBatch.run(executor, labels -> SampleRequest.of(labels).withSampler(sampling, spacing).withGuidance(guidance, channels).withSolver(plan).withCacheInterval(interval),
                    out, file, numSamples, classes, seed, batchSize, (done, total, now) -> {
                        double s = (System.nanoTime() - start) / 1e9;
                        long eta = now == 0 ? 0 : Math.round(s / now * (total - done));
                        System.err.printf(Locale.ROOT, "sample-batch: %d/%d images (%d sampled in this run), ETA %d:%02d:%02d%n", done, total, now, eta / 3600, eta / 60 % 60, eta % 60);
                    });
        }
        System.out.println("sampled " + sampled + " of " + numSamples + " images into " + out + " (" + (numSamples - sampled) + " were already there); wrote " + file);
        return 0;
    }

    private boolean given(String flag) {
        return spec.commandLine().getParseResult().hasMatchedOption(flag);
    }
}
