package org.dit4j.training;

import org.dit4j.io.AtomicFiles;
import org.dit4j.pipeline.SampleFid;
import org.dit4j.pipeline.SampleGrids;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A training run in its folder, whatever the engine: resume from the newest checkpoint, {@code train_config.yaml},
 * {@code log.csv} (one row per logged step, rows past a resumed step dropped), periodic sample grids, FID (a column of
 * the log, in the rows of its steps) and checkpoints, {@code loss.png} at the end, and a warning when the EMA still
 * mostly holds the initial weights. The CLI and Java users drive runs through here.
 */
public final class TrainingRun {
    /** What a run reports as it goes; the CLI prints it or draws a progress bar. */
    public interface Reporter {
        default void started(String description, long fromStep, long totalSteps) {}

        default void stepped(TrainingLoop.Log log) {}

        /** Every log_every steps: {@code meanLoss} over the steps since the last line. */
        default void logged(TrainingLoop.Log log, double meanLoss) {}

        default void wrote(String what, Path path) {}

        /** The FID of {@code samples} samples of the sampling weights at {@code step}. */
        default void evaluated(long step, int samples, double fid) {}

        default void warning(String message) {}
    }

    public static final String LOG = "log.csv", CONFIG = "train_config.yaml", LOSS_PLOT = "loss.png";
    private static final String LOG_HEADER = "step,loss,lr,grad_norm,steps_per_s,images_per_s,fid";
    /** The header of logs written before the fid column: resuming one rewrites it (its rows read as an empty fid). */
    private static final String LOG_HEADER_BEFORE_FID = "step,loss,lr,grad_norm,steps_per_s,images_per_s";
    /** The share of initial weights above which the final EMA gets a warning. */
    static final double EMA_WARNING_SHARE = 0.5;

    private final TrainingLoop trainer;
    private final Path dir;
    private final SampleGrids grids;
    private final SampleFid fid;

    /** {@code grids}: draws sample grids every sample_every steps, or null; {@code fid}: computes the FID every fid_every steps, or null. */
    public TrainingRun(TrainingLoop trainer, Path dir, SampleGrids grids, SampleFid fid) {
        this.trainer = trainer;
        this.dir = dir;
        this.grids = grids;
        this.fid = fid;
    }

    /** Continues from {@code checkpoint} (a checkpoint folder; see {@link TrainingCheckpoint#latest}). */
    public void resumeFrom(Path checkpoint) {
        trainer.restore(TrainingCheckpoint.load(checkpoint));
    }

    /** Trains to the end and returns the newest checkpoint. */
    public Path run(String description, Reporter reporter) throws IOException {
        TrainConfig cfg = trainer.trainConfig();
        Files.createDirectories(dir);
        byte[] yaml = cfg.toYaml().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(dir.resolve(CONFIG), o -> o.write(yaml));
        long total = trainer.totalSteps();
        reporter.started(description + " for " + total + " steps (" + trainer.describeEngine() + ")", trainer.currentStep(), total);
        Path csv = dir.resolve(LOG);
        List<double[]> curve = prepareLog(csv, trainer.currentStep());
        int logEvery = cfg.integer("log_every"), ckptEvery = cfg.integer("ckpt_every"), sampleEvery = cfg.integer("sample_every"),
                fidEvery = cfg.integer("fid_every");
        double lossSum = 0;
        int lossCount = 0;
        try (BufferedWriter log = Files.newBufferedWriter(csv, StandardOpenOption.APPEND)) {
            while (trainer.currentStep() < total) {
                TrainingLoop.Log l = trainer.trainStep();
                lossSum += l.loss();
                lossCount++;
                reporter.stepped(l);
                boolean fidStep = fid != null && fidEvery > 0 && (l.step() % fidEvery == 0 || l.step() == total);
                if (l.step() % logEvery == 0 || l.step() == total || fidStep) {
                    double mean = lossSum / lossCount;
                    // DL4J's engines clip inside the updater and do not report the norm: the column stays empty.
                    String norm = Double.isFinite(l.gradNorm()) ? String.format(Locale.ROOT, "%.4f", l.gradNorm()) : "";
                    String fidValue = "";
                    if (fidStep) {
                        double v = fid.compute(trainer.samplingWeights());
                        fidValue = Double.toString(v);   // every digit, as dit4j evaluate prints it
                        reporter.evaluated(l.step(), fid.sampleCount(), v);
                    }
                    log.write(String.format(Locale.ROOT, "%d,%.6f,%.3e,%s,%.3f,%.2f,%s%n", l.step(), mean, l.learningRate(), norm, l.stepsPerSecond(),
                            l.imagesPerSecond(), fidValue));
                    log.flush();
                    curve.add(new double[]{l.step(), mean});
                    reporter.logged(l, mean);
                    lossSum = 0;
                    lossCount = 0;
                }
                if (grids != null && sampleEvery > 0 && (l.step() % sampleEvery == 0 || l.step() == total)) {
                    Path png = dir.resolve("samples").resolve(String.format(Locale.ROOT, "step-%08d.png", l.step()));
                    grids.write(trainer.samplingWeights(), png);
                    reporter.wrote("samples", png);
                }
                if (l.step() % ckptEvery == 0 || l.step() == total) reporter.wrote("checkpoint", trainer.checkpoint(dir));
            }
        }
        LossPlot.write(dir.resolve(LOSS_PLOT), curve);
        String warning = emaWarning(trainer.ema());
        if (warning != null) reporter.warning(warning);
        return TrainingCheckpoint.latest(dir);
    }

    /**
     * The loss curve so far; a resumed run first drops the rows logged after its checkpoint (they are about to be
     * logged again) and gives a log from before the fid column the new header, rewriting the file through a temporary one.
     */
    static List<double[]> prepareLog(Path csv, long resumedStep) throws IOException {
        List<double[]> curve = new ArrayList<>();
        AtomicFiles.requireReplaceableFile(csv);   // the log is appended to: never through a link or into a FIFO
        if (!Files.exists(csv)) {
            AtomicFiles.write(csv, o -> o.write((LOG_HEADER + "\n").getBytes(StandardCharsets.UTF_8)));
            return curve;
        }
        List<String> kept = new ArrayList<>();
        boolean rewrite = false;
        for (String line : Files.readAllLines(csv, StandardCharsets.UTF_8)) {
            String[] f = line.split(",");
            long step;
            try {
                step = Long.parseLong(f[0]);
            } catch (NumberFormatException e) {
                boolean beforeFid = line.equals(LOG_HEADER_BEFORE_FID);
                rewrite |= beforeFid;
                kept.add(beforeFid ? LOG_HEADER : line);   // the header
                continue;
            }
            if (step > resumedStep) {
                rewrite = true;
                continue;
            }
            kept.add(line);
            curve.add(new double[]{step, Double.parseDouble(f[1])});
        }
        if (rewrite) AtomicFiles.write(csv, o -> o.write((String.join("\n", kept) + "\n").getBytes(StandardCharsets.UTF_8)));
        return curve;
    }

    /** One line when the EMA still mostly holds its initial weights (e.g. 400 steps at 0.9999), or null. */
    static String emaWarning(Ema ema) {
        if (ema == null) return null;
        double share = ema.initialShare();
        if (share <= EMA_WARNING_SHARE) return null;
        return String.format(Locale.ROOT, "the EMA weights still hold %.0f%% of the initial weights after %d updates at ema_decay %s;"
                        + " sample the trained weights with --weights model, or train longer, lower ema_decay or set ema_warmup: true",
                100 * share, ema.updates(), ema.decay());
    }
}
