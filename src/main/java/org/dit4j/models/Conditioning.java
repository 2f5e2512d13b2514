package org.dit4j.models;

import org.dit4j.util.Slices;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * What a denoiser is conditioned on besides x_t and t, one row per sample: class labels (the null class included),
 * an optional text context (N, L, C) and an optional token layout (FiT's grids and masks). Samplers never look inside.
 */
public record Conditioning(long[] labels, INDArray context, TokenLayout layout) {
    public Conditioning {
        if (labels == null && context == null) throw new IllegalArgumentException("conditioning needs labels or a text context");
    }

    public static Conditioning labels(long... y) {
        return new Conditioning(y, null, null);
    }

    public int batch() {
        return labels != null ? labels.length : (int) context.size(0);
    }

    /** Rows [from, to). */
    public Conditioning rows(int from, int to) {
        return new Conditioning(labels == null ? null : Arrays.copyOfRange(labels, from, to),
                context == null ? null : Slices.range(context, 0, from, to), layout == null ? null : layout.rows(from, to));
    }

    /** This batch followed by {@code other}'s rows: {@code cat([this, other])}. */
    public Conditioning concat(Conditioning other) {
        long[] y = null;
        if (labels != null) {
            y = Arrays.copyOf(labels, labels.length + other.labels.length);
            System.arraycopy(other.labels, 0, y, labels.length, other.labels.length);
        }
        return new Conditioning(y, context == null ? null : Nd4j.concat(0, context, other.context),
                layout == null ? null : layout.concat(other.layout));
    }
}
