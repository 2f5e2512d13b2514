package org.dit4j.pipeline.shards;

import org.dit4j.pipeline.DiffusionPipeline;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.*;

/**
 * {@code --devices N} for sampling, as {@code train --devices N} does it: N model replicas (copies of the driver's
 * weights, the autoencoder's too), each computing one shard at a time on its own thread; one device computes the
 * shards in the caller's thread.
 */
public final class LocalReplicas implements ShardExecutor {
    private final DiffusionPipeline first;
    private final BlockingQueue<DiffusionPipeline> idle;
    private final ExecutorService pool;
    private final int devices;

    public LocalReplicas(DiffusionPipeline pipeline, int devices) {
        if (devices < 1) throw new IllegalArgumentException("--devices must be at least 1, got " + devices);
        this.first = pipeline;
        this.devices = devices;
        this.idle = new ArrayBlockingQueue<>(devices);
        idle.add(pipeline);
        for (int i = 1; i < devices; i++) idle.add(pipeline.replica("replica " + i));
        this.pool = devices > 1 ? Executors.newFixedThreadPool(devices, r -> {
            Thread t = new Thread(r, "dit4j-sampler");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    @Override
    public int workers() {
        return devices;
    }

    @Override
    public String describe() {
        return devices == 1 ? "one device" : devices + " model replicas on threads of this machine";
    }

    @Override
    public <S extends Serializable, R extends Serializable> void run(List<S> shards, ShardWork<S, R> work, Results<S, R> results) throws IOException {
        if (pool == null) {
            for (S s : shards) results.accept(s, compute(work, first, s));
            return;
        }
        List<Future<R>> futures = new ArrayList<>();
        for (S s : shards)
            futures.add(pool.submit(() -> {
                DiffusionPipeline p = idle.take();
                try {
                    return compute(work, p, s);
                } finally {
                    idle.put(p);
                }
            }));
        try {
            for (int i = 0; i < shards.size(); i++) results.accept(shards.get(i), futures.get(i).get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sampling", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof UncheckedIOException u) throw u.getCause();
            if (c instanceof RuntimeException r) throw r;
            if (c instanceof Error err) throw err;
            throw new IllegalStateException(c);
        } finally {
            for (Future<R> f : futures) f.cancel(true);
        }
    }

    private static <S, R> R compute(ShardWork<S, R> work, DiffusionPipeline p, S shard) {
        try {
            return work.compute(p, shard);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }
}
