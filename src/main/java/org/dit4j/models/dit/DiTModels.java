package org.dit4j.models.dit;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/** The official named architectures ({@code DiT-XL/2} ...), shipped as YAML under {@code configs/models/}. */
public final class DiTModels {
    public static final List<String> NAMES = List.of(
            "DiT-XL/2", "DiT-XL/4", "DiT-XL/8", "DiT-L/2", "DiT-L/4", "DiT-L/8",
            "DiT-B/2", "DiT-B/4", "DiT-B/8", "DiT-S/2", "DiT-S/4", "DiT-S/8");

    private DiTModels() {}

    /** {@code DiT-XL/2} is stored as {@code configs/models/DiT-XL-2.yaml}. */
    public static String fileName(String name) {
        return name.replace('/', '-') + ".yaml";
    }

    /** The named architecture at its shipped defaults (32×32 latents, 1000 classes). */
    public static DiTConfig get(String name) {
        if (!NAMES.contains(name))
            throw new IllegalArgumentException("unknown model '" + name + "' (expected one of " + String.join(", ", NAMES) + ")");
        String resource = "/configs/models/" + fileName(name);
        try (InputStream in = DiTModels.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("model config resource " + resource + " is missing from the build");
            return DiTConfig.load(in, resource);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
