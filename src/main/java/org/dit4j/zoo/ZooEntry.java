package org.dit4j.zoo;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.vae.VaeConfig;

import java.util.Map;

/**
 * One pretrained model of the manifest: a diffusion model ({@code kind} "dit", its family's name), an autoencoder ("vae")
 * or a CLIP text encoder ("clip-text", a Hugging Face folder), where it comes from, what file it is, and what it must
 * contain. {@code sha256} and {@code size} are enforced when present; {@code modelConfig} (inline) overrides the
 * {@code architecture} name. {@code companions} (file name → URL) are small files fetched into the folder of
 * {@code file} first (a text encoder's config.json and tokenizer files); {@code maxBytes} bounds a download without
 * {@code size} when the file holds more than the entry's tensors (a whole CLIPModel of which only the text tower counts).
 * {@code manual}: the file cannot be fetched with plain HTTP (U-ViT's Google Drive links), so the user puts it in the
 * cache by hand and it is verified on first use; {@code vae} names the zoo autoencoder the model was trained with.
 */
public record ZooEntry(String name, String kind, String architecture, int imageSize, String file, String url, String sha256,
                       Long size, int tensors, long values, ModelConfig modelConfig, Map<String, String> companions, Long maxBytes,
                       boolean manual, String vae) {
    public static final String TEXT_ENCODER = "clip-text";

    public ZooEntry(String name, String kind, String architecture, int imageSize, String file, String url, String sha256,
                    Long size, int tensors, long values, ModelConfig modelConfig) {
        this(name, kind, architecture, imageSize, file, url, sha256, size, tensors, values, modelConfig, Map.of(), null);
    }

    public ZooEntry(String name, String kind, String architecture, int imageSize, String file, String url, String sha256,
                    Long size, int tensors, long values, ModelConfig modelConfig, Map<String, String> companions, Long maxBytes) {
        this(name, kind, architecture, imageSize, file, url, sha256, size, tensors, values, modelConfig, companions, maxBytes, false, null);
    }

    public boolean isTextEncoder() {
        return TEXT_ENCODER.equals(kind);
    }

    /** pytorch-fid's FID Inception weights ({@code kind} "inception"), for {@code dit4j evaluate}. */
    public boolean isInception() {
        return "inception".equals(kind);
    }

    public boolean isVae() {
        return "vae".equals(kind);
    }

    /** The architecture the weights must match. */
    public ModelConfig config() {
        if (isVae()) throw new IllegalArgumentException(name + " is an autoencoder, not a diffusion model");
        if (isTextEncoder()) throw new IllegalArgumentException(name + " is a text encoder, not a diffusion model");
        if (isInception()) throw new IllegalArgumentException(name + " is a feature extractor, not a diffusion model");
        if (modelConfig != null) return modelConfig;
        ModelConfig c = ModelFamilies.named(architecture);
        return c.inChannels() == 3 ? c.withInputSize(imageSize) : c.withInputSize(imageSize / 8);
    }

    /** The autoencoder architecture the weights must match. */
    public VaeConfig vaeConfig() {
        if (!isVae()) throw new IllegalArgumentException(name + " is a diffusion model, not an autoencoder");
        return VaeConfig.named(architecture);
    }
}
