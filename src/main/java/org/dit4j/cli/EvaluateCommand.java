package org.dit4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.evaluation.Evaluation;
import org.dit4j.evaluation.InceptionFeatures;
import org.dit4j.io.AtomicFiles;
import org.dit4j.io.Npy;
import org.dit4j.models.inception.FidInceptionV3;
import org.dit4j.models.inception.InceptionPreprocess;
import org.dit4j.zoo.Zoo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "FID, sFID, Inception Score, precision and recall of a sample batch against a reference, as ADM's evaluator.py computes them.")
public final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--samples", required = true, paramLabel = "BATCH.npz|DIR|STATS.npz",
            description = "Samples: an .npz with arr_0 (N, H, W, 3) uint8, an image folder, or a statistics .npz (mu, sigma[, mu_s, sigma_s]).")
    Path samples;

    @Option(names = "--ref", paramLabel = "REF.npz|DIR",
            description = "Reference: ADM's reference batch (arr_0 and/or mu, sigma, mu_s, sigma_s), pytorch-fid statistics (mu, sigma) or an image folder.")
    Path ref;

    @Option(names = "--json", paramLabel = "OUT.json", description = "Write the metrics that apply (fid, sfid, inception_score, precision, recall).")
    Path json;

    @Option(names = "--save-features", paramLabel = "F.npy", description = "Write the samples' pool3 features (N, 2048) float32 in file-name order.")
    Path saveFeatures;

    @Option(names = "--save-stats", paramLabel = "OUT.npz", description = "Write the samples' statistics (mu, sigma, mu_s, sigma_s; float64) as a reference file.")
    Path saveStats;

    @Option(names = "--preprocess", defaultValue = "adm", paramLabel = "adm|pytorch-fid",
            description = "adm: TF1-style bilinear resize and (x-128)/128 as ADM's graph (default, comparable with the papers); pytorch-fid: PyTorch's bilinear interpolate and 2x-1.")
    String preprocess;

    @Option(names = "--inception", defaultValue = "pt_inception-2015-12-05", paramLabel = "PATH|NAME",
            description = "pytorch-fid's Inception weights: a .pth file or a zoo name (default: ${DEFAULT-VALUE}, downloaded once).")
    String inception;

    @Option(names = "--batch-size", defaultValue = "16", description = "Images per Inception forward (default: ${DEFAULT-VALUE}); bounds memory.")
    int batchSize;

    @Override
    public Integer call() throws Exception {
        if (!preprocess.equals("adm") && !preprocess.equals("pytorch-fid"))
            throw new IllegalArgumentException("--preprocess must be adm or pytorch-fid, got '" + preprocess + "'");
        InceptionPreprocess pre = InceptionPreprocess.ofFlag(preprocess);
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        if (ref == null && saveStats == null && saveFeatures == null)
            throw new IllegalArgumentException("give --ref to compare, or --save-stats / --save-features to extract");
        Supplier<FidInceptionV3> net = new Supplier<>() {
            FidInceptionV3 loaded;

            @Override
            public FidInceptionV3 get() {
                if (loaded == null) loaded = loadInception(inception);
                return loaded;
            }
        };
        Evaluation.Side s = Evaluation.read(samples, net, pre, batchSize, progress("samples"));
        if (saveFeatures != null) {
            if (s.features() == null) throw new IllegalArgumentException("--save-features needs images, and --samples " + samples + " is a statistics file");
            Npy.write(saveFeatures, Evaluation.pool3(s.features()));
            System.out.println("wrote the pool3 features of " + s.features().count() + " images to " + saveFeatures);
        }
        if (saveStats != null) {
            Evaluation.writeStatistics(saveStats, s);
            System.out.println("wrote the statistics (mu, sigma" + (s.spatial() != null ? ", mu_s, sigma_s" : "") + ") to " + saveStats);
        }
        if (ref == null) return 0;
        Evaluation.Side r = Evaluation.read(ref, net, pre, batchSize, progress("ref"));
        Evaluation.Metrics m = Evaluation.compare(s, r);
        Map<String, Double> values = m.asMap();
        if (m.inceptionScore() != null) System.out.println("Inception Score: " + m.inceptionScore());
        System.out.println("FID: " + m.fid());
        if (m.sfid() != null) System.out.println("sFID: " + m.sfid());
        if (m.precision() != null) {
            System.out.println("Precision: " + m.precision());
            System.out.println("Recall: " + m.recall());
        }
        if (json != null) {
            byte[] bytes = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(values);
            AtomicFiles.write(json, o -> o.write(bytes));
        }
        return 0;
    }

    /** {@code --inception PATH|NAME}: a .pth file, else a zoo name (fetched once); one line naming the flag when neither loads. */
    static FidInceptionV3 loadInception(String inception) {
        Path p = Path.of(inception);
        try {
            if (Files.exists(p)) return FidInceptionV3.load(p);
            Zoo zoo = Zoo.standard();
            if (!zoo.contains(inception)) throw new IllegalArgumentException("--inception: no file or zoo model named '" + inception + "'");
            return zoo.loadInception(inception);
        } catch (IOException e) {
            throw new IllegalArgumentException("--inception " + inception + ": " + e.getMessage(), e);
        }
    }

    /** One stderr line at most every 10 s, with the rate and the time left. */
    static InceptionFeatures.Progress progress(String what) {
        long start = System.nanoTime();
        long[] last = {start};
        return (done, total) -> {
            long now = System.nanoTime();
            if (now - last[0] < 10_000_000_000L && done < total) return;
            last[0] = now;
            double rate = done / ((now - start) / 1e9);
            long eta = Math.round((total - done) / rate);
            System.err.printf(Locale.ROOT, "%s: %d/%d images, %.1f images/s, ETA %d:%02d:%02d%n", what, done, total, rate, eta / 3600, eta / 60 % 60, eta % 60);
        };
    }
}
