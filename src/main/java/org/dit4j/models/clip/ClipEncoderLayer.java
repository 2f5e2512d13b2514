package org.dit4j.models.clip;

import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;

/** transformers' {@code CLIPEncoderLayer}: pre-LN, {@code h + self_attn(layer_norm1(h))}, then {@code h + mlp(layer_norm2(h))}. */
final class ClipEncoderLayer {
    private final ClipAttention selfAttn;
    private final ClipLayerNorm layerNorm1, layerNorm2;
    private final ClipMlp mlp;

    ClipEncoderLayer(Params p, String name, ClipTextConfig cfg) {
        this.selfAttn = new ClipAttention(p, name + ".self_attn", cfg);
        this.layerNorm1 = new ClipLayerNorm(p, name + ".layer_norm1", cfg.hiddenSize(), cfg.layerNormEps());
        this.mlp = new ClipMlp(p, name + ".mlp", cfg);
        this.layerNorm2 = new ClipLayerNorm(p, name + ".layer_norm2", cfg.hiddenSize(), cfg.layerNormEps());
    }

    /** h (N·T, D), causal mask (T, T) → (N·T, D). */
    SDVariable apply(SDVariable h, SDVariable mask, int tokens) {
        h = h.add(selfAttn.apply(layerNorm1.apply(h), mask, tokens));   // (N·T, D)
        return h.add(mlp.apply(layerNorm2.apply(h)));                   // (N·T, D)
    }
}
