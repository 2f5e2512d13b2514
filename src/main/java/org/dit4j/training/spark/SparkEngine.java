package org.dit4j.training.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.dit4j.training.dl4j.GraphTrainer;
import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * Training rounds on Apache Spark with dl4j-spark's {@link SparkComputationGraph} and
 * {@link ParameterAveragingTrainingMaster}: each round the driver's batch is parallelised as one shard per worker, every
 * executor trains its replica on its shard, and the driver averages parameters and Adam moments (averaging frequency 1).
 * The driver's graph holds the averaged result after each round, so EMA and checkpoints stay on the driver.
 * {@code SharedTrainingMaster} (gradient sharing) is not offered: it fails with SameDiff layers in M2.1.
 */
public final class SparkEngine implements GraphTrainer.Engine {
    private final JavaSparkContext sc;
    private final boolean ownsContext;
    private final int workers;
    private final boolean collectStats;
    private final Consumer<String> log;
    private SparkComputationGraph net;
    private ExecutorShards executorShards;
    private long round;

    /** Starts a Spark context for {@code master} ({@code local[2]}, {@code spark://host:7077}, {@code yarn}, …). */
    public static SparkEngine start(String master, int workers, boolean sparkUi, boolean collectStats, Consumer<String> log) {
        requireReachable(master);
        return new SparkEngine(new JavaSparkContext(sparkConf(master, sparkUi)), true, workers, collectStats, log);
    }

    /** Runs on an existing context (spark-submit, notebooks, tests). */
    public SparkEngine(JavaSparkContext sc, int workers, boolean collectStats, Consumer<String> log) {
        this(sc, false, workers, collectStats, log);
    }

    private SparkEngine(JavaSparkContext sc, boolean ownsContext, int workers, boolean collectStats, Consumer<String> log) {
        if (workers < 1) throw new IllegalArgumentException("the number of Spark workers must be at least 1, got " + workers);
        this.sc = sc;
        this.ownsContext = ownsContext;
        this.workers = workers;
        this.collectStats = collectStats;
        this.log = log;
    }

    /**
     * Kryo with ND4J's registrator, as dl4j-spark requires. A master given by spark-submit wins over {@code master};
     * local masters, and masters on a loopback address, bind the driver to loopback. Outside spark-submit, a cluster's
     * executors fetch the classes from the jar this class was loaded from (the self-contained jar).
     */
    public static SparkConf sparkConf(String master, boolean sparkUi) {
        SparkConf conf = new SparkConf().setAppName("dit4j-train")
                .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .set("spark.kryo.registrator", "org.nd4j.kryo.Nd4jRegistrator")
                .set("spark.ui.enabled", Boolean.toString(sparkUi));
        if (!conf.contains("spark.master")) conf.setMaster(master);
        String m = conf.get("spark.master");
        if (m.startsWith("local") || isLoopbackMaster(m)) {
            conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        }
        if (!m.startsWith("local") && !conf.contains("spark.jars")) {
            String jar = ownJar();
            if (jar != null) conf.set("spark.jars", jar);
        }
        // executors load the same libnd4j build as the driver (an -Pavx2 jar carries no generic one)
        String ext = System.getProperty("org.bytedeco.javacpp.platform.extension", "");
        if (!ext.isEmpty() && !conf.contains("spark.executor.extraJavaOptions"))
            conf.set("spark.executor.extraJavaOptions", "-Dorg.bytedeco.javacpp.platform.extension=" + ext);
        // executors wait as scripts/dit4j makes the driver wait: busy-waiting OpenMP threads take the cores OpenBLAS needs
        if (!conf.contains("spark.executorEnv.OMP_WAIT_POLICY"))
            conf.set("spark.executorEnv.OMP_WAIT_POLICY", Objects.requireNonNullElse(System.getenv("OMP_WAIT_POLICY"), "PASSIVE"));
        return conf;
    }

    /**
     * A standalone master that does not answer fails here, in one line, rather than after Spark's minute of
     * registration retries. {@code spark://h1:7077,h2:7077} (standby masters) needs one of them up.
     */
    public static void requireReachable(String master) {
        if (!master.startsWith("spark://")) return;
        String reason = null;
        for (String hostPort : master.substring("spark://".length()).split(",")) {
            int colon = hostPort.lastIndexOf(':');
            if (colon < 0) throw new IllegalArgumentException("--spark " + master + ": expected spark://HOST:PORT");
            int port;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--spark " + master + ": the port '" + hostPort.substring(colon + 1) + "' is not a number");
            }
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(hostPort.substring(0, colon), port), 5000);
                return;
            } catch (java.io.IOException e) {
                reason = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }
        throw new IllegalArgumentException("--spark " + master + ": cannot reach the Spark master (" + reason + ")");
    }

    /** spark://127.0.0.1:7077, spark://localhost:7077 (a standalone master on this machine's loopback). */
    static boolean isLoopbackMaster(String master) {
        if (!master.startsWith("spark://")) return false;
        String host = master.substring("spark://".length()).replaceFirst(":\\d+$", "");
        return host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]");
    }

    private static String ownJar() {
        try {
            java.nio.file.Path p = java.nio.file.Path.of(SparkEngine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return p.toString().endsWith(".jar") ? p.toString() : null;
        } catch (Exception e) {
            return null;
        }
    }

    public JavaSparkContext context() {
        return sc;
    }

    /**
     * From now on each executor builds its own shards ({@link ExecutorShards}) instead of receiving them from the
     * driver.
     */
    public SparkEngine readingOnExecutors(ExecutorShards shards) {
        if (shards.workers() != workers) throw new IllegalArgumentException(shards.workers() + " executor shards for " + workers + " workers");
        this.executorShards = shards;
        return this;
    }

    @Override
    public double fitRound(ComputationGraph graph, List<DataSet> shards) {
        if (shards.size() != workers) throw new IllegalArgumentException(shards.size() + " shards for " + workers + " workers");
        for (DataSet d : shards)
            if (d.numExamples() != shards.get(0).numExamples())
                throw new IllegalArgumentException("train_batch_size must be a multiple of the " + workers + " Spark workers (equal shards per worker)");
        return fit(graph, sc.parallelize(shards, workers), shards.get(0).numExamples(), "from the driver");
    }

    @Override
    public double fitStep(ComputationGraph graph, long step, LongFunction<List<DataSet>> shards) {
        if (executorShards == null) return fitRound(graph, shards.apply(step));
        ExecutorShards spec = executorShards;   // the task closure carries the spec and the step, not this engine
        List<Integer> workerIds = new ArrayList<>();
        for (int k = 0; k < workers; k++) workerIds.add(k);
        JavaRDD<DataSet> rdd = sc.parallelize(workerIds, workers).map(k -> spec.shard(step, k));
        return fit(graph, rdd, spec.examplesPerWorker(), "read by the executors");
    }

    private double fit(ComputationGraph graph, JavaRDD<DataSet> rdd, int perWorker, String what) {
        if (net == null) net = new SparkComputationGraph(sc, graph, trainingMaster(perWorker));
        else if (net.getNetwork() != graph) throw new IllegalStateException("a SparkEngine trains one graph");
        long t0 = System.nanoTime();
        net.fit(rdd);
        round++;
        List<Integer> sizes = new ArrayList<>(java.util.Collections.nCopies(workers, perWorker));
        StringBuilder line = new StringBuilder(String.format(java.util.Locale.ROOT, "spark round %d: examples per worker %s (%s), %.0f ms",
                round, sizes, what, (System.nanoTime() - t0) / 1e6));
        if (collectStats && net.getSparkTrainingStats() != null) line.append('\n').append(net.getSparkTrainingStats().statsAsString());
        log.accept(line.toString());
        return net.getScore();
    }

    private ParameterAveragingTrainingMaster trainingMaster(int examplesPerShard) {
        return new ParameterAveragingTrainingMaster.Builder(examplesPerShard)
                .batchSizePerWorker(examplesPerShard)
                .averagingFrequency(1)
                .workerPrefetchNumBatches(0)
                .saveUpdater(true)
                .repartionData(Repartition.Never)
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .collectTrainingStats(collectStats)
                .build();
    }

    @Override
    public int workers() {
        return workers;
    }

    @Override
    public String describe() {
        return "Spark " + sc.master() + ", " + workers + " workers, parameter averaging every round"
                + (executorShards != null ? ", executors read " + executorShards.location() : "");
    }

    @Override
    public void close() {
        if (ownsContext) sc.stop();
    }
}
