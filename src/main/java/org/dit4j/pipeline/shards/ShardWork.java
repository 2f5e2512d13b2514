package org.dit4j.pipeline.shards;

import org.dit4j.pipeline.DiffusionPipeline;

import java.io.Serializable;

/**
 * One shard's sampling on whichever pipeline computes it: a function of the shard alone (its labels, its seed or its
 * place in the one-machine noise stream), so a thread, an executor or a retried task give the same result. Serializable,
 * so a lambda over serializable values travels to Spark executors as it is.
 */
@FunctionalInterface
public interface ShardWork<S, R> extends Serializable {
    R compute(DiffusionPipeline pipeline, S shard) throws Exception;
}
