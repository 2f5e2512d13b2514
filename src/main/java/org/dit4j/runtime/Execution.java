package org.dit4j.runtime;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How the models' inference graphs are executed: by SameDiff's own session ({@code sd.output}) or by a
 * {@link PlannedExecutor} per graph. Chosen for the process with {@code -Ddit4j.executor=samediff|planned} or {@link #use}.
 * A model holds one instance, so its executors (and their buffers) live exactly as long as the model's graphs.
 */
public final class Execution {
    public enum Mode { SAMEDIFF, PLANNED }

    /** Set by {@link #use}; until then the property decides (read at each call, so a bad value is a one-line error, not a failed class). */
    private static volatile Mode chosen;
    private final Map<SameDiff, PlannedExecutor> executors = new IdentityHashMap<>();

    public static Mode parse(String s, String source) {
        try {
            return Mode.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " is '" + s + "', expected samediff or planned");
        }
    }

    public static Mode mode() {
        Mode m = chosen;
        return m != null ? m : parse(System.getProperty("dit4j.executor", "planned"), "-Ddit4j.executor");
    }

    public static void use(Mode m) {
        chosen = m;
    }

    /** The graph's planned executor (one per graph). */
    public synchronized PlannedExecutor planned(SameDiff sd) {
        return executors.computeIfAbsent(sd, PlannedExecutor::new);
    }

    /** {@code sd.output(placeholders, outputs)} as copies the caller owns, by the current mode's executor. */
    public Map<String, INDArray> output(SameDiff sd, Map<String, INDArray> placeholders, String... outputs) {
        if (mode() == Mode.PLANNED) return planned(sd).output(placeholders, outputs);
        Map<String, INDArray> out = new HashMap<>();
        // SameDiff recycles its output buffers on the next call: hand out copies the caller owns.
        sd.output(placeholders, outputs).forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }
}
