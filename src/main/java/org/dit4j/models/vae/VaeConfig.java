package org.dit4j.models.vae;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/** LDM's autoencoder {@code ddconfig} (+ {@code embed_dim}, and the latent {@code scaling_factor} DiT uses). */
public record VaeConfig(int ch, List<Integer> chMult, int numResBlocks, int zChannels, int embedDim, int inChannels,
                        int outCh, boolean doubleZ, double scalingFactor) {
    public static final List<String> NAMES = List.of("sd-vae-ft-mse", "sd-vae-ft-ema");

    public VaeConfig {
        chMult = List.copyOf(chMult);
        if (ch <= 0 || ch % 32 != 0) throw new IllegalArgumentException("invalid VAE config: ch (" + ch + ") must be a positive multiple of 32 (GroupNorm with 32 groups)");
        if (chMult.isEmpty()) throw new IllegalArgumentException("invalid VAE config: ch_mult is empty");
        if (numResBlocks <= 0 || zChannels <= 0 || embedDim <= 0) throw new IllegalArgumentException("invalid VAE config: num_res_blocks, z_channels and embed_dim must be positive");
    }

    public int levels() {
        return chMult.size();
    }

    /** Spatial downsampling factor between image and latent (8 for sd-vae). */
    public int downFactor() {
        return 1 << (levels() - 1);
    }

    public int channels(int level) {
        return ch * chMult.get(level);
    }

    public static VaeConfig named(String name) {
        if (!NAMES.contains(name)) throw new IllegalArgumentException("unknown VAE '" + name + "' (expected one of " + NAMES + ")");
        String resource = "/configs/vae/" + name + ".yaml";
        try (InputStream in = VaeConfig.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing resource " + resource);
            return fromMap(new Yaml(new SafeConstructor(new LoaderOptions())).load(in), resource);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static VaeConfig load(Path file) {
        try (Reader r = Files.newBufferedReader(file)) {
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
            if (!(doc instanceof Map<?, ?> m)) throw new IllegalArgumentException(file + ": a VAE config must be a mapping");
            Object dd = m.get("ddconfig");
            Map<String, Object> flat = new LinkedHashMap<>();
            if (dd instanceof Map<?, ?> ddm) ddm.forEach((k, v) -> flat.put(String.valueOf(k), v));
            m.forEach((k, v) -> { if (!"ddconfig".equals(k)) flat.put(String.valueOf(k), v); });
            return fromMap(flat, file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read VAE config (" + e.getMessage() + ")");
        }
    }

    @SuppressWarnings("unchecked")
    static VaeConfig fromMap(Map<String, Object> m, String source) {
        try {
            List<Integer> mult = (List<Integer>) m.getOrDefault("ch_mult", List.of(1, 2, 4, 4));
            int z = (Integer) m.getOrDefault("z_channels", 4);
            return new VaeConfig((Integer) m.getOrDefault("ch", 128), mult, (Integer) m.getOrDefault("num_res_blocks", 2), z,
                    (Integer) m.getOrDefault("embed_dim", z), (Integer) m.getOrDefault("in_channels", 3), (Integer) m.getOrDefault("out_ch", 3),
                    (Boolean) m.getOrDefault("double_z", true), ((Number) m.getOrDefault("scaling_factor", 0.18215)).doubleValue());
        } catch (ClassCastException e) {
            throw new IllegalArgumentException(source + ": malformed VAE config (" + e.getMessage() + ")");
        }
    }
}
