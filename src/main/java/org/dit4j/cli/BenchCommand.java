package org.dit4j.cli;

import org.dit4j.diffusion.NoiseSource;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.models.dit.DiTModels;
import org.dit4j.pipeline.DiffusionPipeline;
import org.dit4j.pipeline.SampleRequest;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.*;
import java.util.concurrent.Callable;

/** Timings for docs/PERFORMANCE.md; scripts/bench_pytorch.py does the same work in PyTorch. Not a test. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time DiT (and FiT) forward passes and guided sampling with random weights; prints median milliseconds.")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--models", split = ",", defaultValue = "DiT-S/2,DiT-B/2", description = "Architectures (default: ${DEFAULT-VALUE}).")
    List<String> models;

    @Option(names = "--input-size", defaultValue = "32", description = "Latent side (default: ${DEFAULT-VALUE}, i.e. 256x256 images).")
    int inputSize;

    @Option(names = "--batches", split = ",", defaultValue = "1,8", description = "Forward batch sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(names = "--repeats", defaultValue = "5", description = "Timed repetitions; the median is reported (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed warm-up runs (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--ddim-steps", defaultValue = "10", description = "Steps of the guided DDIM sample (batch 1, i.e. 2 rows); 0 skips it.")
    int ddimSteps;

    @Option(names = "--dpm-steps", defaultValue = "0", description = "Steps of a guided DPM-Solver++(2M) sample (batch 1, i.e. 2 rows, all channels guided); 0 skips it.")
    int dpmSteps;

    @Option(names = "--ddpm-steps", defaultValue = "0", description = "Steps of a guided DDPM sample (batch 1, i.e. 2 rows), with --cache-intervals only; 0 skips it.")
    int ddpmSteps;

    @Option(names = "--cache-intervals", split = ",", description = "FORA's --cache-interval values to compare on the guided DDIM (--ddim-steps) and DDPM"
            + " (--ddpm-steps) samples, e.g. 1,2,3,5: rounds alternating the intervals in one process; per interval the median ms, the median"
            + " per-round ratio to interval 1 and the RMS / max distance of its sample to interval 1's from the same noise.")
    List<Integer> cacheIntervals;

    @Option(names = "--train-batch", defaultValue = "0", description = "Also time a training step (loss, backward, AdamW) at this batch size; 0 skips it.")
    int trainBatch;

    @Option(names = "--train-engine", defaultValue = "samediff", description = "samediff (the single-device trainer) or graph (the DL4J"
            + " ComputationGraph wrapping that ParallelWrapper and Spark run) for --train-batch (default: ${DEFAULT-VALUE}).")
    String trainEngine;

    @Option(names = "--profile", description = "After the timings, run each forward (and the training step) --repeats more times"
            + " with an op-by-op profile and print where the time goes.")
    boolean profile;

    @Option(names = "--executor", description = "samediff (sd.output), planned (runtime.PlannedExecutor) or compare: both on each"
            + " forward (DiT, --inception-batches) and DDIM sample in one process, alternating call by call, with the per-pair ratio (default: the -Ddit4j.executor default).")
    String executor;

    @Option(names = "--fit-models", split = ",", description = "FiT architectures to time, e.g. FiT-XL/2 (none by default).")
    List<String> fitModels;

    @Option(names = "--uvit-models", split = ",", description = "U-ViT configurations to time, e.g. imagenet256_uvit_huge,cifar10_uvit_small:"
            + " forwards at --batches, one guided step (cfg_nnet's two passes, batch 1) and, with --train-batch, a training step (none by default).")
    List<String> uvitModels;

    @Option(names = "--fit-sizes", split = ",", defaultValue = "256x256,320x160", description = "FiT image sizes HxW in pixels: a forward"
            + " and a guided step (batch 1, 2 rows, as sample_fit_ddp.py) at each (default: ${DEFAULT-VALUE}).")
    List<String> fitSizes;

    @Option(names = "--vae-sizes", split = ",", description = "Also time decoding one image of each size (pixels) with the sd-vae-ft-mse architecture, e.g. 256,512.")
    List<Integer> vaeSizes;

    @Option(names = "--vae-tile", defaultValue = "0", description = "Latent tile side for the --vae-sizes decodes; 0 = whole images.")
    int vaeTile;

    @Option(names = "--inception-batches", split = ",", description = "Also time the FID InceptionV3 forward (pool3, spatial and logits, as evaluate runs it) at these batch sizes, e.g. 1,16; reported as images/s.")
    List<Integer> inceptionBatches;

    @Option(names = "--vae-only", description = "Run only the --vae-sizes decodes (to measure their peak memory alone).")
    boolean vaeOnly;

    @Override
    public Integer call() {
        if (vaeOnly) models = List.of();
        if (repeats <= 0 || warmup < 0) throw new IllegalArgumentException("--repeats must be positive and --warmup >= 0");
        if (batches.stream().anyMatch(b -> b < 1)) throw new IllegalArgumentException("--batches must be positive batch sizes, got " + batches);
        if (inputSize < 1 || trainBatch < 0 || ddimSteps < 0 || dpmSteps < 0 || ddpmSteps < 0 || vaeTile < 0)
            throw new IllegalArgumentException("--input-size must be positive and --train-batch, --ddim-steps, --dpm-steps, --ddpm-steps, --vae-tile >= 0");
        if (cacheIntervals != null && cacheIntervals.stream().anyMatch(n -> n < 1))
            throw new IllegalArgumentException("--cache-intervals must be at least 1 each, got " + cacheIntervals);
        if (ddpmSteps > 0 && cacheIntervals == null) throw new IllegalArgumentException("--ddpm-steps goes with --cache-intervals");
        if (vaeSizes != null && vaeSizes.stream().anyMatch(s -> s < 8 || s % 8 != 0))
            throw new IllegalArgumentException("--vae-sizes must be positive multiples of 8 pixels, got " + vaeSizes);
        boolean compare = "compare".equalsIgnoreCase(executor);
        if (executor != null && !compare && !executor.trim().equalsIgnoreCase("samediff") && !executor.trim().equalsIgnoreCase("planned"))
            throw new IllegalArgumentException("--executor is '" + executor + "', expected samediff, planned or compare");
        if (executor != null && !compare) org.dit4j.runtime.Execution.use(org.dit4j.runtime.Execution.parse(executor, "--executor"));
        System.out.println("model\tinput\tbatch\twork\tmedian_ms\tmin_ms\trepeats");
        for (String name : models) {
            if (name.isBlank()) continue;   // --models= times no DiT
            DiTConfig cfg = DiTModels.get(name).withInputSize(inputSize);
            DiTModel model = randomModel(cfg, 0);
            for (int b : batches) {
                INDArray x = NoiseSource.seeded(1).next(b, cfg.inChannels(), inputSize, inputSize);
                double[] t = new double[b];
                long[] y = new long[b];
                Arrays.fill(t, 500);
                if (compare) {
                    compared(name + "\t" + inputSize + "\t" + b + "\tforward", () -> model.forward(x, t, y));
                } else {
                    double[] ms = time(() -> model.forward(x, t, y));
                    System.out.printf(Locale.ROOT, "%s\t%d\t%d\tforward\t%.1f\t%.1f\t%d%n", name, inputSize, b, ms[0], ms[1], repeats);
                }
                if (profile) {
                    org.dit4j.runtime.Execution.Mode before = org.dit4j.runtime.Execution.mode();
                    org.dit4j.runtime.Execution.use(org.dit4j.runtime.Execution.Mode.SAMEDIFF);
                    profiled(name + " forward, batch " + b, List.of(model.sameDiff()), () -> model.forward(x, t, y));
                    profiledPlanned(name + " forward, batch " + b, model.sameDiff(), model.placeholders(x, t, y), DiTModel.OUTPUT);
                    org.dit4j.runtime.Execution.use(before);
                }
            }
            if (trainBatch > 0) {
                org.dit4j.models.dit.DiTInit.initialize(model, 0);
                org.dit4j.diffusion.GaussianDiffusion diffusion = org.dit4j.diffusion.GaussianDiffusion.create("");
                org.dit4j.training.TrainingStep step = trainEngine.equals("samediff") ? new org.dit4j.training.TrainingStep(model, diffusion) : null;
                org.dit4j.training.AdamW opt = org.dit4j.training.AdamW.officialDefaults();
                INDArray x0 = NoiseSource.seeded(3).next(trainBatch, cfg.inChannels(), inputSize, inputSize);
                long[] t = new long[trainBatch], y = new long[trainBatch];
                for (int i = 0; i < trainBatch; i++) t[i] = (i * 997L) % 1000;
                if (trainEngine.equals("samediff")) {
                    double[] ms = time(() -> {
                        var r = step.compute(x0, t, NoiseSource.seeded(4).next(x0.shape()), org.dit4j.models.Conditioning.labels(y), diffusion);
                        opt.step(step.trainableParameters(), r.gradients());
                    });
                    System.out.printf(Locale.ROOT, "%s\t%d\t%d\ttrain_step\t%.1f\t%.1f\t%d%n", name, inputSize, trainBatch, ms[0], ms[1], repeats);
                    Runnable work = () -> step.compute(x0, t, NoiseSource.seeded(4).next(x0.shape()), org.dit4j.models.Conditioning.labels(y), diffusion);
                    if (profile && org.dit4j.runtime.Execution.mode() == org.dit4j.runtime.Execution.Mode.PLANNED)
                        profiledPlans(name + " training step (loss and backward, all stages), batch " + trainBatch, step::profile, work);
                    else if (profile) profiled(name + " training step (all stages), batch " + trainBatch, step.graphs(), work);
                } else if (trainEngine.equals("graph")) {
                    var graph = org.dit4j.training.dl4j.DiTGraph.create(org.dit4j.training.dl4j.DiTGraph.configuration(cfg,
                            new org.nd4j.linalg.learning.config.Adam(1e-4), 0, 0, 0), model.stateDict());
                    var ds = new org.nd4j.linalg.dataset.DataSet(new org.dit4j.training.dl4j.GraphBatches(cfg).features(x0, t, NoiseSource.seeded(4).next(x0.shape()), y),
                            new org.dit4j.diffusion.DiffusionLoss(diffusion).packLabels(x0, t, NoiseSource.seeded(4).next(x0.shape())));
                    graph.fit(ds);
                    double[] gms = time(() -> {
                        graph.fit(ds);
                        System.gc();
                    });
                    System.out.printf(Locale.ROOT, "%s\t%d\t%d\ttrain_step_graph\t%.1f\t%.1f\t%d%n", name, inputSize, trainBatch, gms[0], gms[1], repeats);
                } else {
                    throw new IllegalArgumentException("--train-engine must be samediff or graph, got '" + trainEngine + "'");
                }
            }
            if (cacheIntervals != null) {
                if (ddimSteps > 0) cached(name, model, SampleRequest.SamplerKind.DDIM, ddimSteps);
                if (ddpmSteps > 0) cached(name, model, SampleRequest.SamplerKind.DDPM, ddpmSteps);
            } else if (ddimSteps > 0) {
                SampleRequest req = SampleRequest.of(207).withSampler(SampleRequest.SamplerKind.DDIM, String.valueOf(ddimSteps));
                if ("compare".equalsIgnoreCase(executor)) {
                    compared(name + "\t" + inputSize + "\t1\tddim" + ddimSteps + "_cfg", () -> new DiffusionPipeline(model, null).latents(req, null));
                } else {
                    double[] ms = time(() -> new DiffusionPipeline(model, null).latents(req, null));
                    System.out.printf(Locale.ROOT, "%s\t%d\t1\tddim%d_cfg\t%.1f\t%.1f\t%d%n", name, inputSize, ddimSteps, ms[0], ms[1], repeats);
                }
            }
            if (dpmSteps > 0) {
                SampleRequest req = SampleRequest.of(207).withSampler(SampleRequest.SamplerKind.DPM_SOLVER_PP, String.valueOf(dpmSteps))
                        .withGuidance(4.0, org.dit4j.pipeline.GuidanceChannels.ALL);
                double[] ms = time(() -> new DiffusionPipeline(model, null).latents(req, null));
                System.out.printf(Locale.ROOT, "%s\t%d\t1\tdpmpp2m%d_cfg\t%.1f\t%.1f\t%d%n", name, inputSize, dpmSteps, ms[0], ms[1], repeats);
            }
        }
        if (fitModels != null) for (String name : fitModels) benchFit(name);
        if (uvitModels != null) for (String name : uvitModels) benchUViT(name);
        if (vaeSizes != null && !vaeSizes.isEmpty()) {
            org.dit4j.models.vae.AutoencoderKL vae = randomVae(org.dit4j.models.vae.VaeConfig.named("sd-vae-ft-mse"));
            for (int size : vaeSizes) {
                INDArray z = NoiseSource.seeded(2).next(1, 4, size / 8, size / 8);
                double[] ms = time(() -> {
                    if (vaeTile > 0) vae.decodeTiled(z, vaeTile, vaeTile / 4);
                    else vae.decode(z);
                });
                System.out.printf(Locale.ROOT, "sd-vae-ft-mse\t%d\t1\tdecode%s\t%.1f\t%.1f\t%d%n", size, vaeTile > 0 ? "_tile" + vaeTile : "",
                        ms[0], ms[1], repeats);
            }
        }
        if (inceptionBatches != null && !inceptionBatches.isEmpty()) {
            NoiseSource rng = NoiseSource.seeded(3);
            Map<String, INDArray> w = new LinkedHashMap<>();
            org.dit4j.models.inception.FidInceptionV3.stateDictShapes().forEach((k, s) -> w.put(k, k.endsWith("num_batches_tracked")
                    ? org.nd4j.linalg.factory.Nd4j.scalar(org.nd4j.linalg.api.buffer.DataType.LONG, 0)
                    : k.endsWith("running_var") ? org.nd4j.linalg.factory.Nd4j.ones(s) : rng.next(s).muli(0.05f)));
            var net = org.dit4j.models.inception.FidInceptionV3.fromStateDict(w, "random weights");
            for (int b : inceptionBatches) {
                INDArray x = NoiseSource.seeded(4).next(b, 3, 299, 299);
                var evaluated = new org.dit4j.models.inception.FidInceptionV3.Output[]{org.dit4j.models.inception.FidInceptionV3.Output.POOL3,
                        org.dit4j.models.inception.FidInceptionV3.Output.SPATIAL, org.dit4j.models.inception.FidInceptionV3.Output.LOGITS_NOBIAS};
                java.util.function.Supplier<INDArray> work = () -> net.forward(x, evaluated).get(evaluated[0]);
                if (compare) {
                    compared("fid-inception-v3\t299\t" + b + "\tforward", work);
                } else {
                    double[] ms = time(work::get);
                    System.out.printf(Locale.ROOT, "fid-inception-v3\t299\t%d\tforward (%.2f images/s)\t%.1f\t%.1f\t%d%n", b, b * 1000 / ms[0], ms[0], ms[1], repeats);
                }
                if (profile) {
                    org.dit4j.runtime.Execution.Mode before = org.dit4j.runtime.Execution.mode();
                    org.dit4j.runtime.Execution.use(org.dit4j.runtime.Execution.Mode.SAMEDIFF);
                    profiled("fid-inception-v3 batch " + b, net.graphs(), work::get);
                    org.dit4j.runtime.Execution.use(before);
                    profiledPlanned("fid-inception-v3 batch " + b, net.graphs().get(0),
                            Map.of(org.dit4j.models.inception.FidInceptionV3.INPUT, x), java.util.Arrays.stream(evaluated).map(o -> o.node()).toArray(String[]::new));
                }
            }
        }
        return 0;
    }

    /**
     * One guided sample (label 207, seed 0) at each --cache-intervals value, interval 1 the reference: a warm-up run of each
     * gives the samples, then --repeats rounds run every interval once, the order rotating, so all see the same load.
     */
    private void cached(String name, DiTModel model, SampleRequest.SamplerKind kind, int steps) {
        List<Integer> intervals = new ArrayList<>(new TreeSet<>(cacheIntervals));
        if (intervals.get(0) != 1) intervals.add(0, 1);
        DiffusionPipeline pipeline = new DiffusionPipeline(model, null);
        SampleRequest base = SampleRequest.of(207).withSampler(kind, String.valueOf(steps));
        int k = intervals.size();
        INDArray[] samples = new INDArray[k];
        for (int w = 0; w < Math.max(1, warmup); w++)
            for (int i = 0; i < k; i++) samples[i] = pipeline.latents(base.withCacheInterval(intervals.get(i)), null);
        double[][] ms = new double[k][repeats], ratio = new double[k][repeats];
        for (int r = 0; r < repeats; r++) {
            for (int j = 0; j < k; j++) {
                int i = (j + r) % k;
                long t0 = System.nanoTime();
                pipeline.latents(base.withCacheInterval(intervals.get(i)), null);
                ms[i][r] = (System.nanoTime() - t0) / 1e6;
            }
            for (int i = 0; i < k; i++) ratio[i][r] = ms[i][r] / ms[0][r];
        }
        String work = kind.spelling() + steps + "_cfg";
        for (int i = 0; i < k; i++) {
            INDArray d = samples[i].sub(samples[0]);
            double rms = Math.sqrt(d.mul(d).meanNumber().doubleValue()), max = d.amaxNumber().doubleValue();
            double refRms = Math.sqrt(samples[0].mul(samples[0]).meanNumber().doubleValue());
            Arrays.sort(ms[i]);
            Arrays.sort(ratio[i]);
            System.out.printf(Locale.ROOT, "%s	%d	1	%s_cache%d	%.1f	%.1f	%d%n", name, inputSize, work, intervals.get(i), ms[i][repeats / 2], ms[i][0], repeats);
            System.out.printf(Locale.ROOT, "# %s %s cache interval %d: time / interval 1's, median of %d rounds %.3f [%.3f-%.3f]; sample vs interval 1's:"
                            + " RMS %.3e (its RMS %.3f), max |diff| %.3e%n", name, work, intervals.get(i), repeats, ratio[i][repeats / 2], ratio[i][0],
                    ratio[i][repeats - 1], rms, refRms, max);
        }
    }

    /** FiT forwards at each --fit-sizes (batch sizes --batches) and one guided step: forward_with_cfg on cat([z, z]). */
    private void benchFit(String name) {
        org.dit4j.models.fit.FiTConfig cfg = (org.dit4j.models.fit.FiTConfig) org.dit4j.models.ModelFamilies.named(name);
        NoiseSource rng = NoiseSource.seeded(0);
        Map<String, INDArray> w = new LinkedHashMap<>();
        org.dit4j.models.ModelFamilies.of(cfg).shapes(cfg).forEach((k, shape) -> w.put(k, rng.next(shape).muli(0.02f)));
        org.dit4j.models.fit.FiTModel model = org.dit4j.models.fit.FiTModel.fromStateDict(cfg, w, "random weights");
        for (String size : fitSizes) {
            String[] hw = size.toLowerCase(Locale.ROOT).split("x");
            if (hw.length != 2) throw new IllegalArgumentException("--fit-sizes takes HxW in pixels, got '" + size + "'");
            int h = Integer.parseInt(hw[0].trim()) / 8, wd = Integer.parseInt(hw[1].trim()) / 8;
            cfg.checkSampleSize(h, wd);
            for (int b : batches) {
                INDArray x = NoiseSource.seeded(1).next(b, cfg.inChannels(), h, wd);
                double[] t = new double[b];
                Arrays.fill(t, 500);
                long[] y = new long[b];
                if ("compare".equalsIgnoreCase(executor)) {
                    compared(name + "\t" + size + "\t" + b + "\tforward", () -> model.forward(x, t, org.dit4j.models.Conditioning.labels(y)));
                    continue;
                }
                double[] ms = time(() -> model.forward(x, t, org.dit4j.models.Conditioning.labels(y)));
                System.out.printf(Locale.ROOT, "%s	%s	%d	forward	%.1f	%.1f	%d%n", name, size, b, ms[0], ms[1], repeats);
            }
            INDArray z = NoiseSource.seeded(1).next(1, cfg.inChannels(), h, wd);
            INDArray zz = org.nd4j.linalg.factory.Nd4j.concat(0, z, z);
            var guided = org.dit4j.pipeline.Guidance.batched(4.0, cfg.officialGuidedChannels())
                    .denoiser(model, org.dit4j.models.Conditioning.labels(207), org.dit4j.models.Conditioning.labels(cfg.nullLabel()));
            double[] ms = time(() -> guided.apply(zz, new double[]{500, 500}));
            System.out.printf(Locale.ROOT, "%s	%s	1	guided_step	%.1f	%.1f	%d%n", name, size, ms[0], ms[1], repeats);
            if (profile) profiledPlans(name + " guided step at " + size, model::profile, () -> guided.apply(zz, new double[]{500, 500}));
        }
    }

    /**
     * U-ViT forwards, one guided step as its eval scripts take it ({@code cfg_nnet}: a conditional and an unconditional
     * pass over the same x, batch 1) and a training step of its objective (loss, backward, AdamW) at --train-batch.
     */
    private void benchUViT(String name) {
        org.dit4j.models.uvit.UViTConfig cfg = (org.dit4j.models.uvit.UViTConfig) org.dit4j.models.ModelFamilies.named(name);
        NoiseSource rng = NoiseSource.seeded(0);
        Map<String, INDArray> w = new LinkedHashMap<>();
        org.dit4j.models.ModelFamilies.of(cfg).shapes(cfg).forEach((k, shape) -> w.put(k, rng.next(shape).muli(0.02f)));
        org.dit4j.models.uvit.UViTModel model = org.dit4j.models.uvit.UViTModel.fromStateDict(cfg, w, "random weights");
        int size = cfg.imgSize();
        java.util.function.IntFunction<org.dit4j.models.Conditioning> cond = b -> {
            if (cfg.isT2I()) return new org.dit4j.models.Conditioning(null, NoiseSource.seeded(5).next(b, cfg.numClipToken(), cfg.clipDim()), null);
            long[] y = new long[b];
            return org.dit4j.models.Conditioning.labels(y);
        };
        for (int b : batches) {
            INDArray x = NoiseSource.seeded(1).next(b, cfg.inChans(), size, size);
            double[] t = new double[b];
            Arrays.fill(t, 500);
            var c = cond.apply(b);
            double[] ms = time(() -> model.forward(x, t, c));
            System.out.printf(Locale.ROOT, "%s\t%d\t%d\tforward\t%.1f\t%.1f\t%d%n", name, size, b, ms[0], ms[1], repeats);
        }
        if (cfg.nullLabel() >= 0 || cfg.isT2I()) {
            INDArray z = NoiseSource.seeded(1).next(1, cfg.inChans(), size, size);
            org.dit4j.models.Conditioning uncond = cfg.isT2I() ? cond.apply(1) : org.dit4j.models.Conditioning.labels(cfg.nullLabel());
            var guided = org.dit4j.pipeline.Guidance.twoPass(cfg.sample().scale()).denoiser(model, cond.apply(1), uncond);
            double[] ms = time(() -> guided.apply(z, new double[]{500}));
            System.out.printf(Locale.ROOT, "%s\t%d\t1\tguided_step\t%.1f\t%.1f\t%d%n", name, size, ms[0], ms[1], repeats);
            if (profile) profiledPlans(name + " guided step", model::profile, () -> guided.apply(z, new double[]{500}));
        }
        if (trainBatch > 0) {
            var objective = cfg.isContinuous() ? org.dit4j.diffusion.EpsilonObjective.continuousVp() : org.dit4j.diffusion.EpsilonObjective.stableDiffusionDiscrete();
            var step = new org.dit4j.training.TrainingStep(model, objective);
            org.dit4j.training.AdamW opt = org.dit4j.training.AdamW.officialDefaults();
            INDArray x0 = NoiseSource.seeded(3).next(trainBatch, cfg.inChans(), size, size);
            double[] t = objective.drawTimes(trainBatch, new java.util.SplittableRandom(7));
            var c = cond.apply(trainBatch);
            double[] ms = time(() -> {
                var r = step.compute(x0, t, NoiseSource.seeded(4).next(x0.shape()), c);
                opt.step(step.trainableParameters(), r.gradients());
            });
            System.out.printf(Locale.ROOT, "%s\t%d\t%d\ttrain_step\t%.1f\t%.1f\t%d%n", name, size, trainBatch, ms[0], ms[1], repeats);
        }
    }

    static org.dit4j.models.vae.AutoencoderKL randomVae(org.dit4j.models.vae.VaeConfig cfg) {
        org.dit4j.models.vae.AutoencoderKL vae = org.dit4j.models.vae.AutoencoderKL.create(cfg);
        NoiseSource rng = NoiseSource.seeded(1);
        Map<String, INDArray> w = new LinkedHashMap<>();
        org.dit4j.models.vae.AutoencoderKL.parameterShapes(cfg).forEach((k, s) -> w.put(k, rng.next(s).muli(0.02f)));
        vae.loadStateDict(w, "random weights");
        return vae;
    }

    private void profiled(String what, List<org.nd4j.autodiff.samediff.SameDiff> graphs, Runnable work) {
        org.dit4j.util.OpTimes times = new org.dit4j.util.OpTimes();
        graphs.forEach(g -> g.addListeners(times));
        long t0 = System.nanoTime();
        for (int i = 0; i < repeats; i++) work.run();
        double wall = (System.nanoTime() - t0) / 1e6 / repeats;
        graphs.forEach(g -> g.getListeners().remove(times));
        System.out.printf(Locale.ROOT, "# profile: %s (%.1f ms per call, listener included)%n", what, wall);
        times.report(repeats).lines().forEach(l -> System.out.println("#   " + l));
    }

    /**
     * The same work by both executors in one process: warm-up for each, then --repeats pairs, the order inside a pair
     * alternating, so both see the same machine load. Prints each executor's median and the median of the pairs' ratios.
     */
    private void compared(String row, java.util.function.Supplier<INDArray> work) {
        org.dit4j.runtime.Execution.Mode before = org.dit4j.runtime.Execution.mode();
        org.dit4j.runtime.Execution.Mode[] modes = org.dit4j.runtime.Execution.Mode.values();   // SAMEDIFF, PLANNED
        try {
            for (org.dit4j.runtime.Execution.Mode m : modes) {
                org.dit4j.runtime.Execution.use(m);
                for (int i = 0; i < warmup; i++) work.get();
            }
            INDArray planned = work.get();
            org.dit4j.runtime.Execution.use(modes[0]);
            double diff = org.nd4j.linalg.ops.transforms.Transforms.abs(planned.sub(work.get())).maxNumber().doubleValue();
            double[][] ms = new double[modes.length][repeats];
            double[] ratio = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                for (int k = 0; k < modes.length; k++) {
                    int m = (i % 2 == 0) ? k : modes.length - 1 - k;
                    org.dit4j.runtime.Execution.use(modes[m]);
                    long t0 = System.nanoTime();
                    work.get();
                    ms[m][i] = (System.nanoTime() - t0) / 1e6;
                }
                ratio[i] = ms[1][i] / ms[0][i];
            }
            for (int m = 0; m < modes.length; m++) {
                Arrays.sort(ms[m]);
                System.out.printf(Locale.ROOT, "%s_%s\t%.1f\t%.1f\t%d%n", row, modes[m].name().toLowerCase(Locale.ROOT), ms[m][repeats / 2], ms[m][0], repeats);
            }
            Arrays.sort(ratio);
            System.out.printf(Locale.ROOT, "# %s: planned / samediff, median of %d pairs %.3f (quartiles %.3f-%.3f); max |planned - samediff| %.2e%n",
                    row.replace('\t', ' '), repeats, ratio[repeats / 2], ratio[repeats / 4], ratio[(3 * repeats) / 4], diff);
        } finally {
            org.dit4j.runtime.Execution.use(before);
        }
    }

    /**
     * The planned executor's profile: time inside each op's native call and the rest of the wall time, plus the fixed cost
     * of one native call (a one-element add through the same path), which no executor can remove.
     */
    private void profiledPlanned(String what, org.nd4j.autodiff.samediff.SameDiff graph, Map<String, INDArray> placeholders, String... outputs) {
        org.dit4j.runtime.PlannedExecutor.Profile p = new org.dit4j.runtime.PlannedExecutor.Profile();
        org.dit4j.runtime.PlannedExecutor ex = new org.dit4j.runtime.PlannedExecutor(graph);
        Runnable work = () -> ex.output(placeholders, outputs);
        work.run();
        ex.profile(p);
        long t0 = System.nanoTime();
        for (int i = 0; i < repeats; i++) work.run();
        double wall = (System.nanoTime() - t0) / 1e6 / repeats;
        ex.profile(null);
        System.out.printf(Locale.ROOT, "# planned profile: %s (%.1f ms per call, %.1f ms in the plan: %.1f ms inside %d ops, %.1f ms between;"
                        + " plans hold %.0f MB of buffers)%n", what, wall, p.wallNanosPerCall() / 1e6, p.opNanosPerCall() / 1e6, p.opsPerCall(),
                (p.wallNanosPerCall() - p.opNanosPerCall()) / 1e6, ex.bufferBytes() / 1e6);
        p.msPerCallByOp().entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue())).limit(12)
                .forEach(e -> System.out.printf(Locale.ROOT, "#   %-24s %8.1f ms%n", e.getKey(), e.getValue()));
        INDArray a = org.nd4j.linalg.factory.Nd4j.ones(1), out = a.dup();
        var ctx = org.nd4j.linalg.factory.Nd4j.getExecutioner().buildContext();
        var add = new org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp();
        ctx.setInputArrays(a, a);
        ctx.setOutputArrays(out);
        int n = 20_000;
        for (int i = 0; i < n; i++) org.nd4j.linalg.factory.Nd4j.exec(add, ctx);
        long c0 = System.nanoTime();
        for (int i = 0; i < n; i++) org.nd4j.linalg.factory.Nd4j.exec(add, ctx);
        System.out.printf(Locale.ROOT, "#   fixed cost of one native op call (1-element add): %.1f us%n", (System.nanoTime() - c0) / 1e3 / n);
    }

    /** The planned executors' profile of {@code work} (every plan {@code attach} reaches: a training step's stages, a model's graphs), per call. */
    private void profiledPlans(String what, java.util.function.Consumer<org.dit4j.runtime.PlannedExecutor.Profile> attach, Runnable work) {
        org.dit4j.runtime.PlannedExecutor.Profile p = new org.dit4j.runtime.PlannedExecutor.Profile();
        attach.accept(p);
        long t0 = System.nanoTime();
        for (int i = 0; i < repeats; i++) work.run();
        double wall = (System.nanoTime() - t0) / 1e6 / repeats;
        attach.accept(null);
        double inOps = p.msByOp().values().stream().mapToDouble(Double::doubleValue).sum() / repeats;
        System.out.printf(Locale.ROOT, "# planned profile: %s (%.1f ms per call: %.1f ms inside %d ops, %.1f ms outside them)%n",
                what, wall, inOps, p.ops() / repeats, wall - inOps);
        p.msByOp().entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue())).limit(20)
                .forEach(e -> System.out.printf(Locale.ROOT, "#   %-24s %8.1f ms  %5.1f%%%n", e.getKey(), e.getValue() / repeats, 100 * e.getValue() / repeats / wall));
    }

    private double[] time(Runnable work) {
        for (int i = 0; i < warmup; i++) work.run();
        double[] ms = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            work.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return new double[]{ms[repeats / 2], ms[0]};
    }

    /**
     * Small Gaussian weights, drawn tensor by tensor into the model and each draw freed at once, so the process's peak
     * memory is the model's, not twice it (DiT-XL/2 is 2.7 GB).
     */
    static DiTModel randomModel(DiTConfig cfg, long seed) {
        DiTModel m = DiTModel.create(cfg);
        NoiseSource rng = NoiseSource.seeded(seed);
        for (Map.Entry<String, INDArray> e : m.stateDict().entrySet()) {
            if (!m.isTrainable(e.getKey())) continue;
            INDArray draw = rng.next(e.getValue().shape());
            e.getValue().assign(draw).muli(0.02f);
            if (draw.closeable()) draw.close();
        }
        return m;
    }
}
