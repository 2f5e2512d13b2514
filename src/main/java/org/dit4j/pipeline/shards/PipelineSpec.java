package org.dit4j.pipeline.shards;

import org.dit4j.io.TorchCheckpoint;
import org.dit4j.io.Weights;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.pipeline.DiffusionPipeline;
import org.dit4j.pipeline.Vaes;
import org.dit4j.zoo.Zoo;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A pipeline by path, as Spark tasks carry it (a few hundred bytes, never the arrays): the weights file or folder,
 * the driver's final model config (so extrapolation or inference settings the driver applied hold on the executors)
 * and the autoencoder ({@code --vae}: a path, or a zoo name the driver has already fetched into the shared cache). Executors see the driver's file system (local[N], a loopback or shared-storage cluster).
 * Each executor JVM loads a pipeline the first time one of its task slots needs one and keeps it for later tasks.
 */
public final class PipelineSpec implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Idle pipelines per spec in this JVM: a task borrows one (or loads one), and gives it back when it is done. */
    private static final Map<PipelineSpec, ConcurrentLinkedQueue<DiffusionPipeline>> IDLE = new ConcurrentHashMap<>();

    private final String weights, modelYaml, vae;
    private final TorchCheckpoint.Pick pick;

    /**
     * {@code cfg} must be what the driver's model runs; {@code vae} as {@link Vaes#load} takes it, or null for pixel
     * models and latents only.
     */
    public PipelineSpec(Path weights, ModelConfig cfg, TorchCheckpoint.Pick pick, String vae) {
        this.weights = weights.toAbsolutePath().toString();
        this.modelYaml = cfg.toYaml();
        this.pick = pick;
        this.vae = vae == null || !Files.exists(Path.of(vae)) ? vae : Path.of(vae).toAbsolutePath().toString();
        ModelConfig shipped = ModelFamilies.fromYaml(modelYaml, "the model config");
        if (!shipped.equals(cfg))
            throw new IllegalArgumentException("--spark: this model's settings do not survive its YAML form (" + cfg.family()
                    + "); sample it with --devices instead");
        if (!Files.exists(weights)) throw new IllegalArgumentException("--spark: the weights " + weights + " are not a file or folder the executors can read");
    }

    /** Loads the pipeline on this machine. */
    public DiffusionPipeline load() {
        ModelConfig cfg = ModelFamilies.fromYaml(modelYaml, "the driver's model config");
        Weights.Imported w = Weights.load(Path.of(weights), null, cfg, pick);
        Denoiser model = ModelFamilies.of(cfg).create(cfg, w.weights(), weights);
        try {
            return new DiffusionPipeline(model, vae == null ? null : Vaes.load(vae, Zoo.standard()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code work} on a pipeline of this JVM's pool for this spec. */
    public <S, R> R compute(ShardWork<S, R> work, S shard) throws Exception {
        ConcurrentLinkedQueue<DiffusionPipeline> idle = IDLE.computeIfAbsent(this, k -> new ConcurrentLinkedQueue<>());
        DiffusionPipeline p = idle.poll();
        if (p == null) p = load();
        try {
            return work.compute(p, shard);
        } finally {
            idle.add(p);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PipelineSpec s && weights.equals(s.weights) && modelYaml.equals(s.modelYaml) && pick == s.pick
                && java.util.Objects.equals(vae, s.vae);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(weights, modelYaml, pick, vae);
    }
}
