package org.dit4j.zoo;

import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModels;

/**
 * One pretrained model of the manifest: where it comes from, what file it is, and what it must contain.
 * {@code sha256} and {@code size} are enforced when present; {@code modelConfig} (inline) overrides {@code architecture}.
 */
public record ZooEntry(String name, String architecture, int imageSize, String file, String url, String sha256, Long size,
                       int tensors, long values, DiTConfig modelConfig) {

    /** The architecture the weights must match. */
    public DiTConfig config() {
        if (modelConfig != null) return modelConfig;
        DiTConfig c = DiTModels.get(architecture);
        return c.inChannels() == 3 ? c.withInputSize(imageSize) : c.withInputSize(imageSize / 8);
    }
}
