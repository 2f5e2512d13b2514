package org.dit4j.pipeline.shards;

import org.apache.spark.api.java.JavaSparkContext;
import org.dit4j.io.WeightsFormatException;
import org.dit4j.training.spark.SparkEngine;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Sampling shards on Apache Spark ({@code --spark MASTER}): rounds of one shard per worker, each round a parallelized
 * collection whose tasks carry the shard and the {@link PipelineSpec} (paths, not arrays); every executor samples its
 * shard on a pipeline it loaded from the weights path and returns the shard's images or latents, which the driver
 * hands on in shard order. A round is the unit of loss when the driver stops: its finished predecessors are kept.
 */
public final class SparkShards implements ShardExecutor {
    private final JavaSparkContext sc;
    private final boolean ownsContext;
    private final int workers;
    private final PipelineSpec spec;

    /** Starts a Spark context for {@code master} ({@code local[2]}, {@code spark://host:7077}, {@code yarn}, …). */
    public static SparkShards start(String master, int workers, boolean sparkUi, PipelineSpec spec) {
        SparkEngine.requireReachable(master);
        return new SparkShards(new JavaSparkContext(SparkEngine.sparkConf(master, sparkUi).setAppName("dit4j-sample")), true, workers, spec);
    }

    /** Runs on an existing context (spark-submit, notebooks, tests). */
    public SparkShards(JavaSparkContext sc, int workers, PipelineSpec spec) {
        this(sc, false, workers, spec);
    }

    private SparkShards(JavaSparkContext sc, boolean ownsContext, int workers, PipelineSpec spec) {
        if (workers < 1) throw new IllegalArgumentException("the number of Spark workers must be at least 1, got " + workers);
        this.sc = sc;
        this.ownsContext = ownsContext;
        this.workers = workers;
        this.spec = spec;
    }

    @Override
    public int workers() {
        return workers;
    }

    @Override
    public String describe() {
        return "Spark " + sc.master() + ", " + workers + " shards at a time";
    }

    @Override
    public <S extends Serializable, R extends Serializable> void run(List<S> shards, ShardWork<S, R> work, Results<S, R> results) throws IOException {
        PipelineSpec pipeline = spec;   // the task closure carries the spec and the work, not this executor
        for (int from = 0; from < shards.size(); from += workers) {
            List<S> round = new ArrayList<>(shards.subList(from, Math.min(shards.size(), from + workers)));
            List<R> out;
            try {
                out = sc.parallelize(round, round.size()).map(s -> pipeline.compute(work, s)).collect();
            } catch (Exception e) {   // Spark's SparkException is checked, though Scala throws it undeclared
                throw taskError(e);
            }
            for (int i = 0; i < round.size(); i++) results.accept(round.get(i), out.get(i));
        }
    }

    /** A task's refusal (bad label, bad file) as its own one-line message; anything else as the first line of Spark's report. */
    private static RuntimeException taskError(Exception e) {
        for (Throwable c = e; c != null; c = c.getCause())
            if (c instanceof IllegalArgumentException || c instanceof WeightsFormatException) return (RuntimeException) c;
        String report = String.valueOf(e.getMessage());
        return new IllegalStateException("Spark sampling failed: " + report.lines().findFirst().orElse(report), e);
    }

    @Override
    public void close() {
        if (ownsContext) sc.stop();
    }
}
