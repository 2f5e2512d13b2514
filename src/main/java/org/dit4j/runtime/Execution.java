package org.dit4j.runtime;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How the models' graphs are executed: by SameDiff's own session ({@code sd.output}, {@code calculateGradients}) or by a
 * {@link PlannedExecutor} per graph (for gradients, over the graph's gradient function, which holds the forward ops and
 * their backward ops as one plain graph). Chosen for the process with {@code -Ddit4j.executor=samediff|planned} or {@link #use}.
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

    private PlannedExecutor.Profile profile;

    /** The graph's planned executor (one per graph). */
    public synchronized PlannedExecutor planned(SameDiff sd) {
        return executors.computeIfAbsent(sd, g -> {
            PlannedExecutor ex = new PlannedExecutor(g);
            ex.profile(profile);
            return ex;
        });
    }

    /** Times every op of later planned calls, of every graph this instance runs, into {@code p}; {@code null} stops it. */
    public synchronized void profile(PlannedExecutor.Profile p) {
        profile = p;
        executors.values().forEach(ex -> ex.profile(p));
    }

    /** {@code sd.output(placeholders, outputs)} as copies the caller owns, by the current mode's executor. */
    public Map<String, INDArray> output(SameDiff sd, Map<String, INDArray> placeholders, String... outputs) {
        if (mode() == Mode.PLANNED) return planned(sd).output(placeholders, outputs);
        Map<String, INDArray> out = new HashMap<>();
        // SameDiff recycles its output buffers on the next call: hand out copies the caller owns.
        sd.output(placeholders, outputs).forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }

    /** Outputs and gradients of one execution; a gradient is null for a variable the loss does not depend on. */
    public record Gradients(Map<String, INDArray> outputs, Map<String, INDArray> gradients) {}

    /**
     * {@code sd.calculateGradientsAndOutputs(placeholders, outputs, wrt)} as copies the caller owns, by the current mode's
     * executor; {@code sd}'s gradient function must exist ({@code createGradFunction}).
     */
    public Gradients gradients(SameDiff sd, Map<String, INDArray> placeholders, List<String> outputs, List<String> wrt) {
        Map<String, INDArray> outs = new HashMap<>(), grads = new HashMap<>();
        if (mode() == Mode.PLANNED) {
            SameDiff gradFn = sd.getFunction("grad");
            if (gradFn == null) throw new IllegalStateException("the graph has no gradient function: call createGradFunction first");
            List<String> wanted = new ArrayList<>(outputs);
            Map<String, String> gradNames = new HashMap<>();
            for (String w : wrt) {
                var g = sd.getVariable(w).getGradient();
                if (g == null) continue;
                gradNames.put(w, g.name());
                wanted.add(g.name());
            }
            Map<String, INDArray> all = planned(gradFn).output(placeholders, wanted.toArray(String[]::new));
            for (String o : outputs) outs.put(o, all.get(o));
            for (String w : wrt) grads.put(w, gradNames.containsKey(w) ? all.get(gradNames.get(w)) : null);
            return new Gradients(outs, grads);
        }
        // SameDiff recycles its output buffers on the next call: hand out copies the caller owns.
        Map<String, INDArray> g0;
        if (outputs.isEmpty()) {
            g0 = sd.calculateGradients(placeholders, wrt);
        } else {
            var r = sd.calculateGradientsAndOutputs(placeholders, outputs, wrt);
            r.getOutputs().forEach((k, v) -> outs.put(k, v.dup()));
            g0 = r.getGradients();
        }
        for (String w : wrt) {
            INDArray g = g0.get(w);
            grads.put(w, g == null ? null : g.dup());
        }
        return new Gradients(outs, grads);
    }

    /**
     * Planned mode: the forward ops of {@code sd}'s gradient function for {@code slot} (one per block of a training
     * step), their values kept for {@link #gradientsBackward}; returns copies of {@code outputs}. {@code later}: the
     * placeholders only the backward ops read, each with the forward value whose shape it has.
     */
    public Map<String, INDArray> gradientsForward(SameDiff sd, int slot, Map<String, INDArray> placeholders, List<String> outputs,
                                                  Map<String, String> later, List<String> wrt) {
        if (mode() != Mode.PLANNED) throw new IllegalStateException("a split gradient execution needs the planned executor");
        return planned(gradFunction(sd)).forward(slot, placeholders, later, outputs, new ArrayList<>(gradientNames(sd, wrt).values()));
    }

    /** The rest of {@code slot}'s gradient execution: the gradients of {@code wrt} (null for a variable the loss does not depend on). */
    public Map<String, INDArray> gradientsBackward(SameDiff sd, int slot, Map<String, INDArray> laterPlaceholders, List<String> wrt) {
        Map<String, String> names = gradientNames(sd, wrt);
        Map<String, INDArray> all = planned(gradFunction(sd)).backward(slot, laterPlaceholders, new ArrayList<>(names.values()));
        Map<String, INDArray> grads = new HashMap<>();
        for (String w : wrt) grads.put(w, names.containsKey(w) ? all.get(names.get(w)) : null);
        return grads;
    }

    private static SameDiff gradFunction(SameDiff sd) {
        SameDiff gradFn = sd.getFunction("grad");
        if (gradFn == null) throw new IllegalStateException("the graph has no gradient function: call createGradFunction first");
        return gradFn;
    }

    /** Each of {@code wrt} that has a gradient, with its gradient variable's name, in {@code wrt}'s order. */
    private static Map<String, String> gradientNames(SameDiff sd, List<String> wrt) {
        Map<String, String> names = new LinkedHashMap<>();
        for (String w : wrt) {
            var g = sd.getVariable(w).getGradient();
            if (g != null) names.put(w, g.name());
        }
        return names;
    }
}
