package org.dit4j.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dit4j.io.AtomicFiles;
import org.dit4j.io.Checkpoint;
import org.dit4j.io.Safetensors;
import org.dit4j.models.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.stream.Stream;

/**
 * A training checkpoint: a dit4j checkpoint directory (config.yaml + model.safetensors holding the EMA weights, what
 * sampling loads, as {@code train.py}'s {@code ema}) plus {@code raw.safetensors} (the trained weights),
 * {@code optimizer.safetensors} (AdamW moments) and {@code state.json} (step, optimizer step, training config).
 * Written to a temporary directory and renamed, so a crash at any moment leaves the previous checkpoint whole.
 */
public final class TrainingCheckpoint {
    public static final String RAW = Checkpoint.RAW, OPTIMIZER = "optimizer.safetensors", STATE = "state.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    public record State(long step, long optimizerSteps, Map<String, INDArray> weights, Map<String, INDArray> ema,
                        Map<String, INDArray> expAvg, Map<String, INDArray> expAvgSq, Map<String, Object> trainConfig) {}

    private TrainingCheckpoint() {}

    public static Path dirFor(Path runDir, long step) {
        return runDir.resolve(Checkpoint.RUN_FOLDER).resolve(String.format("step-%08d", step));
    }

    public static void save(Path dir, ModelConfig model, State s) throws IOException {
        AtomicFiles.writeDirectory(dir, tmp -> {
            Checkpoint.writeInto(tmp, model, s.ema() != null ? s.ema() : s.weights());
            Safetensors.write(tmp.resolve(RAW), s.weights(), Map.of());
            Map<String, INDArray> opt = new LinkedHashMap<>();
            s.expAvg().forEach((k, v) -> opt.put("exp_avg." + k, v));
            s.expAvgSq().forEach((k, v) -> opt.put("exp_avg_sq." + k, v));
            Safetensors.write(tmp.resolve(OPTIMIZER), opt, Map.of());
            ObjectNode st = JSON.createObjectNode();
            st.put("step", s.step());
            st.put("optimizer_steps", s.optimizerSteps());
            st.put("has_ema", s.ema() != null);
            st.set("train_config", JSON.valueToTree(s.trainConfig()));
            Files.writeString(tmp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(st), StandardCharsets.UTF_8);
        });
    }

    /**
     * Refuses optimiser moments that do not fit the trainable parameters (a missing, extra or mis-shaped exp_avg or
     * exp_avg_sq would silently restart or break the optimiser).
     */
    public static void checkOptimizerState(State s, Map<String, INDArray> trainable, String source) {
        if (s.optimizerSteps() == 0 && s.expAvg().isEmpty() && s.expAvgSq().isEmpty()) return;
        for (var moments : List.of(Map.entry("exp_avg", s.expAvg()), Map.entry("exp_avg_sq", s.expAvgSq()))) {
            List<String> missing = new ArrayList<>(), wrong = new ArrayList<>();
            for (var p : trainable.entrySet()) {
                INDArray m = moments.getValue().get(p.getKey());
                if (m == null) missing.add(p.getKey());
                else if (!Arrays.equals(m.shape(), p.getValue().shape())) wrong.add(p.getKey() + " " + Arrays.toString(m.shape()));
            }
            List<String> extra = moments.getValue().keySet().stream().filter(k -> !trainable.containsKey(k)).toList();
            if (!missing.isEmpty() || !wrong.isEmpty() || !extra.isEmpty())
                throw new IllegalArgumentException(source + ": optimizer state does not fit the model (" + moments.getKey()
                        + (missing.isEmpty() ? "" : ": missing " + abbreviate(missing)) + (wrong.isEmpty() ? "" : ": wrong shape " + abbreviate(wrong))
                        + (extra.isEmpty() ? "" : ": unexpected " + abbreviate(extra)) + ")");
        }
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 4 ? String.join(", ", names) : String.join(", ", names.subList(0, 4)) + " … (" + names.size() + " in all)";
    }

    public static State load(Path dir) {
        if (!Files.isRegularFile(dir.resolve(STATE))) throw new IllegalArgumentException(dir + " is not a training checkpoint (no " + STATE + ")");
        try {
            JsonNode st = JSON.readTree(dir.resolve(STATE).toFile());
            Map<String, INDArray> weights = Safetensors.read(dir.resolve(RAW));
            Map<String, INDArray> ema = st.path("has_ema").asBoolean() ? Checkpoint.weights(dir) : null;
            Map<String, INDArray> avg = new LinkedHashMap<>(), avgSq = new LinkedHashMap<>();
            Safetensors.read(dir.resolve(OPTIMIZER)).forEach((k, v) -> {
                if (k.startsWith("exp_avg_sq.")) avgSq.put(k.substring(11), v);
                else if (k.startsWith("exp_avg.")) avg.put(k.substring(8), v);
            });
            @SuppressWarnings("unchecked") Map<String, Object> cfg = JSON.convertValue(st.path("train_config"), Map.class);
            return new State(st.path("step").asLong(), st.path("optimizer_steps").asLong(), weights, ema, avg, avgSq, cfg);
        } catch (IOException e) {
            throw new IllegalArgumentException(dir + ": unreadable training checkpoint (" + e.getMessage() + ")");
        }
    }

    /**
     * The newest whole checkpoint of a run directory, or {@code dir} itself if it is one. A damaged newer checkpoint
     * (a truncated file, an unreadable state.json) is skipped with one warning naming it and the one used; a damaged
     * {@code dir} itself, or a run with no whole checkpoint, is an error naming the damage.
     */
    public static Path latest(Path dir) {
        if (Files.isRegularFile(dir.resolve(STATE))) return Checkpoint.newestWhole(List.of(dir), TrainingCheckpoint::damage);
        List<Path> all = Checkpoint.stepFolders(dir);
        if (all.isEmpty()) throw new IllegalArgumentException(dir + ": no training checkpoints (expected " + dir.resolve("checkpoints/step-*") + ")");
        return Checkpoint.newestWhole(all, TrainingCheckpoint::damage);
    }

    /** Why a training checkpoint folder cannot be whole, from its file sizes, safetensors headers and state.json, or null. */
    static String damage(Path dir) {
        String d = Checkpoint.damage(dir);
        if (d == null) d = Checkpoint.safetensorsDamage(dir.resolve(RAW));
        if (d == null) d = Checkpoint.safetensorsDamage(dir.resolve(OPTIMIZER));
        if (d != null) return d;
        try {
            JsonNode st = JSON.readTree(dir.resolve(STATE).toFile());
            if (st == null || !st.path("step").canConvertToLong() || !st.path("optimizer_steps").canConvertToLong() || !st.path("train_config").isObject())
                return STATE + " lacks step, optimizer_steps or train_config";
            return null;
        } catch (IOException e) {
            return STATE + " is unreadable (" + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")";
        }
    }

    /**
     * Deletes all but the newest {@code keep} whole checkpoints, and temporaries a killed run left behind. Damaged
     * checkpoints are left alone (a resumed run replaces them as it reaches their steps), so they never push a whole
     * one out.
     */
    public static void prune(Path runDir, int keep) throws IOException {
        List<Path> whole = Checkpoint.stepFolders(runDir).stream().filter(p -> damage(p) == null).toList();
        for (int i = 0; i < whole.size() - keep; i++) AtomicFiles.deleteRecursively(whole.get(i));
        Path c = runDir.resolve(Checkpoint.RUN_FOLDER);
        AtomicFiles.removeLeftovers(c);
        try (Stream<Path> s = Files.list(c)) {
            // temporaries of versions before AtomicFiles named them after their process
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".step-") && !AtomicFiles.isTemporary(p.getFileName().toString())).toList())
                AtomicFiles.deleteRecursively(p);
        }
    }
}
