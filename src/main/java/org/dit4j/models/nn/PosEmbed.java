package org.dit4j.models.nn;

import org.dit4j.models.dit.DiT;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The fixed 2-D sine-cosine position table of MAE/DiT, computed in float64 and stored as float32. */
public final class PosEmbed {
    private PosEmbed() {}

    /** (1, grid², dim): the first half of each row encodes the row index h, the second half the column w. */
    public static INDArray sincos2d(int dim, int grid) {
        return sincos2d(dim, grid, grid);
    }

    /** (1, nh·nw, dim) for a grid of nh rows and nw columns, tokens row-major (MindONE's {@code get_2d_sincos_pos_embed}). */
    public static INDArray sincos2d(int dim, int nh, int nw) {
        float[] out = new float[nh * nw * dim];
        int quarter = dim / 4;
        for (int h = 0; h < nh; h++) {
            for (int w = 0; w < nw; w++) {
                int row = (h * nw + w) * dim;
                // np.meshgrid(grid_w, grid_h) puts w first, so emb_h is built from the w coordinate.
                fill(out, row, quarter, w);
                fill(out, row + dim / 2, quarter, h);
            }
        }
        return Nd4j.create(out, new long[]{1, (long) nh * nw, dim}, 'c');
    }

    /**
     * (1, gridH·gridW, dim): the same function at a gridH × gridW grid whose positions are scaled into the trained
     * {@code grid} (row i at i·grid/gridH, column j at j·grid/gridW) — the trained table, interpolated.
     */
    public static INDArray sincos2dInterpolated(int dim, int grid, int gridH, int gridW) {
        float[] out = new float[gridH * gridW * dim];
        int quarter = dim / 4;
        for (int h = 0; h < gridH; h++) {
            for (int w = 0; w < gridW; w++) {
                int row = (h * gridW + w) * dim;
                fill(out, row, quarter, w * (double) grid / gridW);
                fill(out, row + dim / 2, quarter, h * (double) grid / gridH);
            }
        }
        return Nd4j.create(out, new long[]{1, (long) gridH * gridW, dim}, 'c');
    }

    private static void fill(float[] out, int offset, int quarter, double pos) {
        for (int i = 0; i < quarter; i++) {
            double omega = 1.0 / Math.pow(10000.0, (double) i / quarter);   // 1 / 10000^(i / (D/4))
            out[offset + i] = (float) Math.sin(pos * omega);
            out[offset + quarter + i] = (float) Math.cos(pos * omega);
        }
    }
}
