package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Embeds class labels; row {@code num_classes} is the null class of classifier-free guidance. The lookup is a one-hot
 * matmul because M2.1 cannot backpropagate through {@code gather}.
 */
public final class LabelEmbedder {
    private final SDVariable table;   // (num_classes + 1, D)
    private final int rows;

    /** {@code name.embedding_table.weight}: {@code rows} labels (the null class included) of width {@code hidden}. */
    public LabelEmbedder(Params p, String name, int rows, int hidden) {
        this(p, name, rows, hidden, "weight");
    }

    /**
     * {@code tableParameter} is the embedding's parameter name: {@code weight} in PyTorch's {@code nn.Embedding},
     * {@code embedding_table} in MindSpore's (MindONE's {@code y_embedder.embedding_table.embedding_table}).
     */
    public LabelEmbedder(Params p, String name, int rows, int hidden, String tableParameter) {
        this.rows = rows;
        p.module(name + ".embedding_table", "Embedding");
        this.table = p.weight(name + ".embedding_table." + tableParameter, rows, hidden);
    }

    /** y (N) int64 → (N, D). */
    public SDVariable apply(SDVariable y) {
        SameDiff sd = y.getSameDiff();
        return applyOneHot(sd.oneHot(y, rows).castTo(DataType.FLOAT));   // (N, D)
    }

    /** yOneHot (N, rows) float → (N, D); the form a DL4J layer receives labels in. */
    public SDVariable applyOneHot(SDVariable yOneHot) {
        return yOneHot.getSameDiff().mmul(yOneHot, table);                // (N, D)
    }
}
