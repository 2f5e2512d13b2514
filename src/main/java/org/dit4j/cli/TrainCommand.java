package org.dit4j.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.dit4j.data.EncodedImages;
import org.dit4j.data.ImageFolderData;
import org.dit4j.data.LatentShards;
import org.dit4j.data.TrainingData;
import org.dit4j.io.DiTWeights;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.dit4j.models.DiTModels;
import org.dit4j.pipeline.SampleGrids;
import org.dit4j.pipeline.Vaes;
import org.dit4j.training.LossPlot;
import org.dit4j.training.TrainConfig;
import org.dit4j.training.Trainer;
import org.dit4j.training.TrainingCheckpoint;
import org.dit4j.training.TrainingLoop;
import org.dit4j.training.dl4j.GraphTrainer;
import org.dit4j.training.dl4j.ParallelWrapperEngine;
import org.dit4j.training.spark.SparkEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.*;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train or fine-tune a DiT (official train.py defaults; YAML config and flags override them).")
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", description = "Training YAML (keys: see configs/training/README or TrainConfig).")
    Path config;

    @Option(names = "--data", description = "ImageNet-format folder (root/<class>/<images>); needs a VAE unless the model is pixel-space.")
    Path data;

    @Option(names = "--features", description = "Latents from dit4j extract-features.")
    Path features;

    @Option(names = "--model", description = "Official architecture name, e.g. DiT-S/2.")
    String model;

    @Option(names = "--model-config", description = "YAML model config.")
    Path modelConfig;

    @Option(names = "--vae", description = "mse, ema, a weights path, or none for pixel space (default: ema, as train.py).")
    String vae;

    @Option(names = "--image-size", description = "Image size in pixels.")
    Integer imageSize;

    @Option(names = "--out", required = true, description = "Run directory: checkpoints/, log.csv, loss.png.")
    Path out;

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

    @Option(names = "--resume", description = "Continue from the newest checkpoint of this run directory (or this checkpoint).")
    Path resume;

    @Option(names = "--init-from", description = "Start from these weights (a zoo name, .pt, .safetensors, dit4j or diffusers folder): fine-tuning.")
    String initFrom;

    @Option(names = "--devices", defaultValue = "1", description = "Data-parallel workers, each with a model replica (default: ${DEFAULT-VALUE}).")
    int devices;

    @Option(names = "--parallel", defaultValue = "replicas", description = "How --devices trains: replicas (SameDiff replicas, gradients"
            + " averaged: exactly the one-device step) or parallel-wrapper (DL4J ParallelWrapper over the ComputationGraph wrapping,"
            + " parameters averaged every round). Default: ${DEFAULT-VALUE}.")
    String parallel;

    @Option(names = "--spark", paramLabel = "MASTER", description = "Train on Apache Spark (local[2], spark://host:7077, yarn): --devices"
            + " workers, parameters averaged every round; the driver keeps the EMA and writes the checkpoints to --out.")
    String spark;

    @Option(names = "--spark-ui", description = "Start Spark's web UI (off by default).")
    boolean sparkUi;

    @Option(names = "--spark-stats", description = "Collect DL4J's parameter-averaging training statistics and print them every log interval.")
    boolean sparkStats;

    @Option(names = "--set", description = "Any training key: --set warmup_steps=500 --set scheduler=cosine")
    Map<String, String> set = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        TrainConfig cfg = config != null ? TrainConfig.load(config) : TrainConfig.defaultsOnly();
        if (resume != null && config == null) {
            // A resumed run keeps its own settings unless flags override them.
            TrainingCheckpoint.load(TrainingCheckpoint.latest(resume)).trainConfig().forEach((k, v) -> cfg.set(k, v, "checkpoint"));
        }
        Map<String, Object> flags = new LinkedHashMap<>();
        flags.put("model", model);
        flags.put("model_config", modelConfig == null ? null : modelConfig.toString());
        flags.put("vae", vae);
        flags.put("image_size", imageSize);
        flags.put("data_path", data == null ? null : data.toString());
        flags.put("features_path", features == null ? null : features.toString());
        flags.put("max_steps", maxSteps);
        flags.put("ckpt_every", ckptEvery);
        flags.put("log_every", logEvery);
        flags.put("seed", seed);
        flags.put("start_learning_rate", lr);
        flags.put("train_batch_size", batchSize);
        flags.put("init_from", initFrom);
        flags.forEach((k, v) -> { if (v != null) cfg.set(k, v, "--" + k.replace('_', '-')); });
        set.forEach((k, v) -> cfg.set(k, v, "--set " + k));

        DiTConfig arch = architecture(cfg);
        TrainingData dataset = dataset(cfg, arch);
        DiTModel dit = DiTModel.create(arch);
        if (cfg.str("init_from") != null) {
            Path init = Path.of(cfg.str("init_from"));
            if (!Files.exists(init)) init = org.dit4j.zoo.DiTZoo.standard().fetch(cfg.str("init_from"), null);
            dit.loadStateDict(DiTWeights.load(init, null, arch, TorchCheckpoint.Pick.EMA).weights(), init.toString());
        } else {
            org.dit4j.models.DiTInit.initialize(dit, cfg.integer("seed"));
        }
        try (TrainingLoop trainer = engine(dit, dataset, cfg)) {
            return train(trainer, cfg, arch, dataset);
        }
    }

    private TrainingLoop engine(DiTModel dit, TrainingData dataset, TrainConfig cfg) {
        if (spark != null) {
            int every = cfg.integer("log_every");
            long[] rounds = {0};
            // Per-round lines (examples per worker, round time) at the log interval, on stderr beside Spark's own log.
            SparkEngine engine = SparkEngine.start(spark, devices, sparkUi, sparkStats, line -> {
                if (++rounds[0] % every == 0) System.err.println(line);
            });
            try {
                return new GraphTrainer(dit, dataset, cfg, engine);
            } catch (RuntimeException e) {
                engine.close();
                throw e;
            }
        }
        return switch (parallel) {
            case "replicas" -> new Trainer(dit, dataset, cfg, devices);
            case "parallel-wrapper" -> new GraphTrainer(dit, dataset, cfg, new ParallelWrapperEngine(devices));
            default -> throw new IllegalArgumentException("--parallel must be replicas or parallel-wrapper, got '" + parallel + "'");
        };
    }

    private int train(TrainingLoop trainer, TrainConfig cfg, DiTConfig arch, TrainingData dataset) throws Exception {
        if (resume != null) {
            Path ckpt = TrainingCheckpoint.latest(resume);
            trainer.restore(TrainingCheckpoint.load(ckpt));
            System.out.println("resumed from " + ckpt + " at step " + trainer.currentStep());
        }
        Files.createDirectories(out);
        Files.writeString(out.resolve("train_config.yaml"), cfg.toYaml(), StandardCharsets.UTF_8);
        System.out.println("training " + describe(arch) + " on " + dataset.describe() + " for " + trainer.totalSteps() + " steps ("
                + trainer.describeEngine() + ")");
        Path csv = out.resolve("log.csv");
        if (!Files.exists(csv)) Files.writeString(csv, "step,loss,lr,grad_norm,steps_per_s,images_per_s\n");
        List<double[]> curve = LossPlot.read(csv);
        int logEveryN = cfg.integer("log_every"), ckptEveryN = cfg.integer("ckpt_every"), sampleEveryN = cfg.integer("sample_every");
        SampleGrids grids = sampleEveryN > 0 ? new SampleGrids(arch, "none".equals(cfg.str("vae")) ? null
                : Vaes.load(cfg.str("vae"), org.dit4j.zoo.DiTZoo.standard()), cfg.str("sample_labels"), cfg.integer("sample_steps")) : null;
        long total = trainer.totalSteps();
        double lossSum = 0;
        int lossCount = 0;
        try (BufferedWriter log = Files.newBufferedWriter(csv, StandardOpenOption.APPEND); ProgressBar bar = progressBar(total, trainer.currentStep())) {
            while (trainer.currentStep() < total) {
                Trainer.Log l = trainer.trainStep();
                lossSum += l.loss();
                lossCount++;
                if (bar != null) bar.stepTo(l.step());
                if (l.step() % logEveryN == 0 || l.step() == total) {
                    double mean = lossSum / lossCount;
                    // DL4J's engines clip inside the updater and do not report the norm: the column stays empty.
                    String norm = Double.isFinite(l.gradNorm()) ? String.format(Locale.ROOT, "%.4f", l.gradNorm()) : "";
                    log.write(String.format(Locale.ROOT, "%d,%.6f,%.3e,%s,%.3f,%.2f%n", l.step(), mean, l.learningRate(), norm, l.stepsPerSecond(), l.imagesPerSecond()));
                    log.flush();
                    curve.add(new double[]{l.step(), mean});
                    if (bar == null) System.out.printf(Locale.ROOT, "step %d  loss %.4f  lr %.2e  %.2f steps/s  %.1f images/s%n",
                            l.step(), mean, l.learningRate(), l.stepsPerSecond(), l.imagesPerSecond());
                    lossSum = 0;
                    lossCount = 0;
                }
                if (grids != null && (l.step() % sampleEveryN == 0 || l.step() == total)) {
                    Path png = out.resolve("samples").resolve(String.format(Locale.ROOT, "step-%08d.png", l.step()));
                    grids.write(trainer.samplingWeights(), png);
                    if (bar == null) System.out.println("samples " + png);
                }
                if (l.step() % ckptEveryN == 0 || l.step() == total) {
                    Path c = trainer.checkpoint(out);
                    if (bar == null) System.out.println("checkpoint " + c);
                }
            }
        }
        LossPlot.write(out.resolve("loss.png"), curve);
        System.out.println("done: " + trainer.currentStep() + " steps; sample with: dit4j sample --ckpt " + TrainingCheckpoint.latest(out));
        return 0;
    }

    private static String describe(DiTConfig c) {
        return "DiT (depth " + c.depth() + ", hidden " + c.hiddenSize() + ", patch " + c.patchSize() + ", " + c.inputSize() + "x"
                + c.inputSize() + "x" + c.inChannels() + ")";
    }

    /** A model config keeps its own input size and classes; a named model takes image_size (÷ 8 through a VAE) and num_classes. */
    static DiTConfig architecture(TrainConfig cfg) {
        boolean pixel = "none".equals(cfg.str("vae"));
        DiTConfig c = cfg.str("model_config") != null ? DiTConfig.load(Path.of(cfg.str("model_config")))
                : DiTModels.get(cfg.str("model")).withInputSize(pixel ? cfg.integer("image_size") : cfg.integer("image_size") / 8)
                        .withNumClasses(cfg.integer("num_classes"));
        if (pixel && c.inChannels() != 3)
            throw new IllegalArgumentException("--vae none trains in pixel space and needs a model with in_channels 3, this one has " + c.inChannels());
        return c;
    }

    static TrainingData dataset(TrainConfig cfg, DiTConfig arch) throws Exception {
        if (cfg.str("features_path") != null && cfg.str("data_path") != null)
            throw new IllegalArgumentException("give --data or --features, not both");
        if (cfg.str("features_path") != null) return new LatentShards(Path.of(cfg.str("features_path")));
        if (cfg.str("data_path") == null) throw new IllegalArgumentException("no training data: give --data DIR or --features DIR");
        if ("none".equals(cfg.str("vae"))) return new ImageFolderData(Path.of(cfg.str("data_path")), arch.inputSize());
        var vae = org.dit4j.pipeline.Vaes.load(cfg.str("vae"), org.dit4j.zoo.DiTZoo.standard());
        if (vae.config().embedDim() != arch.inChannels())
            throw new IllegalArgumentException("--vae " + cfg.str("vae") + " has " + vae.config().embedDim() + " latent channels, the model takes " + arch.inChannels());
        return new EncodedImages(new ImageFolderData(Path.of(cfg.str("data_path")), arch.inputSize() * vae.config().downFactor()), vae, cfg.integer("seed"));
    }

    private static ProgressBar progressBar(long total, long start) {
        if (System.console() == null) return null;
        ProgressBar bar = new ProgressBarBuilder().setTaskName("training").setStyle(ProgressBarStyle.ASCII).setInitialMax(total).setUnit(" steps", 1).build();
        bar.stepTo(start);
        return bar;
    }
}
