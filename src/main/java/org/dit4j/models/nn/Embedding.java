package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;

/** {@code nn.Embedding(rows, dim)} under {@code name.weight}; the lookup is a one-hot matmul (M2.1 cannot backpropagate through gather). */
public final class Embedding {
    private final SDVariable table;   // (rows, dim)
    private final int rows;

    public Embedding(Params p, String name, int rows, int dim) {
        this.rows = rows;
        p.module(name, "Embedding");
        this.table = p.weight(name + ".weight", rows, dim);
    }

    /** ids (N) int64 → (N, dim). */
    public SDVariable apply(SDVariable ids) {
        var sd = ids.getSameDiff();
        return sd.mmul(sd.oneHot(ids, rows).castTo(DataType.FLOAT), table);   // (N, dim)
    }
}
