package org.dit4j.models.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * transformers' {@code CLIPTextConfig} (the keys of its {@code config.json}); absent keys take its defaults. Only
 * {@code quick_gelu} is supported as {@code hidden_act}: the activation of every openai CLIP text tower.
 */
public record ClipTextConfig(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
                             int maxPositionEmbeddings, String hiddenAct, double layerNormEps) {
    /** openai/clip-vit-large-patch14's text tower, U-ViT's {@code FrozenCLIPEmbedder}. */
    public static final ClipTextConfig VIT_L_14 = new ClipTextConfig(49408, 768, 3072, 12, 12, 77, "quick_gelu", 1e-5);

    public ClipTextConfig {
        String where = "CLIP text config";
        positive(where, "vocab_size", vocabSize);
        positive(where, "hidden_size", hiddenSize);
        positive(where, "intermediate_size", intermediateSize);
        positive(where, "num_hidden_layers", numHiddenLayers);
        positive(where, "num_attention_heads", numAttentionHeads);
        positive(where, "max_position_embeddings", maxPositionEmbeddings);
        if (hiddenSize % numAttentionHeads != 0)
            throw new IllegalArgumentException(where + ": hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + numAttentionHeads);
        if (!"quick_gelu".equals(hiddenAct))
            throw new IllegalArgumentException(where + ": hidden_act '" + hiddenAct + "' is not supported (expected quick_gelu)");
        if (!(layerNormEps > 0)) throw new IllegalArgumentException(where + ": layer_norm_eps must be positive, got " + layerNormEps);
    }

    private static void positive(String where, String key, int v) {
        if (v <= 0) throw new IllegalArgumentException(where + ": " + key + " must be a positive integer, got " + v);
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /**
     * A {@code config.json} of a {@code CLIPTextModel} (top-level keys) or of a full {@code CLIPModel} ({@code text_config},
     * overlaid with {@code text_config_dict} as {@code CLIPConfig} does).
     */
    public static ClipTextConfig read(Path configJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(configJson));
        } catch (IOException e) {
            throw new IllegalArgumentException(configJson + ": cannot read the CLIP config (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(configJson + ": expected a JSON object");
        JsonNode text = root;
        if (root.has("text_config") || root.has("text_config_dict")) {
            ObjectNode merged = root.path("text_config").isObject() ? ((ObjectNode) root.get("text_config")).deepCopy() : new ObjectMapper().createObjectNode();
            if (root.path("text_config_dict").isObject()) merged.setAll((ObjectNode) root.get("text_config_dict"));
            text = merged;
        }
        try {
            return new ClipTextConfig(integer(text, "vocab_size", 49408, configJson), integer(text, "hidden_size", 512, configJson),
                    integer(text, "intermediate_size", 2048, configJson), integer(text, "num_hidden_layers", 12, configJson),
                    integer(text, "num_attention_heads", 8, configJson), integer(text, "max_position_embeddings", 77, configJson),
                    text.has("hidden_act") ? text.get("hidden_act").asText() : "quick_gelu",
                    text.has("layer_norm_eps") ? number(text, "layer_norm_eps", configJson) : 1e-5);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configJson + ": " + e.getMessage());
        }
    }

    private static int integer(JsonNode n, String key, int dflt, Path file) {
        if (!n.has(key)) return dflt;
        JsonNode v = n.get(key);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new IllegalArgumentException(file + ": " + key + " must be an integer, got " + v);
        return v.asInt();
    }

    private static double number(JsonNode n, String key, Path file) {
        JsonNode v = n.get(key);
        if (!v.isNumber()) throw new IllegalArgumentException(file + ": " + key + " must be a number, got " + v);
        return v.asDouble();
    }
}
