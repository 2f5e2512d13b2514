package org.dit4j.pipeline;

import org.dit4j.models.ModelConfig;

/** Which output channels classifier-free guidance mixes. */
public enum GuidanceChannels {
    /** What the family's official code guides: DiT channels [0, 3) ("for exact reproducibility"). */
    OFFICIAL,
    /** Every noise-prediction channel (diffusers, MindONE, DPM-Solver). */
    ALL;

    /** The number of leading output channels guided for {@code cfg}. */
    public int count(ModelConfig cfg) {
        return this == OFFICIAL ? cfg.officialGuidedChannels() : cfg.inChannels();
    }
}
