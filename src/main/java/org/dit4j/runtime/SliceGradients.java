package org.dit4j.runtime;

import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.*;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The gradient of a value read through several slices (the chunks of adaLN's modulation, q/k/v of a fused qkv), as one
 * buffer each slice's gradient is written into (added into, where slices overlap). SameDiff's gradient function gives every {@code strided_slice_bp} a
 * zero-filled array of the whole value's shape and sums them with a chain of {@code add}s: for k slices, k fills and
 * k − 1 sums of the whole array where k copies of a slice are the work. In a plan, the chain's adds become the summed
 * buffer itself (no step), and each {@code strided_slice_bp} writes its gradient into its own view of that buffer, which
 * is zeroed first only when the slices do not cover it.
 */
final class SliceGradients {
    private SliceGradients() {}

    /** One summed gradient: the slices' backward ops, the adds that sum them, and (once planned) the buffer of the sum. */
    static final class Group {
        private final List<SameDiffOp> slices = new ArrayList<>();
        private final Set<String> adds = new HashSet<>();
        private INDArray sum;
        private boolean disjoint, covered;

        /** Whether {@code op} is one of the adds, whose output is the sum's buffer. */
        boolean isSum(SameDiffOp op) {
            return adds.contains(op.getName());
        }

        /**
         * The kernel of slice op {@code op} over the group's buffer, taken from {@code take} at the group's first slice
         * (its shape: {@code source}'s, the value sliced); the first one zeroes the buffer when the slices leave gaps.
         */
        Kernel slice(SameDiffOp op, INDArray source, INDArray g, Function<long[], INDArray> take) {
            boolean first = sum == null;
            if (first) {
                sum = take.apply(source.shape());
                layout(source.shape());
            }
            INDArrayIndex[] idx = indices(((DynamicCustomOp) op.getOp()).iArgs(), source.shape());
            INDArray view = sum.get(idx);
            if (!Arrays.equals(view.shape(), g.shape()))
                throw new IllegalStateException(op.getName() + ": a slice of shape " + Arrays.toString(view.shape()) + " for a gradient of shape " + Arrays.toString(g.shape()));
            return new Write(g, sum, view, idx, first && !covered, !disjoint);
        }

        INDArray sum() {
            return sum;
        }

        /**
         * Whether the slices' bounding boxes are disjoint (else each gradient is added into the sum, not written), and
         * whether they also cover the whole, with unit strides (else the sum is zeroed first).
         */
        private void layout(long[] shape) {
            List<long[][]> boxes = new ArrayList<>();
            long volume = 0;
            boolean unitStrides = true;
            disjoint = true;
            for (SameDiffOp op : slices) {
                long[][] box = ranges(((DynamicCustomOp) op.getOp()).iArgs(), shape);
                long v = 1;
                for (long[] r : box) {
                    unitStrides &= r[2] == 1;
                    v *= r[1] - r[0];
                }
                for (long[][] other : boxes) disjoint &= !overlap(box, other);
                boxes.add(box);
                volume += v;
            }
            long whole = 1;
            for (long s : shape) whole *= s;
            covered = disjoint && unitStrides && volume == whole;
        }

        private static boolean overlap(long[][] a, long[][] b) {
            for (int d = 0; d < a.length; d++) if (a[d][1] <= b[d][0] || b[d][1] <= a[d][0]) return false;
            return true;
        }
    }

    /**
     * The groups among {@code order}'s ops, by the names of the ops in them: {@code strided_slice_bp} ops of one sliced
     * value, summed by {@code add}s whose inputs nothing else reads (every partial sum is then the buffer's content).
     */
    static Map<String, Group> find(List<SameDiffOp> order, Collection<String> requested, Function<SameDiffOp, List<String>> inputs) {
        Map<String, Integer> reads = new HashMap<>();
        for (SameDiffOp op : order) for (String in : inputs.apply(op)) reads.merge(in, 1, Integer::sum);
        for (String o : requested) reads.merge(o, 1, Integer::sum);
        Map<String, Group> byValue = new HashMap<>();
        Map<Group, String> source = new HashMap<>();
        for (SameDiffOp op : order) {
            List<String> ins = inputs.apply(op);
            String name = op.getOp().opName();
            if (name.equals("strided_slice_bp") && ins.size() == 2 && simple(((DynamicCustomOp) op.getOp()).iArgs())) {
                Group g = new Group();
                g.slices.add(op);
                byValue.put(op.getOutputsOfOp().get(0), g);
                source.put(g, ins.get(0));
            } else if (name.equals("add") && ins.size() == 2) {
                Group a = byValue.get(ins.get(0)), b = byValue.get(ins.get(1));
                if (a == null || b == null || a == b || !source.get(a).equals(source.get(b))) continue;
                if (reads.get(ins.get(0)) != 1 || reads.get(ins.get(1)) != 1) continue;
                a.slices.addAll(b.slices);
                a.adds.addAll(b.adds);
                a.adds.add(op.getName());
                byValue.replaceAll((v, g) -> g == b ? a : g);
                byValue.put(op.getOutputsOfOp().get(0), a);
            }
        }
        Map<String, Group> byOp = new HashMap<>();
        for (Group g : new HashSet<>(byValue.values())) {
            if (g.adds.isEmpty()) continue;   // a single slice: libnd4j's op does the same work
            for (SameDiffOp op : g.slices) byOp.put(op.getName(), g);
            for (String add : g.adds) byOp.put(add, g);
        }
        return byOp;
    }

    /** strided_slice's integer arguments: masks (begin, ellipsis, end, new axis, shrink), then begin, end and strides. */
    private static boolean simple(long[] iArgs) {
        if (iArgs.length < 5 || (iArgs.length - 5) % 3 != 0 || iArgs[1] != 0 || iArgs[3] != 0) return false;
        int n = (iArgs.length - 5) / 3;
        for (int d = 0; d < n; d++) if (iArgs[5 + 2 * n + d] <= 0) return false;
        return true;
    }

    /** Per axis {start, end, stride, 1 if the axis is dropped}, as strided_slice reads its arguments (positive strides). */
    private static long[][] ranges(long[] iArgs, long[] shape) {
        int n = (iArgs.length - 5) / 3;
        long beginMask = iArgs[0], endMask = iArgs[2], shrink = iArgs[4];
        long[][] r = new long[shape.length][];
        for (int d = 0; d < shape.length; d++) {
            long size = shape[d];
            if (d >= n) {
                r[d] = new long[]{0, size, 1, 0};
                continue;
            }
            long begin = iArgs[5 + d], end = iArgs[5 + n + d], stride = iArgs[5 + 2 * n + d];
            long start = bit(beginMask, d) ? 0 : clamp(begin < 0 ? begin + size : begin, size);
            if (bit(shrink, d)) {
                r[d] = new long[]{start, start + 1, 1, 1};
            } else {
                long stop = bit(endMask, d) ? size : clamp(end < 0 ? end + size : end, size);
                r[d] = new long[]{start, Math.max(start, stop), stride, 0};
            }
        }
        return r;
    }

    private static INDArrayIndex[] indices(long[] iArgs, long[] shape) {
        long[][] r = ranges(iArgs, shape);
        INDArrayIndex[] idx = new INDArrayIndex[r.length];
        for (int d = 0; d < r.length; d++)
            idx[d] = r[d][3] == 1 ? NDArrayIndex.point(r[d][0]) : NDArrayIndex.interval(r[d][0], r[d][2], r[d][1]);
        return idx;
    }

    private static boolean bit(long mask, int d) {
        return ((mask >> d) & 1) == 1;
    }

    private static long clamp(long v, long size) {
        return Math.max(0, Math.min(size, v));
    }

    /** One slice's gradient written (or added) into its view of the summed buffer. */
    private record Write(INDArray g, INDArray sum, INDArray view, INDArrayIndex[] idx, boolean zeroFirst, boolean add) implements Kernel {
        @Override
        public List<INDArray> reads() {
            return List.of(g);
        }

        @Override
        public List<INDArray> writes() {
            return List.of(sum);
        }

        @Override
        public String name() {
            return "strided_slice_bp (into the summed gradient)";
        }

        @Override
        public void run(UnaryOperator<INDArray> sub) {
            INDArray s = sub.apply(sum);
            if (zeroFirst) s.assign(0);
            INDArray v = s == sum ? view : s.get(idx);
            if (add) v.addi(sub.apply(g));
            else v.assign(sub.apply(g));
        }
    }
}
