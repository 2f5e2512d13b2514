package org.dit4j.training;

import org.dit4j.io.AtomicFiles;
import org.dit4j.io.HadoopFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A run folder in a Hadoop file system ({@code --out hdfs://nn/runs/x}): {@link TrainingRun} writes a local staging
 * folder as usual, and each output it finishes is copied up through Hadoop's FileSystem API: a checkpoint as a whole
 * folder (written under a temporary name, then renamed), then log.csv and train_config.yaml, and at the end loss.png;
 * the remote keeps the newest ckpt_max_keep checkpoints. A resumed run copies the newest checkpoint and log.csv down
 * first.
 */
public final class RemoteRun {
    private final String uri;
    private Path staging;

    /** {@code uri}: the remote run folder. */
    public RemoteRun(String uri) {
        this.uri = uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
    }

    public String uri() {
        return uri;
    }

    /** The local folder the run writes (after {@link #start}). */
    public Path staging() {
        if (staging == null) throw new IllegalStateException("the remote run has not started");
        return staging;
    }

    /**
     * Writes the run's config there first, so an unreachable or read-only file system fails before any training,
     * then makes the local staging folder (under java.io.tmpdir); a resumed run copies the remote log.csv into it.
     */
    public void start(TrainConfig cfg, boolean resumed) throws IOException {
        byte[] yaml = cfg.toYaml().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        HadoopFiles.write(HadoopFiles.resolve(uri, TrainingRun.CONFIG), o -> o.write(yaml));
        staging = Files.createTempDirectory("dit4j-run-");
        if (resumed) fetchLog();
    }

    private void fetchLog() {
        String remote = HadoopFiles.resolve(uri, TrainingRun.LOG);
        if (!HadoopFiles.isFile(remote)) return;
        byte[] bytes = HadoopFiles.readAll(remote);
        try {
            AtomicFiles.write(staging.resolve(TrainingRun.LOG), o -> o.write(bytes));
        } catch (IOException e) {
            throw new IllegalArgumentException(staging.resolve(TrainingRun.LOG) + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The newest checkpoint under the remote run folder {@code uri} (or {@code uri} itself when it is a checkpoint),
     * copied into {@code into}, and checked whole as a local one is.
     */
    public static Path fetchLatestCheckpoint(String uri, Path into) {
        String u = uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
        if (HadoopFiles.isFile(HadoopFiles.resolve(u, TrainingCheckpoint.STATE))) {
            Path local = into.resolve(u.substring(u.lastIndexOf('/') + 1));
            HadoopFiles.downloadDirectory(u, local);
            return TrainingCheckpoint.latest(local);
        }
        String folder = HadoopFiles.resolve(u, "checkpoints");
        List<String> steps = new ArrayList<>(HadoopFiles.list(folder).stream().filter(n -> n.matches("step-\\d+")).toList());
        if (steps.isEmpty()) throw new IllegalArgumentException(uri + ": no training checkpoints (expected " + folder + "/step-*)");
        steps.sort(Comparator.reverseOrder());
        Path local = into.resolve("checkpoints").resolve(steps.get(0));
        HadoopFiles.downloadDirectory(HadoopFiles.resolve(folder, steps.get(0)), local);
        return TrainingCheckpoint.latest(local);
    }

    /** What {@link TrainingRun.Reporter#wrote} reports, copied up; returns the remote location. */
    public String upload(String what, Path local, int keepCheckpoints) {
        String relative = staging.relativize(local).toString().replace('\\', '/');
        String target = HadoopFiles.resolve(uri, relative);
        if (Files.isDirectory(local)) HadoopFiles.uploadDirectory(local, target);
        else uploadFile(local, target);
        if (what.equals("checkpoint")) {
            uploadFile(staging.resolve(TrainingRun.LOG), HadoopFiles.resolve(uri, TrainingRun.LOG));
            uploadFile(staging.resolve(TrainingRun.CONFIG), HadoopFiles.resolve(uri, TrainingRun.CONFIG));
            String folder = HadoopFiles.resolve(uri, "checkpoints");
            List<String> steps = new ArrayList<>(HadoopFiles.list(folder).stream().filter(n -> n.matches("step-\\d+")).sorted().toList());
            for (int i = 0; i < steps.size() - keepCheckpoints; i++) HadoopFiles.delete(HadoopFiles.resolve(folder, steps.get(i)));
        }
        return target;
    }

    /** The end of a run: the log, the config and loss.png. */
    public void finish() {
        for (String name : List.of(TrainingRun.LOG, TrainingRun.CONFIG, TrainingRun.LOSS_PLOT))
            if (Files.isRegularFile(staging.resolve(name))) uploadFile(staging.resolve(name), HadoopFiles.resolve(uri, name));
    }

    private static void uploadFile(Path local, String target) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(local);
        } catch (IOException e) {
            throw new IllegalArgumentException(local + ": cannot read (" + e.getMessage() + ")", e);
        }
        HadoopFiles.write(target, o -> o.write(bytes));
    }
}
