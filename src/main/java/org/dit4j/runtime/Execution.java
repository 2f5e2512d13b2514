package org.dit4j.runtime;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * How the models' inference graphs are executed: by SameDiff's own session ({@code sd.output}) or by a
 * {@link PlannedExecutor} per graph. Chosen with {@code -Ddit4j.executor=samediff|planned} or {@link #use}.
 */
public final class Execution {
    public enum Mode { SAMEDIFF, PLANNED }

    private static volatile Mode mode = parse(System.getProperty("dit4j.executor", "planned"), "-Ddit4j.executor");
    private static final Map<SameDiff, PlannedExecutor> EXECUTORS = new WeakHashMap<>();

    private Execution() {}

    public static Mode parse(String s, String source) {
        try {
            return Mode.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " is '" + s + "', expected samediff or planned");
        }
    }

    public static Mode mode() {
        return mode;
    }

    public static void use(Mode m) {
        mode = m;
    }

    /** The graph's planned executor (one per graph, kept while the graph lives). */
    public static synchronized PlannedExecutor planned(SameDiff sd) {
        return EXECUTORS.computeIfAbsent(sd, PlannedExecutor::new);
    }

    /** {@code sd.output(placeholders, outputs)} as copies the caller owns, by the current mode's executor. */
    public static Map<String, INDArray> output(SameDiff sd, Map<String, INDArray> placeholders, String... outputs) {
        if (mode == Mode.PLANNED) return planned(sd).output(placeholders, outputs);
        Map<String, INDArray> out = new HashMap<>();
        // SameDiff recycles its output buffers on the next call: hand out copies the caller owns.
        sd.output(placeholders, outputs).forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }
}
