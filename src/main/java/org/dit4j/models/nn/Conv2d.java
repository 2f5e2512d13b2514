package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code nn.Conv2d(in, out, k, padding=k // 2)} with stride 1 (odd k): zero padding, the k² shifted views side by side
 * and one matmul against the (out, k·k·in) view of the weight — the same sums, and, unlike M2.1's conv2d with the
 * PyTorch (OIYX) weight layout, it backpropagates correctly.
 */
public final class Conv2d {
    private final SDVariable weight;   // (out, in, k, k)
    private final SDVariable bias;     // (out)
    private final int in, out, k, h, w;

    /** For inputs of spatial size (h, w). */
    public Conv2d(Params p, String name, int in, int out, int k, int h, int w) {
        if (k % 2 == 0) throw new IllegalArgumentException("Conv2d '" + name + "': kernel " + k + " is not odd");
        this.in = in;
        this.out = out;
        this.k = k;
        this.h = h;
        this.w = w;
        p.module(name, "Conv2d");
        this.weight = p.weight(name + ".weight", out, in, k, k);
        this.bias = p.weight(name + ".bias", out);
    }

    /** x (N, in, H, W) → (N, out, H, W). */
    public SDVariable apply(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        int r = k / 2;
        SDVariable pads = sd.constant(Nd4j.createFromArray(new int[][]{{0, 0}, {0, 0}, {r, r}, {r, r}}));
        SDVariable padded = sd.nn.pad(x, pads, 0.0);                                         // (N, in, H+2r, W+2r)
        SDVariable[] shifted = new SDVariable[k * k];
        for (int dy = 0; dy < k; dy++)
            for (int dx = 0; dx < k; dx++)
                shifted[dy * k + dx] = padded.get(SDIndex.all(), SDIndex.all(), SDIndex.interval(dy, dy + h), SDIndex.interval(dx, dx + w));
        SDVariable cols = sd.concat(1, shifted);                                             // (N, k·k·in, H, W), (dy, dx, c)
        cols = sd.reshape(sd.permute(cols, 0, 2, 3, 1), -1, (long) k * k * in);              // (N·H·W, k·k·in)
        SDVariable wMat = sd.reshape(sd.permute(weight, 0, 2, 3, 1), out, (long) k * k * in);   // (out, k·k·in), (dy, dx, c)
        SDVariable y = Linear.project(cols, wMat, bias);                                     // (N·H·W, out)
        return sd.permute(sd.reshape(y, -1, h, w, out), 0, 3, 1, 2);                          // (N, out, H, W)
    }
}
