package org.dit4j.zoo;

import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModels;
import org.dit4j.models.vae.VaeConfig;

/**
 * One pretrained model of the manifest: a DiT ({@code kind} "dit") or an autoencoder ("vae"), where it comes from,
 * what file it is, and what it must contain. {@code sha256} and {@code size} are enforced when present;
 * {@code modelConfig} (inline) overrides a DiT's {@code architecture}.
 */
public record ZooEntry(String name, String kind, String architecture, int imageSize, String file, String url, String sha256,
                       Long size, int tensors, long values, DiTConfig modelConfig) {

    public boolean isVae() {
        return "vae".equals(kind);
    }

    /** The DiT architecture the weights must match. */
    public DiTConfig config() {
        if (isVae()) throw new IllegalArgumentException(name + " is an autoencoder, not a DiT");
        if (modelConfig != null) return modelConfig;
        DiTConfig c = DiTModels.get(architecture);
        return c.inChannels() == 3 ? c.withInputSize(imageSize) : c.withInputSize(imageSize / 8);
    }

    /** The autoencoder architecture the weights must match. */
    public VaeConfig vaeConfig() {
        if (!isVae()) throw new IllegalArgumentException(name + " is a DiT, not an autoencoder");
        return VaeConfig.named(architecture);
    }
}
