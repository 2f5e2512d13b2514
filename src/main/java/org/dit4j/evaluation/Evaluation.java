package org.dit4j.evaluation;

import org.dit4j.io.Npz;
import org.dit4j.io.WeightsFormatException;
import org.dit4j.models.inception.FidInceptionV3;
import org.dit4j.models.inception.InceptionPreprocess;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * ADM's {@code evaluator.py} without TensorFlow: a sample batch against a reference batch, giving the Inception Score,
 * FID, sFID, precision and recall, whichever the two inputs allow. A side is an image batch ({@code arr_0}), an image
 * folder, or a statistics file ({@code mu}/{@code sigma}, optionally {@code mu_s}/{@code sigma_s}); as in
 * {@code read_statistics}, stored statistics are used when a file has {@code mu}, and its images (if any) still give
 * the features precision/recall need. Two statistics files give FID without running the network.
 */
public final class Evaluation {
    private Evaluation() {}

    /** One side of the comparison; {@code spatial} and {@code features} may be null. */
    public record Side(Path source, FidStatistics pool, FidStatistics spatial, InceptionFeatures features) {}

    /** The metrics that apply (null where not). */
    public record Metrics(Double inceptionScore, Double fid, Double sfid, Double precision, Double recall) {
        /** {@code fid}, {@code sfid}, {@code inception_score}, {@code precision}, {@code recall}, present ones only. */
        public Map<String, Double> asMap() {
            Map<String, Double> m = new LinkedHashMap<>();
            if (fid != null) m.put("fid", fid);
            if (sfid != null) m.put("sfid", sfid);
            if (inceptionScore != null) m.put("inception_score", inceptionScore);
            if (precision != null) m.put("precision", precision);
            if (recall != null) m.put("recall", recall);
            return m;
        }
    }

    /** Reads a side; the network is only asked for when there are images. */
    public static Side read(Path path, Supplier<FidInceptionV3> net, InceptionPreprocess pre, int batchSize, InceptionFeatures.Progress progress) throws IOException {
        return read(path, net, pre, batchSize, progress, true);
    }

    /**
     * A side's statistics alone, as ADM's {@code read_statistics}: the stored ones when the file has {@code mu} (its
     * images, if any, are not run: {@link Side#features} is null), else those of its images.
     */
    public static Side statistics(Path path, Supplier<FidInceptionV3> net, InceptionPreprocess pre, int batchSize, InceptionFeatures.Progress progress) throws IOException {
        return read(path, net, pre, batchSize, progress, false);
    }

    private static Side read(Path path, Supplier<FidInceptionV3> net, InceptionPreprocess pre, int batchSize, InceptionFeatures.Progress progress,
                             boolean storedStatisticsWithFeatures) throws IOException {
        if (Files.isDirectory(path)) return fromImages(path, net, pre, batchSize, progress);
        List<String> keys = Npz.keys(path);
        boolean stats = keys.contains("mu"), images = keys.contains("arr_0");
        if (!stats && !images)
            throw new WeightsFormatException(path, "has neither 'arr_0' (images) nor 'mu'/'sigma' (statistics); keys: " + String.join(", ", keys));
        if (!stats) return fromImages(path, net, pre, batchSize, progress);
        FidStatistics pool = FidStatistics.read(path, "mu", "sigma");
        FidStatistics spatial = keys.contains("mu_s") || keys.contains("sigma_s") ? FidStatistics.read(path, "mu_s", "sigma_s") : null;
        InceptionFeatures f = images && storedStatisticsWithFeatures ? features(path, net, pre, batchSize, progress) : null;
        return new Side(path, pool, spatial, f);
    }

    private static Side fromImages(Path path, Supplier<FidInceptionV3> net, InceptionPreprocess pre, int batchSize, InceptionFeatures.Progress progress) throws IOException {
        InceptionFeatures f = features(path, net, pre, batchSize, progress);
        if (f.count() < 2) throw new WeightsFormatException(path, "holds " + f.count() + " image; statistics need at least 2");
        return new Side(path, f.poolStatistics(), f.spatialStatistics(), f);
    }

    private static InceptionFeatures features(Path path, Supplier<FidInceptionV3> net, InceptionPreprocess pre, int batchSize, InceptionFeatures.Progress progress) throws IOException {
        try (ImageSource images = ImageSource.open(path)) {
            return InceptionFeatures.extract(net, pre, images, batchSize, progress);
        }
    }

    /** As ADM's {@code main}: IS of the samples, {@code sample_stats.frechet_distance(ref_stats)}, sFID, P/R(ref, samples). */
    public static Metrics compare(Side samples, Side ref) {
        if (samples.pool().dim() != ref.pool().dim())
            throw new IllegalArgumentException(samples.source() + " has " + samples.pool().dim() + "-dimensional statistics, " + ref.source() + " "
                    + ref.pool().dim() + "-dimensional ones: they come from different feature extractors");
        Double is = samples.features() != null
                ? InceptionScore.compute(samples.features().probs(), samples.features().count(), FidInceptionV3.CLASSES, InceptionScore.SPLIT_SIZE) : null;
        double fid = FrechetDistance.compute(samples.pool(), ref.pool());
        Double sfid = samples.spatial() != null && ref.spatial() != null ? FrechetDistance.compute(samples.spatial(), ref.spatial()) : null;
        Double precision = null, recall = null;
        // ADM's k-NN radius needs more than nhood_size points per set; with fewer the metric does not apply
        if (samples.features() != null && ref.features() != null
                && samples.features().count() > PrecisionRecall.NHOOD && ref.features().count() > PrecisionRecall.NHOOD) {
            PrecisionRecall.Result pr = PrecisionRecall.compute(ref.features().pool3(), ref.features().count(),
                    samples.features().pool3(), samples.features().count(), FidInceptionV3.POOL3_DIM);
            precision = pr.precision();
            recall = pr.recall();
        }
        return new Metrics(is, fid, sfid, precision, recall);
    }

    /** The statistics of a side as a reference file: {@code mu}, {@code sigma} and, when known, {@code mu_s}, {@code sigma_s} (float64). */
    public static void writeStatistics(Path out, Side side) throws IOException {
        Map<String, INDArray> arrays = new LinkedHashMap<>();
        arrays.put("mu", side.pool().muArray());
        arrays.put("sigma", side.pool().sigma());
        if (side.spatial() != null) {
            arrays.put("mu_s", side.spatial().muArray());
            arrays.put("sigma_s", side.spatial().sigma());
        }
        Npz.write(out, arrays);
    }

    /** pool3 features (N, 2048) float32 in source order. */
    public static INDArray pool3(InceptionFeatures f) {
        return Nd4j.create(f.pool3(), new long[]{f.count(), FidInceptionV3.POOL3_DIM}, 'c');
    }
}
