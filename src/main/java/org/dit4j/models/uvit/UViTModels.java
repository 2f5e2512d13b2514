package org.dit4j.models.uvit;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * The released configurations, named after the official config files and checkpoints
 * ({@code imagenet256_uvit_huge.pth}), shipped as YAML under {@code configs/models/<name>.yaml}.
 */
public final class UViTModels {
    public static final List<String> CLASS_NAMES = List.of("cifar10_uvit_small", "celeba64_uvit_small",
            "imagenet64_uvit_mid", "imagenet64_uvit_large", "imagenet256_uvit_large", "imagenet256_uvit_huge",
            "imagenet512_uvit_large", "imagenet512_uvit_huge");
    public static final List<String> T2I_NAMES = List.of("mscoco_uvit_small", "mscoco_uvit_small_deep");

    private UViTModels() {}

    public static List<String> names(String family) {
        return family.equals(UViTFamily.T2I) ? T2I_NAMES : CLASS_NAMES;
    }

    public static UViTConfig get(String family, String name) {
        if (!names(family).contains(name))
            throw new IllegalArgumentException("unknown " + family + " model '" + name + "' (expected one of " + String.join(", ", names(family)) + ")");
        String resource = "/configs/models/" + name + ".yaml";
        try (InputStream in = UViTModels.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("model config resource " + resource + " is missing from the build");
            ModelConfig c = ModelFamilies.load(in, resource);
            if (c instanceof UViTConfig u && u.family().equals(family)) return u;
            throw new IllegalStateException(resource + ": a " + c.family() + " config, not a " + family + " one");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
