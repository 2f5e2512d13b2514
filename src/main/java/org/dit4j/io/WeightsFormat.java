package org.dit4j.io;

import java.nio.file.Files;
import java.nio.file.Path;

/** The weight containers dit4j reads, recognised by content rather than file name. */
public enum WeightsFormat {
    PYTORCH, MINDSPORE, SAFETENSORS, DIFFUSERS, DIT4J;

    public static WeightsFormat parse(String s) {
        return switch (s) {
            case "pytorch" -> PYTORCH;
            case "mindspore" -> MINDSPORE;
            case "safetensors" -> SAFETENSORS;
            case "diffusers" -> DIFFUSERS;
            case "dit4j" -> DIT4J;
            default -> throw new IllegalArgumentException("unknown format '" + s + "' (expected pytorch, mindspore, safetensors, diffusers or dit4j)");
        };
    }

    /** As {@link #sniff}, with a pipeline's {@code vae/} subfolder recognised as a diffusers folder. */
    public static WeightsFormat sniffVae(Path path) {
        if (Files.isDirectory(path) && Diffusers.weightsFile(path, "vae") != null) return DIFFUSERS;
        return sniff(path);
    }

    /** Zip or legacy pickle magic, safetensors header, protobuf framing; directories by their files. */
    public static WeightsFormat sniff(Path path) {
        if (Files.isDirectory(path)) {
            if (Checkpoint.isCheckpointDir(path)) return DIT4J;
            if (Diffusers.weightsFile(path) != null) return DIFFUSERS;
            throw new WeightsFormatException(path, "directory is neither a dit4j checkpoint (config.yaml + model.safetensors) nor a"
                    + " diffusers model folder (config.json + diffusion_pytorch_model.safetensors/.bin, or a pipeline with transformer/)");
        }
        if (!Files.isRegularFile(path)) throw new WeightsFormatException(path, "no such file");
        if (TorchCheckpoint.looksLikeZip(path) || TorchCheckpoint.looksLikeLegacy(path)) return PYTORCH;
        if (Safetensors.looksLikeSafetensors(path)) return SAFETENSORS;
        if (MindSporeCheckpoint.looksLikeCheckpoint(path)) return MINDSPORE;
        throw new WeightsFormatException(path, "unrecognised weights format (expected a torch.save .pt, a MindSpore .ckpt,"
                + " a .safetensors file, a diffusers folder or a dit4j checkpoint directory)");
    }
}
