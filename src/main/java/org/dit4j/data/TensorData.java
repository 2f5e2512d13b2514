package org.dit4j.data;

import org.dit4j.util.Slices;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

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
            xs[k] = flips[k] ? mirrored(one) : one;
            ys[k] = labels[(int) indices[k]];
        }
        return new Batch(Nd4j.concat(0, xs), ys);
    }

    /** (1, C, H, W) mirrored along W (Nd4j.reverse reverses every element, channels and rows too). */
    private static INDArray mirrored(INDArray one) {
        long w = one.size(3);
        long[] columns = new long[(int) w];
        for (int i = 0; i < w; i++) columns[i] = w - 1 - i;
        return one.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.indices(columns)).dup('c');
    }

    @Override
    public String describe() {
        return labels.length + " in-memory examples " + Arrays.toString(exampleShape());
    }
}
