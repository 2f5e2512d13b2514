package org.dit4j.training;

import org.dit4j.models.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** What a run drives ({@link TrainingRun}), whichever engine computes the steps: one device, replicas, ParallelWrapper or Spark. */
public interface TrainingLoop extends AutoCloseable {
    /** One logged step. */
    record Log(long step, double loss, double learningRate, double gradNorm, double stepsPerSecond, double imagesPerSecond) {}

    /** One optimiser step. */
    Log trainStep();

    long currentStep();

    long totalSteps();

    ModelConfig modelConfig();

    TrainConfig trainConfig();

    /** Continues from a checkpoint: weights, EMA, optimiser moments and step. */
    void restore(TrainingCheckpoint.State s);

    /** The whole state as a checkpoint holds it (copies). */
    TrainingCheckpoint.State state();

    /** The EMA of the weights, or null when the run keeps none. */
    Ema ema();

    /** The weights samples are drawn from: the EMA when kept, the model's otherwise (copies). */
    Map<String, INDArray> samplingWeights();

    /** One line for the log: the engine and its workers. */
    String describeEngine();

    /** Writes a checkpoint of the current state under {@code runDir/checkpoints} and keeps the newest ckpt_max_keep. */
    default Path checkpoint(Path runDir) throws IOException {
        Path dir = TrainingCheckpoint.dirFor(runDir, currentStep());
        TrainingCheckpoint.save(dir, modelConfig(), state());
        TrainingCheckpoint.prune(runDir, trainConfig().integer("ckpt_max_keep"));
        return dir;
    }

    @Override
    default void close() {}
}
