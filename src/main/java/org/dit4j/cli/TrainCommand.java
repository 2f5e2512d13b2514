package org.dit4j.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.dit4j.data.CaptionContexts;
import org.dit4j.data.EncodedImages;
import org.dit4j.data.FitLatents;
import org.dit4j.data.ImageFolderData;
import org.dit4j.data.LatentShardFiles;
import org.dit4j.data.LatentShards;
import org.dit4j.data.PosteriorSamples;
import org.dit4j.data.TextImagePairs;
import org.dit4j.data.TrainingData;
import org.dit4j.evaluation.Evaluation;
import org.dit4j.evaluation.InceptionFeatures;
import org.dit4j.io.AtomicFiles;
import org.dit4j.io.HadoopFiles;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.io.Weights;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.ModelFamily;
import org.dit4j.models.StagedModel;
import org.dit4j.models.fit.FiTConfig;
import org.dit4j.models.fit.FiTModel;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.inception.FidInceptionV3;
import org.dit4j.models.inception.InceptionPreprocess;
import org.dit4j.pipeline.SampleFid;
import org.dit4j.models.uvit.UViTConfig;
import org.dit4j.pipeline.SampleGrids;
import org.dit4j.pipeline.SampleRequest;
import org.dit4j.pipeline.TrainingSamples;
import org.dit4j.pipeline.Vaes;
import org.dit4j.training.TrainConfig;
import org.dit4j.training.Trainer;
import org.dit4j.training.TrainingCheckpoint;
import org.dit4j.training.TrainingLoop;
import org.dit4j.training.RemoteRun;
import org.dit4j.training.TrainingRun;
import org.dit4j.training.dl4j.GraphTrainer;
import org.dit4j.training.dl4j.ParallelWrapperEngine;
import org.dit4j.training.spark.ExecutorShards;
import org.dit4j.training.spark.SparkEngine;
import org.dit4j.zoo.Zoo;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train or fine-tune a model (official train.py defaults; YAML config and flags override them).")
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", description = "Training YAML (keys: see configs/training/README or TrainConfig).")
    Path config;

    @Option(names = "--data", description = "ImageNet-format folder (root/<class>/<images>), a path or a Hadoop URI (hdfs://, file://, ...);"
            + " needs a VAE unless the model is pixel-space.")
    String data;

    @Option(names = "--features", description = "Latents from dit4j extract-features: a folder or a Hadoop URI (hdfs://, file://, ...);"
            + " on --spark each executor reads its own examples.")
    String features;

    @Option(names = "--model", description = "Official architecture name, e.g. DiT-S/2.")
    String model;

    @Option(names = "--model-config", description = "YAML model config.")
    Path modelConfig;

    @Option(names = "--vae", description = "mse, ema, a weights path, or none for pixel space (default: ema, as train.py).")
    String vae;

    @Option(names = "--image-size", description = "Image size in pixels.")
    Integer imageSize;

    @Option(names = "--out", required = true, description = "Run directory: checkpoints/, log.csv, loss.png; a folder or a Hadoop URI"
            + " (written in a local staging folder and copied up as each checkpoint completes).")
    String out;

    @Option(names = "--max-steps", description = "Stop after this many optimiser steps.")
    Integer maxSteps;

    @Option(names = "--ckpt-every", description = "Checkpoint interval in steps.")
    Integer ckptEvery;

    @Option(names = "--log-every", description = "Log interval in steps.")
    Integer logEvery;

    @Option(names = "--seed", description = "Seed of data order, flips, label dropout, timesteps and noise.")
    Integer seed;

    @Option(names = "--lr", description = "Learning rate (start_learning_rate).")
    Double lr;

    @Option(names = "--batch-size", description = "Batch size per optimiser micro-step (train_batch_size).")
    Integer batchSize;

    @Option(names = "--resume", description = "Continue from the newest checkpoint of this run directory (or this checkpoint); a path or a Hadoop URI.")
    String resume;

    @Option(names = "--init-from", description = "Start from these weights (a zoo name, .pt, .safetensors, dit4j or diffusers folder): fine-tuning.")
    String initFrom;

    @Option(names = "--devices", defaultValue = "1", description = "Data-parallel workers, each with a model replica (default: ${DEFAULT-VALUE}).")
    int devices;

    @Option(names = "--parallel", defaultValue = "replicas", converter = Converters.ParallelConverter.class,
            completionCandidates = Converters.ParallelConverter.class, description = "How --devices trains: replicas (SameDiff replicas, gradients"
            + " averaged: exactly the one-device step) or parallel-wrapper (DL4J ParallelWrapper over the ComputationGraph wrapping,"
            + " parameters averaged every round). Default: ${DEFAULT-VALUE}.")
    Converters.Parallel parallel;

    @Option(names = "--spark", paramLabel = "MASTER", description = "Train on Apache Spark (local[2], spark://host:7077, yarn): --devices"
            + " workers, parameters averaged every round; the driver keeps the EMA and writes the checkpoints to --out.")
    String spark;

    @Option(names = "--spark-ui", description = "Start Spark's web UI (off by default).")
    boolean sparkUi;

    @Option(names = "--spark-stats", description = "Collect DL4J's parameter-averaging training statistics and print them every log interval.")
    boolean sparkStats;

    @Option(names = "--fid-ref", paramLabel = "REF.npz", description = "The FID reference of fid_every: ADM's reference batch or pytorch-fid"
            + " statistics (mu, sigma), read as dit4j evaluate --ref reads it; the FID goes to log.csv's fid column.")
    Path fidRef;

    @Option(names = "--inception", defaultValue = "pt_inception-2015-12-05", paramLabel = "PATH|NAME",
            description = "pytorch-fid's Inception weights for fid_every, as dit4j evaluate: a .pth file or a zoo name (default: ${DEFAULT-VALUE}).")
    String inception;

    @Option(names = "--set", description = "Any training key: --set warmup_steps=500 --set scheduler=cosine")
    Map<String, String> set = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        if (devices < 1) throw new IllegalArgumentException("--devices must be at least 1, got " + devices);
        TrainConfig cfg = config != null ? TrainConfig.load(config) : TrainConfig.defaultsOnly();
        RemoteRun remote = HadoopFiles.isUri(out) ? new RemoteRun(out) : null;
        Path resumeCopy = resume != null && HadoopFiles.isUri(resume) ? Files.createTempDirectory("dit4j-resume-") : null;
        Path resumeFrom;
        try {
            resumeFrom = resume == null ? null : resumeCopy != null
                    ? RemoteRun.fetchLatestCheckpoint(resume, resumeCopy) : TrainingCheckpoint.latest(Path.of(resume));
        } catch (RuntimeException e) {
            if (resumeCopy != null) AtomicFiles.deleteRecursively(resumeCopy);
            throw e;
        }
        if (resumeFrom != null && config == null) {
            // A resumed run keeps its own settings unless flags override them.
            TrainingCheckpoint.load(resumeFrom).trainConfig().forEach((k, v) -> cfg.set(k, v, "checkpoint " + resumeFrom));
        }
        Map<String, Object> flags = new LinkedHashMap<>();
        flags.put("model", model);
        flags.put("model_config", modelConfig == null ? null : modelConfig.toString());
        flags.put("vae", vae);
        flags.put("image_size", imageSize);
        flags.put("data_path", data);
        flags.put("features_path", features);
        flags.put("max_steps", maxSteps);
        flags.put("ckpt_every", ckptEvery);
        flags.put("log_every", logEvery);
        flags.put("seed", seed);
        flags.put("start_learning_rate", lr);
        flags.put("train_batch_size", batchSize);
        flags.put("init_from", initFrom);
        flags.forEach((k, v) -> { if (v != null) cfg.set(k, v, "--" + k.replace('_', '-')); });
        set.forEach((k, v) -> cfg.set(k, v, "--set " + k));
        FidReference fidReference = fidReference(cfg);

        if (remote != null) remote.start(cfg, resumeFrom != null);
        Path runDir = remote != null ? remote.staging() : Path.of(out);
        ModelConfig arch = architecture(cfg);
        if (arch instanceof FiTConfig) refuseFitEngines();
        ModelFamily family = ModelFamilies.of(arch);
        TrainingData dataset = dataset(cfg, arch, spark != null);
        Map<String, INDArray> initial;
        if (cfg.str("init_from") != null) {
            Path init = Path.of(cfg.str("init_from"));
            if (!Files.exists(init)) init = Zoo.standard().fetch(cfg.str("init_from"), null);
            initial = Weights.load(init, null, arch, TorchCheckpoint.Pick.EMA).weights();
        } else {
            initial = family.initialWeights(arch, cfg.integer("seed"));
        }
        Denoiser net = family.create(arch, initial, cfg.str("init_from") != null ? cfg.str("init_from") : "initialisation");
        TrainingSamples samples = cfg.integer("sample_every") > 0 || fidReference != null ? new TrainingSamples(arch, "none".equals(cfg.str("vae"))
                ? null : Vaes.load(cfg.str("vae"), Zoo.standard()), SampleRequest.SamplerKind.parse(cfg.str("sample_sampler")), cfg.integer("sample_steps")) : null;
        SampleGrids grids = cfg.integer("sample_every") > 0 ? new SampleGrids(samples, cfg.str("sample_labels")) : null;
        SampleFid fid = fidReference == null ? null : new SampleFid(samples, fidReference.side(), fidReference.net(), InceptionPreprocess.ADM,
                cfg.integer("fid_samples"), cfg.integer("seed"));
        try (TrainingLoop trainer = engine(net, dataset, cfg)) {
            TrainingRun run = new TrainingRun(trainer, runDir, grids, fid);
            if (resumeFrom != null) {
                run.resumeFrom(resumeFrom);
                System.out.println("resumed from " + (resumeCopy != null ? resume : resumeFrom) + " at step " + trainer.currentStep());
                if (resumeCopy != null) AtomicFiles.deleteRecursively(resumeCopy);
            }
            Path last;
            Reporter reporter = new Reporter(remote, cfg.integer("ckpt_max_keep"));
            try (reporter) {
                last = run.run("training " + describe(arch) + " on " + dataset.describe(), reporter);
            }
            if (remote != null) {
                // Everything is in the remote folder now; a failed run leaves its staging folder for inspection.
                remote.finish();
                AtomicFiles.deleteRecursively(remote.staging());
                System.out.println("done: " + trainer.currentStep() + " steps; the newest checkpoint is " + reporter.lastCheckpoint
                        + " (copy it to a local folder to sample it)");
            } else {
                System.out.println("done: " + trainer.currentStep() + " steps; sample with: dit4j sample --ckpt " + last);
            }
        }
        return 0;
    }

    private record FidReference(Evaluation.Side side, FidInceptionV3 net) {}

    /**
     * fid_every's reference statistics and network (as dit4j evaluate --ref reads them, ADM's preprocessing), or null
     * when off: read before anything trains, so a bad reference or network is refused in one line first.
     */
    private FidReference fidReference(TrainConfig cfg) throws java.io.IOException {
        int every = cfg.integer("fid_every");
        if (every == 0 && fidRef == null) return null;
        if (fidRef == null) throw new IllegalArgumentException("fid_every " + every + " needs --fid-ref REF.npz (ADM's reference batch or pytorch-fid statistics)");
        if (every == 0) throw new IllegalArgumentException("--fid-ref " + fidRef + " is read for fid_every, which is 0: give --set fid_every=N");
        if (!Files.exists(fidRef)) throw new IllegalArgumentException("--fid-ref " + fidRef + ": no such file or directory");
        FidInceptionV3[] net = {null};   // loaded first by a reference of images, else after the reference is read
        java.util.function.Supplier<FidInceptionV3> loaded = () -> net[0] != null ? net[0] : (net[0] = EvaluateCommand.loadInception(inception));
        Evaluation.Side ref = Evaluation.statistics(fidRef, loaded, InceptionPreprocess.ADM, InceptionFeatures.DEFAULT_BATCH, EvaluateCommand.progress("fid-ref"));
        return new FidReference(ref, loaded.get());
    }

    /** Log lines, or a progress bar on an interactive terminal. */
    private static final class Reporter implements TrainingRun.Reporter, AutoCloseable {
        private final RemoteRun remote;
        private final int keep;
        private ProgressBar bar;
        String lastCheckpoint;

        Reporter(RemoteRun remote, int keep) {
            this.remote = remote;
            this.keep = keep;
        }

        @Override
        public void started(String description, long fromStep, long totalSteps) {
            System.out.println(description);
            if (System.console() == null) return;
            bar = new ProgressBarBuilder().setTaskName("training").setStyle(ProgressBarStyle.ASCII).setInitialMax(totalSteps).setUnit(" steps", 1).build();
            bar.stepTo(fromStep);
        }

        @Override
        public void stepped(TrainingLoop.Log l) {
            if (bar != null) bar.stepTo(l.step());
        }

        @Override
        public void logged(TrainingLoop.Log l, double mean) {
            if (bar == null) System.out.printf(Locale.ROOT, "step %d  loss %.4f  lr %.2e  %.2f steps/s  %.1f images/s%n",
                    l.step(), mean, l.learningRate(), l.stepsPerSecond(), l.imagesPerSecond());
        }

        @Override
        public void evaluated(long step, int samples, double fid) {
            if (bar == null) System.out.println("step " + step + "  FID (" + samples + " samples) " + fid);
            else bar.setExtraMessage("FID " + String.format(Locale.ROOT, "%.2f", fid));
        }

        @Override
        public void wrote(String what, Path path) {
            String where = remote != null ? remote.upload(what, path, keep) : path.toString();
            if (what.equals("checkpoint")) lastCheckpoint = where;
            if (bar == null) System.out.println(what + " " + where);
        }

        @Override
        public void warning(String message) {
            if (bar != null) bar.close();
            bar = null;
            System.err.println("dit4j train: warning: " + message);
        }

        @Override
        public void close() {
            if (bar != null) bar.close();
        }
    }

    /** The DL4J engines wrap one fixed-shape DiT ComputationGraph; FiT's batches change length and carry a grid and a mask. */
    private void refuseFitEngines() {
        String why = ": FiT trains with dit4j's own engine (one device or --devices N replicas): the DL4J engines take fixed-shape DiT batches, not padded sequences with masks";
        if (spark != null) throw new IllegalArgumentException("--spark" + why);
        if (parallel != Converters.Parallel.REPLICAS) throw new IllegalArgumentException("--parallel " + parallel.name().toLowerCase(Locale.ROOT).replace('_', '-') + why);
    }

    private TrainingLoop engine(Denoiser net, TrainingData dataset, TrainConfig cfg) {
        if (net instanceof FiTModel fit) return new Trainer(fit, (FitLatents) dataset, cfg, devices);
        if (spark != null) {
            int every = cfg.integer("log_every");
            long[] rounds = {0};
            // Per-round lines (examples per worker, round time) at the log interval, on stderr beside Spark's own log.
            SparkEngine engine = SparkEngine.start(spark, devices, sparkUi, sparkStats, line -> {
                if (++rounds[0] % every == 0) System.err.println(line);
            });
            try {
                if (dataset instanceof LatentShardFiles files && net.config() instanceof DiTConfig dit)
                    engine.readingOnExecutors(new ExecutorShards(files.location(), dit, cfg, devices));
                // a pixel-space model's images: the executors decode their own (through a VAE the driver encodes and ships them)
                if (dataset instanceof ImageFolderData images && net.config() instanceof DiTConfig dit)
                    engine.readingOnExecutors(ExecutorShards.imageFolder(images.location(), dit, cfg, devices));
                return new GraphTrainer(net, dataset, cfg, engine);
            } catch (RuntimeException e) {
                engine.close();
                throw e;
            }
        }
        return switch (parallel) {
            case REPLICAS -> {
                if (!(net instanceof StagedModel staged))
                    throw new IllegalArgumentException("the " + net.config().family() + " family cannot be trained block by block yet");
                yield new Trainer(staged, dataset, cfg, devices);
            }
            case PARALLEL_WRAPPER -> new GraphTrainer(net, dataset, cfg, new ParallelWrapperEngine(devices));
        };
    }

    private static String describe(ModelConfig c) {
        Map<String, Object> m = c.toMap();
        return c.family() + " (depth " + m.get("depth") + ", hidden " + m.getOrDefault("hidden_size", m.get("embed_dim")) + ", patch " + m.get("patch_size") + ", "
                + c.inputSize() + "x" + c.inputSize() + "x" + c.inChannels() + ")";
    }

    /** A model config keeps its own input size and classes; a named model takes image_size (÷ 8 through a VAE) and num_classes. */
    static ModelConfig architecture(TrainConfig cfg) {
        boolean pixel = "none".equals(cfg.str("vae"));
        ModelConfig c = cfg.str("model_config") != null ? ModelFamilies.load(Path.of(cfg.str("model_config")))
                : ModelFamilies.named(cfg.str("model")).withInputSize(pixel ? cfg.integer("image_size") : cfg.integer("image_size") / 8)
                        .withNumClasses(cfg.integer("num_classes"));
        if (pixel && c.inChannels() != 3)
            throw new IllegalArgumentException("--vae none trains in pixel space and needs a model with in_channels 3, this one has " + c.inChannels());
        return c;
    }

    static TrainingData dataset(TrainConfig cfg, ModelConfig arch, boolean spark) throws Exception {
        if (cfg.str("features_path") != null && cfg.str("data_path") != null)
            throw new IllegalArgumentException("give --data or --features, not both");
        if (arch instanceof FiTConfig fit) {
            if (cfg.str("features_path") == null)
                throw new IllegalArgumentException("FiT trains from latents of native aspect ratio: make them with dit4j extract-features --fit, then give --features DIR");
            int len = cfg.integer("target_len") > 0 ? cfg.integer("target_len") : fit.contextSize();
            return new FitLatents(Path.of(cfg.str("features_path")), len, cfg.str("latent_copy"));
        }
        boolean t2i = arch instanceof UViTConfig u && u.isT2I();
        if (cfg.str("features_path") != null) {
            String f = cfg.str("features_path");
            // Spark executors read the folder themselves (absolute, as their working folders differ); URIs are read lazily.
            TrainingData latents;
            boolean moments;
            if (spark || HadoopFiles.isUri(f)) {
                LatentShardFiles files = new LatentShardFiles(spark && !HadoopFiles.isUri(f) ? Path.of(f).toAbsolutePath().toString() : f);
                latents = files;
                moments = files.moments();
            } else {
                LatentShards shards = new LatentShards(Path.of(f));
                latents = shards;
                moments = shards.moments();
            }
            CaptionContexts captions = CaptionContexts.of(f);
            if (spark && (moments || captions != null))
                throw new IllegalArgumentException("--spark: executors read sampled latents only, and " + f + " holds posterior moments"
                        + (captions != null ? " with captions" : "") + "; train it without --spark");
            // U-ViT's config.autoencoder.scale_factor, from the model config (the SD autoencoders' 0.18215 for families without one)
            double scale = Double.isNaN(arch.latentScaleFactor()) ? UViTConfig.DEFAULT_SCALE_FACTOR : arch.latentScaleFactor();
            if (moments) latents = new PosteriorSamples(latents, scale, cfg.integer("seed"));
            TrainingData pairs = captions != null ? new TextImagePairs(latents, captions) : latents;
            Trainer.requireConditioning(arch, pairs);   // before the engine: the DL4J engines would ignore the captions
            return pairs;
        }
        if (t2i) throw new IllegalArgumentException("a uvit-t2i model trains on text–image pairs: extract an MS-COCO folder with"
                + " dit4j extract-features --captions FILE, then give --features DIR");
        if (cfg.str("data_path") == null) throw new IllegalArgumentException("no training data: give --data DIR or --features DIR");
        // a path or a URI (listed and read through Hadoop's FileSystem)
        if ("none".equals(cfg.str("vae"))) return new ImageFolderData(cfg.str("data_path"), arch.inputSize());
        var vae = Vaes.load(cfg.str("vae"), Zoo.standard());
        if (vae.config().embedDim() != arch.inChannels())
            throw new IllegalArgumentException("--vae " + cfg.str("vae") + " has " + vae.config().embedDim() + " latent channels, the model takes " + arch.inChannels());
        return new EncodedImages(new ImageFolderData(cfg.str("data_path"), arch.inputSize() * vae.config().downFactor()), vae, cfg.integer("seed"));
    }
}
