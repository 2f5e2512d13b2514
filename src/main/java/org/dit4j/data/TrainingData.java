package org.dit4j.data;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Examples for diffusion training: images in [-1, 1] or scaled VAE latents, with class labels. */
public interface TrainingData {
    /** A batch: x (B, C, H, W) and class ids. */
    record Batch(INDArray x, long[] labels) {}

    int size();

    /** (C, H, W) of one example. */
    long[] exampleShape();

    /** The examples at {@code indices}; {@code flips[i]} mirrors example i horizontally. */
    Batch batch(long[] indices, boolean[] flips);

    /** The batch of micro-batch number {@code draw}, for data whose examples are themselves random (a VAE posterior). */
    default Batch batch(long[] indices, boolean[] flips, long draw) {
        return batch(indices, flips);
    }

    /** Refuses examples that are not what the model takes (shape {@code expected}, per example). */
    default void requireExampleShape(long[] expected) {
        if (!java.util.Arrays.equals(exampleShape(), expected))
            throw new IllegalArgumentException("training examples are " + java.util.Arrays.toString(exampleShape()) + ", the model takes "
                    + java.util.Arrays.toString(expected));
    }

    /** The class id of example {@code i}. */
    long label(int i);

    /**
     * Refuses class ids outside [0, {@code numClasses}): the model has no such class, and the null class
     * ({@code numClasses}) is label dropout's alone. Sources override it to name their file.
     */
    default void requireLabels(int numClasses) {
        for (int i = 0; i < size(); i++)
            if (label(i) < 0 || label(i) >= numClasses)
                throw new IllegalArgumentException("training example " + i + " has class id " + label(i) + ", the model's classes are 0.." + (numClasses - 1));
    }

    /** A summary line for logs: counts and anything skipped. */
    String describe();
}
