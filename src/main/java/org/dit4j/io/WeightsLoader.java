package org.dit4j.io;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Opens a state dict from any file dit4j reads, sniffing the format from the content rather than the suffix. */
public final class WeightsLoader {
    private WeightsLoader() {}

    public static Map<String, INDArray> load(Path path, TorchCheckpoint.Pick pick) {
        if (Files.isDirectory(path)) {
            if (DiTCheckpoint.isCheckpointDir(path)) return DiTCheckpoint.weights(path);
            throw new WeightsFormatException(path, "directory is not a dit4j checkpoint (expected "
                    + DiTCheckpoint.CONFIG + " and " + DiTCheckpoint.WEIGHTS + ")");
        }
        if (!Files.isRegularFile(path)) throw new WeightsFormatException(path, "no such file");
        if (TorchCheckpoint.looksLikeZip(path)) return TorchCheckpoint.loadStateDict(path, pick);
        if (looksLikeSafetensors(path)) return Safetensors.read(path);
        throw new WeightsFormatException(path, "unrecognised weights format (expected a torch.save .pt zip, a .safetensors file or a dit4j checkpoint directory)");
    }

    static boolean looksLikeSafetensors(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            byte[] head = in.readNBytes(9);
            return head.length == 9 && head[8] == '{';
        } catch (IOException e) {
            return false;
        }
    }
}
