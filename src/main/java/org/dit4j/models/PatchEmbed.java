package org.dit4j.models;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * timm's {@code PatchEmbed}: a p×p stride-p convolution, computed as patch extraction and one matmul against the
 * (D, C·p·p) view of the conv weight — the same arithmetic, and it avoids M2.1's broken backprop through OIYX conv2d.
 */
public final class PatchEmbed {
    private final SDVariable weight;   // (D, C, p, p)
    private final SDVariable bias;     // (D)
    private final DiTConfig cfg;

    public PatchEmbed(Params p, DiTConfig cfg) {
        this.cfg = cfg;
        this.weight = p.weight("x_embedder.proj.weight", cfg.hiddenSize(), cfg.inChannels(), cfg.patchSize(), cfg.patchSize());
        this.bias = p.weight("x_embedder.proj.bias", cfg.hiddenSize());
    }

    /** x (N, C, H, W) → (N, T, D). */
    public SDVariable apply(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        int c = cfg.inChannels(), p = cfg.patchSize(), g = cfg.gridSize(), d = cfg.hiddenSize();
        SDVariable patches = sd.reshape(x, -1, c, g, p, g, p);                 // (N, C, h, p, w, p)
        patches = sd.permute(patches, 0, 2, 4, 1, 3, 5);                        // (N, h, w, C, p, p)
        patches = sd.reshape(patches, -1, (long) c * p * p);                     // (N·T, C·p·p)
        SDVariable w = sd.reshape(weight, d, (long) c * p * p);                  // (D, C·p·p)
        SDVariable tokens = Linear.project(patches, w, bias);                      // (N·T, D)
        return sd.reshape(tokens, -1, cfg.numPatches(), d);                     // (N, T, D)
    }
}
