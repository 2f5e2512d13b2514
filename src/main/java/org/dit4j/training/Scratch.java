package org.dit4j.training;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * One reused buffer for an update's temporaries. Parameter-sized arrays made afresh on every step are freed only when
 * the garbage collector runs: at DiT-S/2's 33 M parameters AdamW's four temporaries per tensor made its step take
 * 0.4–2.8 s instead of 0.3–0.4 s (docs/PERFORMANCE.md).
 */
final class Scratch {
    private INDArray buffer;

    /** A view of the buffer with {@code p}'s shape and data type; its contents are undefined. */
    INDArray like(INDArray p) {
        if (buffer == null || buffer.length() < p.length() || buffer.dataType() != p.dataType())
            buffer = Nd4j.createUninitialized(p.dataType(), p.length());
        return buffer.get(NDArrayIndex.interval(0, p.length())).reshape(p.shape());
    }
}
