package org.dit4j.pipeline.shards;

import org.dit4j.pipeline.DiffusionPipeline;
import org.dit4j.pipeline.SampleRequest;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Where sampling shards are computed: on this machine's model replicas ({@link LocalReplicas}, {@code --devices N}) or
 * on Spark executors ({@link SparkShards}, {@code --spark MASTER}). Results come back to the caller in shard order, so
 * the driver alone writes files, in the order one device writes them.
 */
public interface ShardExecutor extends AutoCloseable {
    /** Told each shard's result, in shard order, as soon as it and every shard before it are done. */
    @FunctionalInterface
    interface Results<S, R> {
        void accept(S shard, R result) throws IOException;
    }

    /** How many shards are computed at once. */
    int workers();

    /** One line for the log: where the shards run. */
    String describe();

    <S extends Serializable, R extends Serializable> void run(List<S> shards, ShardWork<S, R> work, Results<S, R> results) throws IOException;

    @Override
    void close();

    /**
     * {@link DiffusionPipeline#latents(SampleRequest, DiffusionPipeline.Progress)} over this executor's workers: the
     * request's batches cut into at most {@link #workers} contiguous runs, each sampled where one machine's noise stream
     * has it, gathered in order — the same samples as one device. {@code done} is told each finished run's batches.
     */
    default INDArray latents(SampleRequest r, Results<int[], INDArray> done) throws IOException {
        if (r.labels().length == 0) throw new IllegalArgumentException("no class labels to sample");
        int batches = r.batches(), shards = Math.min(workers(), batches);
        List<int[]> runs = new ArrayList<>();
        for (int k = 0; k < shards; k++) runs.add(new int[]{(int) ((long) batches * k / shards), (int) ((long) batches * (k + 1) / shards)});
        INDArray[] parts = new INDArray[shards];
        int[] next = {0};
        run(runs, (pipeline, run) -> pipeline.latents(r, run[0], run[1], null), (run, latents) -> {
            parts[next[0]++] = latents;
            if (done != null) done.accept(run, latents);
        });
        return parts.length == 1 ? parts[0] : Nd4j.concat(0, parts);
    }
}
