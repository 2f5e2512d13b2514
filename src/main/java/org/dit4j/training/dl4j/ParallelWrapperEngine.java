package org.dit4j.training.dl4j;

import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.util.ArrayDeque;
import java.util.List;

/**
 * DL4J's ParallelWrapper: one worker thread per shard, each with its replica of the graph; parameters and Adam
 * moments are averaged after every round (averaging frequency 1, {@code AVERAGING}: gradient sharing fails with
 * SameDiff layers in M2.1). On CPU the backend has one device and the workers are threads sharing it.
 * <p>
 * One {@code fit} runs for the whole training, fed round by round through {@link RoundFeed}: a {@code fit} per round
 * would rebuild every replica each step (about a second for a tiny model) and, because each new worker thread adds a
 * SameDiff session to the root model that is never removed, grow native memory until it runs out (measured).
 */
public final class ParallelWrapperEngine implements GraphTrainer.Engine {
    private final int workers;
    private ComputationGraph graph;
    private RoundFeed feed;
    private Thread runner;

    public ParallelWrapperEngine(int workers) {
        if (workers < 1) throw new IllegalArgumentException("the number of workers must be at least 1, got " + workers);
        this.workers = workers;
    }

    @Override
    public synchronized double fitRound(ComputationGraph g, List<DataSet> shards) {
        if (shards.size() != workers) throw new IllegalArgumentException(shards.size() + " shards for " + workers + " workers");
        if (graph == null) start(g);
        else if (graph != g) throw new IllegalStateException("a ParallelWrapperEngine trains one graph");
        feed.round(shards);
        return g.score();
    }

    private void start(ComputationGraph g) {
        graph = g;
        feed = new RoundFeed(workers);
        ParallelWrapper wrapper = new ParallelWrapper.Builder<>(g)
                .workers(workers)
                .averagingFrequency(1)
                .averageUpdaters(true)
                .prefetchBuffer(0)
                .workspaceMode(WorkspaceMode.NONE)
                .trainingMode(ParallelWrapper.TrainingMode.AVERAGING)
                .reportScoreAfterAveraging(false)
                .build();
        runner = new Thread(() -> {
            try {
                wrapper.fit(feed);
            } catch (Throwable t) {
                feed.fail(t);
            } finally {
                wrapper.shutdown();
            }
        }, "dit4j-parallel-wrapper");
        runner.setDaemon(true);
        runner.start();
    }

    @Override
    public int workers() {
        return workers;
    }

    @Override
    public String describe() {
        return "ParallelWrapper, " + workers + " workers";
    }

    @Override
    public synchronized void close() {
        if (feed == null) return;
        feed.finish();
        try {
            runner.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        feed = null;
        graph = null;
    }

    /**
     * The iterator ParallelWrapper reads: it hands out one round's shards and reports the round done when the wrapper,
     * having averaged, asks for more. ParallelWrapper calls {@code hasNext()} once after taking a round's last shard
     * (answered yes without waiting: it stops at {@code workers} shards anyway) and again at the top of its next round.
     */
    static final class RoundFeed implements DataSetIterator {
        private final int workers;
        private final ArrayDeque<DataSet> pending = new ArrayDeque<>();
        private int handedOut, hasNextAfterRound;
        private boolean inRound, finished;
        private Throwable failure;

        RoundFeed(int workers) {
            this.workers = workers;
        }

        /** Offers one round and waits until it has been trained and averaged. */
        synchronized void round(List<DataSet> shards) {
            pending.addAll(shards);
            handedOut = 0;
            hasNextAfterRound = 0;
            inRound = true;
            notifyAll();
            while (inRound && failure == null) waitQuietly();
            if (failure != null) throw new IllegalStateException("a ParallelWrapper worker failed: " + failure.getMessage(), failure);
        }

        synchronized void fail(Throwable t) {
            failure = t;
            notifyAll();
        }

        synchronized void finish() {
            finished = true;
            notifyAll();
        }

        @Override
        public synchronized boolean hasNext() {
            if (inRound && handedOut == workers && ++hasNextAfterRound == 1) return true;
            if (inRound && handedOut == workers) {
                inRound = false;   // the wrapper has averaged and asks for the next round
                notifyAll();
            }
            while (pending.isEmpty() && !finished) waitQuietly();
            return !pending.isEmpty();
        }

        @Override
        public synchronized DataSet next() {
            // ParallelWrapper always asks hasNext() first; asking again here would count as the end of the round.
            DataSet d = pending.poll();
            if (d == null) throw new java.util.NoSuchElementException("no shard waiting");
            handedOut++;
            return d;
        }

        private void waitQuietly() {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while training", e);
            }
        }

        @Override public DataSet next(int num) { return next(); }
        @Override public int inputColumns() { return -1; }
        @Override public int totalOutcomes() { return -1; }
        @Override public boolean resetSupported() { return false; }
        @Override public boolean asyncSupported() { return false; }
        @Override public void reset() { throw new UnsupportedOperationException("training rounds cannot be replayed"); }
        @Override public int batch() { return -1; }
        @Override public void setPreProcessor(DataSetPreProcessor p) { throw new UnsupportedOperationException(); }
        @Override public DataSetPreProcessor getPreProcessor() { return null; }
        @Override public List<String> getLabels() { return null; }
    }
}
