package org.dit4j.models;

/** Which output channels classifier-free guidance mixes. */
public enum GuidanceChannels {
    /** The official DiT behaviour (kept "for exact reproducibility"): channels [0, 3) only. */
    FIRST_THREE,
    /** The standard approach (diffusers, MindONE): every epsilon channel. */
    ALL;

    public static GuidanceChannels parse(String s) {
        return switch (s) {
            case "3" -> FIRST_THREE;
            case "all" -> ALL;
            default -> throw new IllegalArgumentException("--cfg-channels must be '3' or 'all', got '" + s + "'");
        };
    }
}
