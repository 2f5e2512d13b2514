package org.dit4j.models;

import org.dit4j.util.Slices;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where each token of a padded sequence sits: {@code grid} (N, 2, T) row and column indices, {@code mask} (N, T) with 1 for
 * real tokens, {@code sizes} (N, 2) the (h, w) of each sample in tokens. Families with a fixed square grid leave it null.
 */
public record TokenLayout(INDArray grid, INDArray mask, INDArray sizes) {
    public TokenLayout rows(int from, int to) {
        return new TokenLayout(Slices.range(grid, 0, from, to), Slices.range(mask, 0, from, to), Slices.range(sizes, 0, from, to));
    }

    public TokenLayout concat(TokenLayout other) {
        return new TokenLayout(Nd4j.concat(0, grid, other.grid), Nd4j.concat(0, mask, other.mask), Nd4j.concat(0, sizes, other.sizes));
    }
}
