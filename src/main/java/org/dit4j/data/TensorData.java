package org.dit4j.data;

import org.dit4j.util.Slices;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/** Examples already in memory: pixel-space images in [-1, 1] or latents (N, C, H, W), with labels. */
public final class TensorData implements TrainingData {
    private final INDArray x;
    private final long[] labels;

    public TensorData(INDArray x, long[] labels) {
        if (x.rank() != 4 || x.size(0) != labels.length)
            throw new IllegalArgumentException(Arrays.toString(x.shape()) + " examples for " + labels.length + " labels");
        this.x = x;
        this.labels = labels.clone();
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public long label(int i) {
        return labels[i];
    }

    @Override
    public long[] exampleShape() {
        return Arrays.copyOfRange(x.shape(), 1, 4);
    }

    @Override
    public Batch batch(long[] indices, boolean[] flips) {
        INDArray[] xs = new INDArray[indices.length];
        long[] ys = new long[indices.length];
        for (int k = 0; k < indices.length; k++) {
            INDArray one = Slices.range(x, 0, indices[k], indices[k] + 1);
            xs[k] = flips[k] ? Nd4j.reverse(one.permute(3, 0, 1, 2).dup('c')).permute(1, 2, 3, 0).dup('c') : one;
            ys[k] = labels[(int) indices[k]];
        }
        return new Batch(Nd4j.concat(0, xs), ys);
    }

    @Override
    public String describe() {
        return labels.length + " in-memory examples " + Arrays.toString(exampleShape());
    }
}
