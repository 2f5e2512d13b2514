package org.dit4j.training.spark;

import org.dit4j.data.ImageFolderData;
import org.dit4j.data.LatentShardFiles;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.training.MicroBatches;
import org.dit4j.training.TrainConfig;
import org.dit4j.training.dl4j.DiTLayer;
import org.dit4j.training.dl4j.GraphBatches;
import org.nd4j.linalg.dataset.DataSet;

import java.io.Serializable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What an executor needs to build worker k's shard of step s itself: the data's location, the model and the draw
 * settings. Shipped with each task (a few hundred bytes); the executor opens the data once per JVM (latent shards:
 * {@link LatentShardFiles#open}; a pixel-space model's image folder: {@link ImageFolderData#open}) and reads only its
 * shard's examples, so no example passes through the driver. The shard is rows [k·B/W, (k+1)·B/W) of the one-machine
 * draw of step s ({@link MicroBatches#rows}): a retried or moved task rebuilds the same rows, and a resumed run
 * continues with the same data.
 */
public final class ExecutorShards implements Serializable {
    private static final long serialVersionUID = 2L;
    private static final Map<String, MicroBatches> DRAWS = new ConcurrentHashMap<>();

    private final String location, modelYaml;
    /** 0: latent shards; else the image size of an image folder (a pixel-space model's input size). */
    private final int imageSize;
    private final int seed, batch, workers;
    private final boolean randomFlip;

    /** Latent shards from dit4j extract-features at {@code features} (an absolute path or a URI). */
    public ExecutorShards(String features, DiTConfig model, TrainConfig cfg, int workers) {
        this(features, 0, model, cfg, workers);
    }

    /** A pixel-space model's image folder at {@code folder} (an absolute path or a URI): executors decode their own images. */
    public static ExecutorShards imageFolder(String folder, DiTConfig model, TrainConfig cfg, int workers) {
        if (model.inChannels() != 3) throw new IllegalArgumentException("executors read image folders for pixel-space models only (in_channels 3)");
        return new ExecutorShards(folder, model.inputSize(), model, cfg, workers);
    }

    private ExecutorShards(String location, int imageSize, DiTConfig model, TrainConfig cfg, int workers) {
        this.location = location;
        this.imageSize = imageSize;
        this.modelYaml = model.toYaml();
        this.seed = cfg.integer("seed");
        this.randomFlip = cfg.bool("random_flip");
        this.batch = cfg.integer("train_batch_size");
        this.workers = workers;
        if (batch % workers != 0)
            throw new IllegalArgumentException("train_batch_size " + batch + " must be a multiple of the " + workers + " Spark workers (equal shards per worker)");
    }

    public int workers() {
        return workers;
    }

    public int examplesPerWorker() {
        return batch / workers;
    }

    /** Where the executors read: the latent folder or the image folder. */
    public String location() {
        return location;
    }

    /** Worker {@code k}'s shard of step {@code step}, as the graph trains on it. */
    public DataSet shard(long step, int k) {
        DiTConfig model = (DiTConfig) ModelFamilies.fromYaml(modelYaml, "the driver's model config");
        MicroBatches draws = DRAWS.computeIfAbsent(location + "\n" + imageSize + "\n" + modelYaml + "\n" + seed + "\n" + randomFlip, key -> new MicroBatches(
                imageSize > 0 ? ImageFolderData.open(location, imageSize) : LatentShardFiles.open(location), model,
                TrainConfig.defaultsOnly().set("seed", seed, "driver").set("random_flip", randomFlip, "driver"),
                DiTLayer.trainingDiffusion(model.learnSigma()).numTimesteps()));
        int per = examplesPerWorker();
        return new GraphBatches(model).dataSet(draws.rows(step, batch, k * per, (k + 1) * per));
    }
}
