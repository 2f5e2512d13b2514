package org.dit4j.training;

import java.io.IOException;
import java.nio.file.Path;

/** What the CLI drives, whichever engine computes the steps: one device, replicas, ParallelWrapper or Spark. */
public interface TrainingLoop extends AutoCloseable {
    /** One optimiser step. */
    Trainer.Log trainStep();

    long currentStep();

    long totalSteps();

    /** Continues from a checkpoint: weights, EMA, optimiser moments and step. */
    void restore(TrainingCheckpoint.State s);

    /** Writes a checkpoint of the current state under {@code runDir/checkpoints} and keeps the newest ckpt_max_keep. */
    Path checkpoint(Path runDir) throws IOException;

    /** The weights samples are drawn from: the EMA when kept, the model's otherwise (copies). */
    java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> samplingWeights();

    /** One line for the log: the engine and its workers. */
    String describeEngine();

    @Override
    default void close() {}
}
