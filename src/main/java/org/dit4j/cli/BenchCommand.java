package org.dit4j.cli;

import org.dit4j.diffusion.NoiseSource;
import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.dit4j.models.DiTModels;
import org.dit4j.pipeline.SamplePipeline;
import org.dit4j.pipeline.SampleRequest;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.*;
import java.util.concurrent.Callable;

/** Timings for docs/PERFORMANCE.md; scripts/bench_pytorch.py does the same work in PyTorch. Not a test. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time DiT forward passes and a guided DDIM sample with random weights; prints median milliseconds.")
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

    @Override
    public Integer call() {
        if (repeats <= 0 || warmup < 0) throw new IllegalArgumentException("--repeats must be positive and --warmup >= 0");
        System.out.println("model\tinput\tbatch\twork\tmedian_ms\tmin_ms\trepeats");
        for (String name : models) {
            DiTConfig cfg = DiTModels.get(name).withInputSize(inputSize);
            DiTModel model = randomModel(cfg, 0);
            for (int b : batches) {
                INDArray x = NoiseSource.seeded(1).next(b, cfg.inChannels(), inputSize, inputSize);
                long[] t = new long[b], y = new long[b];
                Arrays.fill(t, 500);
                double[] ms = time(() -> model.forward(x, t, y));
                System.out.printf(Locale.ROOT, "%s\t%d\t%d\tforward\t%.1f\t%.1f\t%d%n", name, inputSize, b, ms[0], ms[1], repeats);
            }
            if (ddimSteps > 0) {
                SampleRequest req = SampleRequest.of(207).withSampler(SampleRequest.SamplerKind.DDIM, String.valueOf(ddimSteps));
                double[] ms = time(() -> new SamplePipeline(model).sample(req, null));
                System.out.printf(Locale.ROOT, "%s\t%d\t1\tddim%d_cfg\t%.1f\t%.1f\t%d%n", name, inputSize, ddimSteps, ms[0], ms[1], repeats);
            }
        }
        return 0;
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

    /** Small Gaussian weights: timing does not depend on the values, but zeros could take shortcuts. */
    static DiTModel randomModel(DiTConfig cfg, long seed) {
        DiTModel m = DiTModel.create(cfg);
        NoiseSource rng = NoiseSource.seeded(seed);
        Map<String, INDArray> w = new LinkedHashMap<>(m.stateDict());
        for (Map.Entry<String, INDArray> e : w.entrySet())
            if (m.isTrainable(e.getKey())) e.setValue(rng.next(e.getValue().shape()).muli(0.02f));
        m.loadStateDict(w, "random weights");
        return m;
    }
}
