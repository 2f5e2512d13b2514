package org.dit4j.cli;

import org.dit4j.io.TorchCheckpoint;
import org.dit4j.pipeline.DiffusionPipeline;
import org.dit4j.pipeline.shards.LocalReplicas;
import org.dit4j.pipeline.shards.PipelineSpec;
import org.dit4j.pipeline.shards.ShardExecutor;
import org.dit4j.pipeline.shards.SparkShards;
import org.dit4j.training.spark.SparkEngine;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where sampling shards run: {@code --devices N} model replicas on this machine, or {@code --spark MASTER} executors. */
final class ShardOptions {
    @Option(names = "--devices", defaultValue = "1", description = "Model replicas sampling shards at once on this machine, or Spark workers with --spark (default: ${DEFAULT-VALUE}).")
    int devices;

    @Option(names = "--spark", paramLabel = "MASTER", description = "Sample on Apache Spark (local[2], spark://host:7077, yarn): --devices shards at a time,"
            + " each executor loading the model from the weights path (executors must see the driver's files); the driver writes the outputs.")
    String spark;

    @Option(names = "--spark-ui", description = "Start Spark's web UI (off by default).")
    boolean sparkUi;

    /** Refuses bad settings, and an unreachable master, before any model is loaded. */
    void check() {
        if (devices < 1) throw new IllegalArgumentException("--devices must be at least 1, got " + devices);
        if (spark != null) SparkEngine.requireReachable(spark);
    }

    /** The executor for {@code pipeline}, loaded from {@code weights} (with {@code vae} as --vae gave it, or null) on Spark executors. */
    ShardExecutor executor(DiffusionPipeline pipeline, Path weights, TorchCheckpoint.Pick pick, String vae) {
        if (spark == null) return new LocalReplicas(pipeline, devices);
        return SparkShards.start(spark, devices, sparkUi, new PipelineSpec(weights, pipeline.model().config(), pick, pipeline.vae() == null ? null : vae));
    }
}
