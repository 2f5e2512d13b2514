package org.dit4j.io;

import java.nio.file.Files;
import java.nio.file.Path;

/** diffusers model folders: {@code config.json} + {@code diffusion_pytorch_model.safetensors} (or {@code .bin}). */
public final class Diffusers {
    public static final String CONFIG = "config.json", SAFETENSORS = "diffusion_pytorch_model.safetensors", BIN = "diffusion_pytorch_model.bin";

    private Diffusers() {}

    /** The model folder: the directory itself, or a pipeline's {@code transformer/} subfolder. */
    public static Path modelDir(Path dir) {
        return modelDir(dir, "transformer");
    }

    /** The model folder: the directory itself, or the pipeline subfolder {@code component} ({@code transformer}, {@code vae}). */
    public static Path modelDir(Path dir, String component) {
        if (Files.isRegularFile(dir.resolve(CONFIG)) && (Files.isRegularFile(dir.resolve(SAFETENSORS)) || Files.isRegularFile(dir.resolve(BIN))))
            return dir;
        Path t = dir.resolve(component);
        return Files.isDirectory(t) ? modelDir(t, component) : null;
    }

    public static Path weightsFile(Path dir) {
        return weightsFile(dir, "transformer");
    }

    public static Path weightsFile(Path dir, String component) {
        Path m = modelDir(dir, component);
        if (m == null) return null;
        return Files.isRegularFile(m.resolve(SAFETENSORS)) ? m.resolve(SAFETENSORS) : m.resolve(BIN);
    }
}
