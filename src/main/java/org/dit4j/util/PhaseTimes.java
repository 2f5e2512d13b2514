package org.dit4j.util;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Wall time per phase of a process, one line each as the phase ends: {@code timings: <phase> <ms> ms}. The first phase
 * starts when the JVM did (its {@code RuntimeMXBean} start time); each later one where the previous ended.
 */
public final class PhaseTimes {
    /** Times nothing: for runs that did not ask for timings. */
    public static final PhaseTimes NONE = new PhaseTimes(null, 0);

    private final PrintStream out;
    private final long jvmStartMillis;
    private long last;

    private PhaseTimes(PrintStream out, long jvmStartMillis) {
        this.out = out;
        this.jvmStartMillis = jvmStartMillis;
        this.last = jvmStartMillis;
    }

    /** Phases timed from the JVM's start, printed to {@code out}. */
    public static PhaseTimes sinceJvmStart(PrintStream out) {
        return new PhaseTimes(out, ManagementFactory.getRuntimeMXBean().getStartTime());
    }

    /** Ends the current phase now: prints its name and the milliseconds since the previous mark. */
    public void mark(String phase) {
        mark(phase, System.currentTimeMillis());
    }

    /** Ends the current phase at {@code now} (epoch milliseconds, e.g. recorded before the timings were asked for). */
    public void mark(String phase, long now) {
        if (out == null) return;
        out.println(String.format(Locale.ROOT, "timings: %-44s %8d ms", phase, now - last));
        last = now;
    }

    /** The milliseconds from the JVM's start to now, as a last line. */
    public void total() {
        if (out == null) return;
        out.println(String.format(Locale.ROOT, "timings: %-44s %8d ms", "total since JVM start", System.currentTimeMillis() - jvmStartMillis));
    }
}
