package org.dit4j.util;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.*;

/**
 * Where a SameDiff execution spends its time: nanoseconds inside each kind of op, and the rest of the wall time,
 * which is the executor's own work between ops (scheduling, shape inference, allocation). Attach with
 * {@code sd.addListeners(...)} around the executions to profile.
 */
public final class OpTimes extends BaseListener {
    private final Map<String, long[]> byOp = new TreeMap<>();   // op name → {nanoseconds, count}
    private long opStart, wallStart, wallNanos;

    @Override
    public boolean isActive(Operation operation) {
        return true;
    }

    @Override
    public void operationStart(SameDiff sd, Operation op) {
        wallStart = System.nanoTime();
    }

    @Override
    public void operationEnd(SameDiff sd, Operation op) {
        wallNanos += System.nanoTime() - wallStart;
    }

    @Override
    public void preOpExecution(SameDiff sd, At at, SameDiffOp op, OpContext ctx) {
        opStart = System.nanoTime();
    }

    @Override
    public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext ctx, INDArray[] outputs) {
        long[] t = byOp.computeIfAbsent(op.getOp().opName(), k -> new long[2]);
        t[0] += System.nanoTime() - opStart;
        t[1]++;
    }

    /** A table, largest first: op, milliseconds, share of the wall time, op count, mean microseconds per op. */
    public String report(int executions) {
        long inOps = byOp.values().stream().mapToLong(t -> t[0]).sum(), ops = byOp.values().stream().mapToLong(t -> t[1]).sum();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%d executions, %.1f ms wall each, %d ops each%n",
                executions, wallNanos / 1e6 / executions, ops / executions));
        sb.append(String.format(Locale.ROOT, "%-28s %10s %7s %8s %9s%n", "op", "ms/exec", "share", "count", "us/op"));
        List<Map.Entry<String, long[]>> rows = new ArrayList<>(byOp.entrySet());
        rows.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
        for (var e : rows) line(sb, e.getKey(), e.getValue()[0], e.getValue()[1], executions);
        line(sb, "(executor, between ops)", wallNanos - inOps, 0, executions);
        return sb.toString();
    }

    private void line(StringBuilder sb, String name, long nanos, long count, int executions) {
        sb.append(String.format(Locale.ROOT, "%-28s %10.1f %6.1f%% %8d %9.1f%n", name, nanos / 1e6 / executions,
                100.0 * nanos / Math.max(1, wallNanos), count / executions, count == 0 ? 0 : nanos / 1e3 / count));
    }
}
