package org.dit4j.models;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.Random;

/**
 * Embeds class labels; row {@code num_classes} is the null class of classifier-free guidance. The lookup is a one-hot
 * matmul because M2.1 cannot backpropagate through {@code gather}.
 */
public final class LabelEmbedder {
    private final SDVariable table;   // (num_classes + 1, D)
    private final int rows;

    public LabelEmbedder(Params p, DiTConfig cfg) {
        this.rows = cfg.labelTableRows();
        this.table = p.weight("y_embedder.embedding_table.weight", rows, cfg.hiddenSize());
    }

    /** y (N) int64 → (N, D). */
    public SDVariable apply(SDVariable y) {
        SameDiff sd = y.getSameDiff();
        return applyOneHot(sd.oneHot(y, rows).castTo(DataType.FLOAT));   // (N, D)
    }

    /** yOneHot (N, num_classes + 1) float → (N, D); the form a DL4J layer receives labels in. */
    public SDVariable applyOneHot(SDVariable yOneHot) {
        return yOneHot.getSameDiff().mmul(yOneHot, table);                // (N, D)
    }

    /** {@code token_drop}: in training each label becomes the null class with probability {@code prob}. */
    public static long[] tokenDrop(long[] labels, double prob, int numClasses, Random rng) {
        long[] out = labels.clone();
        for (int i = 0; i < out.length; i++) if (rng.nextDouble() < prob) out[i] = numClasses;
        return out;
    }
}
