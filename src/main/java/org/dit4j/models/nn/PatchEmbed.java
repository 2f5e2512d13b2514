package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * timm's {@code PatchEmbed}: a p×p stride-p convolution, computed as patch extraction and one matmul against the
 * (D, C·p·p) view of the conv weight — the same arithmetic, and it avoids M2.1's broken backprop through OIYX conv2d.
 */
public final class PatchEmbed {
    private final SDVariable weight;   // (D, C, p, p)
    private final SDVariable bias;     // (D)
    private final int channels, patch, hidden, gridH, gridW;

    /** {@code name.proj.weight} (D, C, p, p) and {@code name.proj.bias} for inputs of (gridH·p, gridW·p). */
    public PatchEmbed(Params p, String name, int channels, int patch, int hidden, int gridH, int gridW) {
        this.channels = channels;
        this.patch = patch;
        this.hidden = hidden;
        this.gridH = gridH;
        this.gridW = gridW;
        p.module(name + ".proj", "Conv2d");
        this.weight = p.weight(name + ".proj.weight", hidden, channels, patch, patch);
        this.bias = p.weight(name + ".proj.bias", hidden);
    }

    /** x (N, C, H, W) → (N, T, D), tokens in row-major patch order. */
    public SDVariable apply(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        int c = channels, p = patch, d = hidden;
        SDVariable patches = sd.reshape(x, -1, c, gridH, p, gridW, p);             // (N, C, h, p, w, p)
        patches = sd.permute(patches, 0, 2, 4, 1, 3, 5);                          // (N, h, w, C, p, p)
        patches = sd.reshape(patches, -1, (long) c * p * p);                       // (N·T, C·p·p)
        SDVariable w = sd.reshape(weight, d, (long) c * p * p);                    // (D, C·p·p)
        SDVariable tokens = Linear.project(patches, w, bias);                      // (N·T, D)
        return sd.reshape(tokens, -1, (long) gridH * gridW, d);                    // (N, T, D)
    }
}
