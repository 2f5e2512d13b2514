package org.dit4j.models.clip;

import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** transformers' {@code CLIPTextEmbeddings}: {@code token_embedding(ids) + position_embedding(arange(T))}. */
final class ClipTextEmbeddings {
    private final SDVariable tokenEmbedding;      // (V, D)
    private final SDVariable positionEmbedding;   // (P, D)

    ClipTextEmbeddings(Params p, String name, ClipTextConfig cfg) {
        p.module(name + ".token_embedding", "Embedding");
        this.tokenEmbedding = p.weight(name + ".token_embedding.weight", cfg.vocabSize(), cfg.hiddenSize());
        p.module(name + ".position_embedding", "Embedding");
        this.positionEmbedding = p.weight(name + ".position_embedding.weight", cfg.maxPositionEmbeddings(), cfg.hiddenSize());
    }

    /** ids (N·T) flattened, T tokens per prompt → (N·T, D). */
    SDVariable apply(SDVariable ids, int tokens) {
        SameDiff sd = ids.getSameDiff();
        SDVariable tok = sd.gather(tokenEmbedding, ids, 0);                                          // (N·T, D)
        SDVariable positionIds = sd.constant(Nd4j.arange(tokens).castTo(DataType.INT));                 // (T)
        SDVariable pos = sd.gather(positionEmbedding, positionIds, 0);                               // (T, D)
        long d = tokenEmbedding.getShape()[1];
        SDVariable perPrompt = sd.reshape(tok, -1, tokens, d);                                       // (N, T, D)
        return sd.reshape(perPrompt.add(pos), -1, d);                                                // (N·T, D)
    }
}
