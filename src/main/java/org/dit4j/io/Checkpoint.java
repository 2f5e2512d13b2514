package org.dit4j.io;

import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.nd4j.linalg.api.ndarray.INDArray;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * dit4j's own checkpoint: a directory holding {@code config.yaml} (the family and the official constructor arguments)
 * and {@code model.safetensors} with the official PyTorch names and layouts. SameDiff's own format is capped at 2 GB,
 * too small for DiT-XL/2; safetensors also loads directly in PyTorch. A training checkpoint adds the raw (non-EMA)
 * weights as {@link #RAW}.
 */
public final class Checkpoint {
    public static final String CONFIG = "config.yaml", WEIGHTS = "model.safetensors", RAW = "raw.safetensors";
    private static final long MAX_HEADER = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(Checkpoint.class);

    private Checkpoint() {}

    /** A training run keeps its checkpoints in {@code RUN/checkpoints/step-NNNNNNNN}. */
    public static final String RUN_FOLDER = "checkpoints";

    /** The {@code step-NNNNNNNN} folders of a training run, oldest first, whole or not. */
    public static List<Path> stepFolders(Path runDir) {
        Path c = runDir.resolve(RUN_FOLDER);
        if (!Files.isDirectory(c)) return List.of();
        try (Stream<Path> s = Files.list(c)) {
            return s.filter(p -> p.getFileName().toString().matches("step-\\d{8}") && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
        } catch (IOException e) {
            throw new IllegalArgumentException(c + ": cannot list checkpoints (" + e.getMessage() + ")");
        }
    }

    public static boolean isCheckpointDir(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(CONFIG)) && Files.isRegularFile(dir.resolve(WEIGHTS));
    }

    /** Writes the directory atomically: a crash leaves the previous checkpoint (if any) intact. */
    public static void save(Path dir, ModelConfig config, Map<String, INDArray> weights) throws IOException {
        AtomicFiles.writeDirectory(dir, tmp -> writeInto(tmp, config, weights));
    }

    /** Writes the two files into an existing (temporary) directory. */
    public static void writeInto(Path dir, ModelConfig config, Map<String, INDArray> weights) throws IOException {
        Files.writeString(dir.resolve(CONFIG), "# dit4j checkpoint: the model family and its official constructor arguments\nmodel:\n"
                + config.toYaml().lines().map(l -> "  " + l).reduce("", (a, b) -> a + b + "\n"), StandardCharsets.UTF_8);
        Safetensors.write(dir.resolve(WEIGHTS), weights, Map.of("format", "pt", Weights.CONFIG_METADATA, config.toYaml()));
    }

    /**
     * Why the checkpoint folder cannot be whole (a missing file, a safetensors file whose size is not what its header
     * describes, as a truncated copy leaves it), or null. Reads the headers only, so a run's checkpoints are checked
     * cheaply before one is picked.
     */
    public static String damage(Path dir) {
        if (!Files.isRegularFile(dir.resolve(CONFIG))) return "no " + CONFIG;
        return safetensorsDamage(dir.resolve(WEIGHTS));
    }

    /** Why {@code file} cannot be a whole safetensors file, from its header and size alone, or null. */
    public static String safetensorsDamage(Path file) {
        String name = file.getFileName().toString();
        if (!Files.isRegularFile(file)) return "no " + name;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            if (size < 8 || ch.read(len, 0) != 8) return name + " is truncated (" + size + " bytes)";
            long n = len.getLong(0);
            if (n <= 0 || n > Math.min(MAX_HEADER, size - 8)) return name + " is truncated or not safetensors (header length " + n + ", " + size + " bytes)";
            ByteBuffer header = ByteBuffer.allocate((int) n);
            while (header.hasRemaining()) if (ch.read(header, 8 + header.position()) < 0) return name + " is truncated";
            long end = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = JSON.readTree(header.array()).fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getKey().equals("__metadata__")) end = Math.max(end, e.getValue().path("data_offsets").path(1).asLong(0));
            }
            return 8 + n + end == size ? null : name + " has " + size + " bytes, its header describes " + (8 + n + end);
        } catch (IOException e) {
            return name + " is unreadable (" + e.getMessage() + ")";
        }
    }

    /**
     * The newest of {@code candidates} (oldest first) in which {@code damage} finds nothing wrong. Newer damaged ones
     * are skipped with one warning naming the newest, why, and the checkpoint used instead; none whole is an error.
     */
    public static Path newestWhole(List<Path> candidates, Function<Path, String> damage) {
        Path newest = null;
        String why = null;
        for (int i = candidates.size() - 1; i >= 0; i--) {
            Path p = candidates.get(i);
            String d = damage.apply(p);
            if (d == null) {
                int damaged = candidates.size() - 1 - i;
                if (damaged > 0) LOG.warn("{} is damaged ({}){}; using the newest whole checkpoint, {}", newest, why,
                        damaged > 1 ? ", and so " + (damaged > 2 ? "are " + (damaged - 1) + " older ones" : "is an older one") : "", p);
                return p;
            }
            if (newest == null) {
                newest = p;
                why = d;
            }
        }
        throw new IllegalArgumentException(newest + " is damaged (" + why + ")" + (candidates.size() > 1 ? " and no older checkpoint is whole" : ""));
    }

    public static ModelConfig config(Path dir) {
        return ModelFamilies.load(dir.resolve(CONFIG));
    }

    public static Map<String, INDArray> weights(Path dir) {
        return Safetensors.read(dir.resolve(WEIGHTS));
    }
}
