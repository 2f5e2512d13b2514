package org.dit4j.models.clip;

import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * transformers' {@code CLIPTextTransformer} (the {@code text_model} of {@code CLIPTextModel}): embeddings, the encoder
 * layers under a causal mask, {@code final_layer_norm}; its output is {@code last_hidden_state}. U-ViT passes no
 * attention mask, so only the causal mask applies and the padding positions are computed like any other.
 */
final class ClipTextTransformer {
    /** {@code torch.finfo(float32).min}, what transformers puts above the diagonal (openai: −inf; the same softmax). */
    private static final float MASKED = -Float.MAX_VALUE;
    private final ClipTextEmbeddings embeddings;
    private final ClipEncoderLayer[] layers;
    private final ClipLayerNorm finalLayerNorm;

    ClipTextTransformer(Params p, String name, ClipTextConfig cfg) {
        this.embeddings = new ClipTextEmbeddings(p, name + ".embeddings", cfg);
        this.layers = new ClipEncoderLayer[cfg.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) layers[i] = new ClipEncoderLayer(p, name + ".encoder.layers." + i, cfg);
        this.finalLayerNorm = new ClipLayerNorm(p, name + ".final_layer_norm", cfg.hiddenSize(), cfg.layerNormEps());
    }

    /** The additive causal mask (T, T): 0 on and below the diagonal, {@link #MASKED} above. */
    static float[][] causalMask(int tokens) {
        float[][] m = new float[tokens][tokens];
        for (int i = 0; i < tokens; i++) for (int j = i + 1; j < tokens; j++) m[i][j] = MASKED;
        return m;
    }

    /** ids (N·T) → last_hidden_state (N·T, D); {@code hidden} receives the embeddings and each layer's output when non-null. */
    SDVariable forward(SDVariable ids, int tokens, List<SDVariable> hidden) {
        SameDiff sd = ids.getSameDiff();
        SDVariable mask = sd.constant(Nd4j.createFromArray(causalMask(tokens)).castTo(DataType.FLOAT));   // (T, T)
        SDVariable h = embeddings.apply(ids, tokens);                  // (N·T, D)
        if (hidden != null) hidden.add(h);
        for (ClipEncoderLayer layer : layers) {
            h = layer.apply(h, mask, tokens);                          // (N·T, D)
            if (hidden != null) hidden.add(h);
        }
        return finalLayerNorm.apply(h);                                // (N·T, D)
    }
}
