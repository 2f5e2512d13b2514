package org.dit4j.util;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Contiguous slices of NCHW-style arrays. In ND4J M2.1, an interval that does not start at 0, taken from a view with
 * a unit dimension, yields a scalar; slicing a contiguous copy is always right.
 */
public final class Slices {
    private Slices() {}

    /** {@code a[from:to]} along dimension {@code dim}, as a new C-ordered array. */
    public static INDArray range(INDArray a, int dim, long from, long to) {
        INDArray src = a.isView() || a.ordering() != 'c' ? a.dup('c') : a;
        INDArrayIndex[] idx = new INDArrayIndex[src.rank()];
        for (int i = 0; i < idx.length; i++) idx[i] = i == dim ? NDArrayIndex.interval(from, to) : NDArrayIndex.all();
        return src.get(idx).dup('c');
    }
}
