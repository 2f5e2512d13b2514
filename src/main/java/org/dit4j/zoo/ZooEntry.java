package org.dit4j.zoo;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.vae.VaeConfig;

/**
 * One pretrained model of the manifest: a diffusion model ({@code kind} "dit", its family's name) or an autoencoder ("vae"), where it comes from,
 * what file it is, and what it must contain. {@code sha256} and {@code size} are enforced when present;
 * {@code modelConfig} (inline) overrides the {@code architecture} name.
 */
public record ZooEntry(String name, String kind, String architecture, int imageSize, String file, String url, String sha256,
                       Long size, int tensors, long values, ModelConfig modelConfig) {

    /** pytorch-fid's FID Inception weights ({@code kind} "inception"), for {@code dit4j evaluate}. */
    public boolean isInception() {
        return "inception".equals(kind);
    }

    public boolean isVae() {
        return "vae".equals(kind);
    }

    /** The architecture the weights must match. */
    public ModelConfig config() {
        if (isVae() || isInception()) throw new IllegalArgumentException(name + " is " + (isVae() ? "an autoencoder" : "a feature extractor") + ", not a diffusion model");
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
