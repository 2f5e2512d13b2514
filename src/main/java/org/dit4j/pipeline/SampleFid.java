package org.dit4j.pipeline;

import org.dit4j.evaluation.Evaluation;
import org.dit4j.evaluation.FidStatistics;
import org.dit4j.evaluation.FrechetDistance;
import org.dit4j.evaluation.ImageSource;
import org.dit4j.evaluation.InceptionFeatures;
import org.dit4j.models.inception.FidInceptionV3;
import org.dit4j.models.inception.InceptionPreprocess;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;

/**
 * The FID of a model in training, as U-ViT's {@code eval_step}: {@code n} samples of the given (EMA) weights against
 * reference statistics. The samples are {@code dit4j sample-batch}'s with the same seed — labels uniform over the
 * model's classes from the seed alone, {@link SampleRequest#DEFAULT_BATCH} per batch, batch noise from
 * {@link SampleBatch#batch}, DiT's uint8 rounding — drawn as {@link TrainingSamples} says, so every evaluation sees the
 * same labels and noise and none of it comes from the training draws. Images go to Inception one sampling batch at a
 * time; the pool3 statistics of all of them meet the reference as {@code dit4j evaluate} compares them.
 */
public final class SampleFid {
    private final TrainingSamples samples;
    private final FidStatistics reference;
    private final FidInceptionV3 net;
    private final InceptionPreprocess preprocess;
    private final int n;
    private final long seed;

    /** {@code reference}: as {@link Evaluation#statistics} reads it, with pool3 (2048-dimensional) statistics; {@code n} ≥ 2 samples. */
    public SampleFid(TrainingSamples samples, Evaluation.Side reference, FidInceptionV3 net, InceptionPreprocess preprocess, int n, long seed) {
        if (n < 2) throw new IllegalArgumentException("fid_samples must be at least 2 (a covariance needs two samples), got " + n);
        if (samples.config().numClasses() < 1)
            throw new IllegalArgumentException("fid_every draws class-conditional samples, and this " + samples.config().family()
                    + " model has no classes (unconditional or text-to-image models get no FID during training)");
        if (reference.pool().dim() != FidInceptionV3.POOL3_DIM)
            throw new IllegalArgumentException(reference.source() + " has " + reference.pool().dim() + "-dimensional statistics, Inception's pool3 features are "
                    + FidInceptionV3.POOL3_DIM + "-dimensional");
        this.samples = samples;
        this.reference = reference.pool();
        this.net = net;
        this.preprocess = preprocess;
        this.n = n;
        this.seed = seed;
    }

    public int sampleCount() {
        return n;
    }

    /** The FID of {@code n} samples of {@code weights}. */
    public double compute(Map<String, INDArray> weights) throws IOException {
        try (ImageSource images = images(weights)) {
            InceptionFeatures f = InceptionFeatures.extract(() -> net, preprocess, images, InceptionFeatures.DEFAULT_BATCH, null);
            return FrechetDistance.compute(f.poolStatistics(), reference);
        }
    }

    /** The samples as 8-bit images, one sampling batch drawn when the previous one is used up. */
    ImageSource images(Map<String, INDArray> weights) {
        DiffusionPipeline pipeline = samples.pipeline(weights);
        long[] y = SampleBatch.labels(seed, n, samples.config().numClasses());
        int batch = SampleRequest.DEFAULT_BATCH;
        return new ImageSource() {
            int read;
            INDArray drawn;

            @Override
            public int count() {
                return n;
            }

            @Override
            public Image next() {
                if (read % batch == 0) drawn = pipeline.images(SampleBatch.batch(samples::request, y, seed, read, batch), null, 0);
                INDArray chw = drawn.slice(read % batch);
                return new Image(SampleBatch.toUint8(chw), (int) chw.size(1), (int) chw.size(2), String.format(Locale.ROOT, "%06d", read++));
            }
        };
    }
}
