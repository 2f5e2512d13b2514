package org.dit4j.runtime;

import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.*;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.bp.MulBpOp;
import org.nd4j.linalg.api.ops.impl.transforms.same.Identity;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

import java.util.*;

/**
 * Inference over a SameDiff graph without SameDiff's per-op work: for one set of placeholder shapes and requested outputs,
 * the first call resolves the ops the outputs need (in a topological order), every op's inputs, arguments, output shapes
 * and output buffers, and keeps one {@link OpContext} per op; later calls with the same shapes copy the placeholders in
 * and run the ops' native kernels over the same buffers, with no shape inference, allocation or dependency tracking.
 * <p>
 * Buffers are shared between ops whose values are not alive at the same time (each intermediate is returned to a pool
 * after its last reader), and elementwise ops write over an input that dies with them, so a plan holds about what
 * SameDiff's own session holds at its peak. Outputs are copies the caller owns.
 * <p>
 * A gradient function can also run in two halves ({@link #forward}, {@link #backward}), per slot: the ops that do not
 * read the upstream gradient first, then the rest. Between them each slot keeps, in arrays of its own, the forward values
 * of the costly ops the backward ops need (matrix products, softmax, sigmoid) and the forward placeholders; the backward
 * half remakes the other (elementwise) forward values from those before its own ops. A training step runs each block's
 * forward half once, as its forward pass, instead of running the block's forward graph and then all of it again.
 * <p>
 * What a plan assumes, true of dit4j's inference graphs: output shapes depend on input shapes only (not on placeholder
 * values), the graph has no control flow, tensor arrays or control dependencies (a plan refuses them), and variables
 * are changed in place ({@code assign}), not replaced — a replaced variable array is noticed and the plan rebuilt.
 * Not thread-safe: one caller at a time, like the graph itself.
 */
public final class PlannedExecutor {
    /** Custom ops whose output may be written over an input of the same shape (each element read once, before it is written). */
    private static final Set<String> ELEMENTWISE = Set.of("add", "subtract", "multiply", "divide", "realdiv", "maximum",
            "minimum", "squaredsubtract", "reversesubtract", "reversedivide", "bias_add", "sigmoid", "tanh", "relu", "gelu",
            "cast");
    private static final int MAX_PLANS = 4;
    /**
     * Ops whose outputs a split plan keeps for the backward ops rather than remaking them: the rest are cheap elementwise
     * ops or copies, while libnd4j's sigmoid costs ~14 ms per GELU of DiT-S/2 at batch 8.
     */
    private static final Set<String> KEPT_OPS = Set.of("matmul", "softmax", "sigmoid");
    /** Backward ops computed from their forward op's output rather than its input (which libnd4j's would recompute from). */
    private static final Map<String, String> FROM_OUTPUT = Map.of("sigmoid_bp", "sigmoid", "softmax_bp", "softmax");
    /** Backward ops that read these inputs for their shapes only: a split plan need not remake their values. */
    private static final Map<String, Set<Integer>> SHAPE_ONLY_INPUTS = Map.of("add_bp", Set.of(0, 1), "subtract_bp", Set.of(0, 1),
            "biasadd_bp", Set.of(0), "strided_slice_bp", Set.of(0), "reduce_sum_bp", Set.of(0), "reduce_mean_bp", Set.of(0));

    private final SameDiff sd;
    /** Plans by (outputs, placeholder shapes and types), least recently used first. */
    private final LinkedHashMap<String, Plan> plans = new LinkedHashMap<>(8, 0.75f, true);
    /** The split plan each slot's forward half ran on, for its backward half. */
    private final Map<Integer, Plan> slotPlans = new HashMap<>();
    private Profile profile;

    public PlannedExecutor(SameDiff sd) {
        this.sd = sd;
    }

    /** Times every op of later planned calls into {@code p}; {@code null} stops it. */
    public synchronized void profile(Profile p) {
        this.profile = p;
    }

    /** {@code sd.output(placeholders, outputs)}, as copies the caller owns. */
    public synchronized Map<String, INDArray> output(Map<String, INDArray> placeholders, String... outputs) {
        String key = key(placeholders, outputs);
        Plan plan = plans.get(key);
        if (plan != null && !plan.current()) {
            plans.remove(key);
            plan = null;
        }
        Map<String, INDArray> values;
        if (plan == null) {
            plan = new Plan(List.of(outputs), placeholders.keySet());
            values = plan.build(placeholders);
            plans.put(key, plan);
            if (plans.size() > MAX_PLANS) {
                Iterator<String> eldest = plans.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
        } else {
            values = plan.run(placeholders, profile);
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String o : outputs) out.put(o, values.get(o).dup());
        return out;
    }

    /**
     * The first half of a gradient function's execution: the ops that do not read the {@code later} placeholders (each
     * named with the forward value whose shape it has), for {@code slot}; returns copies of {@code forwardOutputs}.
     * The forward values the later ops read stay in the slot's own arrays until {@link #backward} of that slot, so a
     * training step runs each block's forward ops once (a slot per block), not again in its backward pass.
     */
    public synchronized Map<String, INDArray> forward(int slot, Map<String, INDArray> placeholders, Map<String, String> later,
                                                      List<String> forwardOutputs, List<String> laterOutputs) {
        List<String> all = new ArrayList<>(forwardOutputs);
        all.addAll(laterOutputs);
        String key = key(placeholders, all.toArray(String[]::new)) + "|later " + new TreeMap<>(later);
        Plan plan = plans.get(key);
        if (plan != null && !plan.current()) {
            plans.remove(key);
            plan = null;
        }
        if (plan == null) {
            plan = new Plan(all, placeholders.keySet(), later);
            plan.build(placeholders);   // both halves, the later ones on zeros: a dry run
            plans.put(key, plan);
            if (plans.size() > MAX_PLANS) {
                Iterator<String> eldest = plans.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
        }
        Map<INDArray, INDArray> arrays = plan.slot(slot);
        Map<String, INDArray> values = plan.runForward(placeholders, arrays, profile);
        slotPlans.put(slot, plan);
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String o : forwardOutputs) out.put(o, arrays.getOrDefault(values.get(o), values.get(o)).dup());
        return out;
    }

    /** The rest of the gradient function for {@code slot}, after its {@link #forward}: copies of {@code outputs}. */
    public synchronized Map<String, INDArray> backward(int slot, Map<String, INDArray> laterPlaceholders, List<String> outputs) {
        Plan plan = slotPlans.get(slot);
        if (plan == null) throw new IllegalStateException("backward for slot " + slot + " before its forward");
        Map<INDArray, INDArray> arrays = plan.slot(slot);
        Map<String, INDArray> values = plan.runBackward(laterPlaceholders, arrays, profile);
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String o : outputs) {
            INDArray v = values.get(o);
            if (v == null) throw new IllegalArgumentException("'" + o + "' was not planned as an output");
            out.put(o, arrays.getOrDefault(v, v).dup());
        }
        return out;
    }

    /** How many plans are held (one per distinct placeholder shapes and outputs, at most {@value MAX_PLANS}). */
    public synchronized int plans() {
        return plans.size();
    }

    /** Bytes of the buffers the plans hold (intermediates, outputs, placeholder copies and slots' arrays; not the weights). */
    public synchronized long bufferBytes() {
        return plans.values().stream().mapToLong(p -> p.bytes + p.slotBytes()).sum();
    }

    /** Forgets every plan and its buffers. */
    public synchronized void clear() {
        plans.clear();
        slotPlans.clear();
    }

    private static String key(Map<String, INDArray> placeholders, String[] outputs) {
        StringBuilder sb = new StringBuilder(String.join(",", outputs)).append('|');
        new TreeMap<>(placeholders).forEach((k, v) -> sb.append(k).append(Arrays.toString(v.shape())).append(v.dataType()).append(';'));
        return sb.toString();
    }

    /** Nanoseconds inside each kind of op, and the whole calls' wall time: the rest is the executor's own work. */
    public static final class Profile {
        private final Map<String, long[]> byOp = new TreeMap<>();
        private long wallNanos;
        private int calls;

        void op(String name, long nanos) {
            long[] t = byOp.computeIfAbsent(name, k -> new long[2]);
            t[0] += nanos;
            t[1]++;
        }

        /** Nanoseconds inside ops per call. */
        public double opNanosPerCall() {
            return byOp.values().stream().mapToLong(t -> t[0]).sum() / (double) Math.max(1, calls);
        }

        public double wallNanosPerCall() {
            return wallNanos / (double) Math.max(1, calls);
        }

        public long opsPerCall() {
            return byOp.values().stream().mapToLong(t -> t[1]).sum() / Math.max(1, calls);
        }

        /** Milliseconds in each kind of op, over all calls. */
        public Map<String, Double> msByOp() {
            Map<String, Double> m = new TreeMap<>();
            byOp.forEach((k, t) -> m.put(k, t[0] / 1e6));
            return m;
        }

        /** Ops timed, over all calls. */
        public long ops() {
            return byOp.values().stream().mapToLong(t -> t[1]).sum();
        }

        /** Milliseconds per call in each kind of op. */
        public Map<String, Double> msPerCallByOp() {
            Map<String, Double> m = new TreeMap<>();
            byOp.forEach((k, t) -> m.put(k, t[0] / 1e6 / Math.max(1, calls)));
            return m;
        }
    }

    /** One op, ready to run: its context holds its inputs, arguments and output buffers; or a kernel that replaces it. */
    private record Step(DifferentialFunction op, OpContext ctx, INDArray scalarArg, Kernel kernel, INDArray[] ins, INDArray[] outs) {
        /** {@code slot}: buffers replaced by a slot's own arrays (by identity), or null. */
        void run(Map<INDArray, INDArray> slot) {
            if (kernel != null) {
                kernel.run(slot == null ? a -> a : a -> slot.getOrDefault(a, a));
                return;
            }
            if (slot != null) {
                for (int i = 0; i < ins.length; i++) ctx.setInputArray(i, slot.getOrDefault(ins[i], ins[i]));
                for (int i = 0; i < outs.length; i++) ctx.setOutputArray(i, slot.getOrDefault(outs[i], outs[i]));
                if (scalarArg != null) ((ScalarOp) op).setScalar(slot.getOrDefault(scalarArg, scalarArg));
            } else if (scalarArg != null) {
                ((ScalarOp) op).setScalar(scalarArg);
            }
            exec(op, ctx);
        }

        List<INDArray> reads() {
            if (kernel != null) return kernel.reads();
            List<INDArray> all = new ArrayList<>(Arrays.asList(ins));
            if (scalarArg != null) all.add(scalarArg);
            return all;
        }

        List<INDArray> writes() {
            return kernel != null ? kernel.writes() : Arrays.asList(outs);
        }

        String name() {
            return kernel != null ? kernel.name() : op.opName();
        }
    }

    private final class Plan {
        private final List<String> outputs;
        private final Set<String> placeholderNames;
        private final List<Step> steps = new ArrayList<>();
        /** The plan's own copies of the placeholders, which the steps read. */
        private final Map<String, INDArray> placeholderBuffers = new HashMap<>();
        /** The variable and constant arrays the steps were given, to notice a replaced one. */
        private final Map<String, INDArray> bound = new HashMap<>();
        private final Map<String, INDArray> results = new HashMap<>();
        /** Split plans only: the backward ops' placeholders, each with the forward value whose shape it has. */
        private final Map<String, String> later;
        /** Split plans only: the first backward step, the buffers that carry forward values into the backward ops, and which steps touch them. */
        private int splitStep = -1;
        private final Set<INDArray> saved = Collections.newSetFromMap(new IdentityHashMap<>());
        /** Split plans only: the forward ops run again, in their order, before the backward ops (those whose values are cheap to remake). */
        private final Set<String> replayed = new HashSet<>();
        private final List<Integer> replaySteps = new ArrayList<>();
        private boolean[] touching;
        private final Map<Integer, Map<INDArray, INDArray>> slots = new HashMap<>();
        /** Reshapes planned as views: each view, with the buffer it shares (whose readers it counts among). */
        private final Map<INDArray, INDArray> views = new IdentityHashMap<>();
        /** The outputs of the forward ops whose backward reads them instead ({@link #FROM_OUTPUT}), by {@link #forwardKey}; made on first use. */
        private Map<String, String> forwardOutputs;
        private long bytes;

        Plan(List<String> outputs, Set<String> placeholderNames) {
            this(outputs, placeholderNames, Map.of());
        }

        Plan(List<String> outputs, Set<String> placeholderNames, Map<String, String> later) {
            this.outputs = outputs;
            this.placeholderNames = placeholderNames;
            this.later = later;
        }

        boolean current() {
            for (Map.Entry<String, INDArray> e : bound.entrySet())
                if (sd.getArrForVarName(e.getKey()) != e.getValue()) return false;
            return true;
        }

        /** Plans while executing once: each op's shapes are computed from its real inputs. */
        Map<String, INDArray> build(Map<String, INDArray> placeholders) {
            List<SameDiffOp> order = order();
            int split = later.isEmpty() ? order.size() : forwardFirst(order);
            Set<String> anchors = later.isEmpty() ? Set.of() : anchorsAndReplays(order, split, placeholders.keySet());
            // Last step reading each value; requested outputs are read after the last step.
            Map<String, Integer> lastUse = new HashMap<>();
            for (int i = 0; i < order.size(); i++)
                for (String in : inputs(order.get(i))) lastUse.put(in, i);
            for (String o : outputs) lastUse.put(o, Integer.MAX_VALUE);
            // A saved value's buffer is never handed to another op, nor written over in place: the slots' arrays stand in for it.
            for (String a : anchors) lastUse.put(a, Integer.MAX_VALUE);

            for (Map.Entry<String, INDArray> e : placeholders.entrySet()) {
                DataType dt = sd.getVariable(e.getKey()).dataType();
                INDArray own = Nd4j.createUninitialized(dt, e.getValue().shape(), 'c');
                own.assign(e.getValue());
                placeholderBuffers.put(e.getKey(), own);
            }
            Map<String, INDArray> values = new HashMap<>();
            // Values sharing a buffer (Identity passes its input through): buffer → names still to be read.
            Map<INDArray, Set<String>> readers = new IdentityHashMap<>();
            Pool pool = new Pool();
            Map<String, SliceGradients.Group> sliceGroups = SliceGradients.find(order, outputs, this::inputs);
            // Saved buffers are known as they are made: a slot's arrays stand in for them by identity, which a view of one would escape.
            for (String a : anchors) if (placeholderBuffers.containsKey(a)) saved.add(placeholderBuffers.get(a));
            for (int i = 0; i < order.size(); i++) {
                if (i == split) {
                    splitStep = steps.size();
                    // Planned with zeros of the shapes they will have: the backward ops' first real run is runBackward's.
                    later.forEach((name, like) -> placeholderBuffers.put(name, Nd4j.zeros(sd.getVariable(name).dataType(), input(like, values).shape())));
                }
                SameDiffOp sdo = order.get(i);
                DifferentialFunction df = sdo.getOp();
                List<String> ins = inputs(sdo);
                INDArray[] args = new INDArray[ins.size()];
                for (int a = 0; a < args.length; a++) args[a] = input(ins.get(a), values);
                List<String> outs = sdo.getOutputsOfOp();
                OpContext oc = Nd4j.getExecutioner().buildContext();
                INDArray scalarArg = null;
                Kernel kernel = null;
                INDArray[] stepIns = args;
                INDArray[] outArrs;
                SliceGradients.Group group = sliceGroups.get(sdo.getName());
                boolean alias = true;   // no step: the outputs are buffers already there
                if (df instanceof Identity) {
                    outArrs = new INDArray[]{args[0]};
                } else if (group != null && group.isSum(sdo)) {
                    outArrs = new INDArray[]{group.sum()};   // each slice has written its part of the sum already
                } else if (sameShapeAddBackward(df, args)) {
                    outArrs = new INDArray[]{args[2], args[2]};   // both gradients are the upstream one
                } else if (group != null) {
                    alias = false;
                    String out = outs.get(0);
                    kernel = group.slice(sdo, args[0], args[1], shape -> buffer(out, LongShapeDescriptor.fromShape(shape, sd.getVariable(out).dataType()), lastUse, pool));
                    kernel.run(a -> a);
                    outArrs = new INDArray[]{group.sum()};
                } else if (FROM_OUTPUT.containsKey(df.opName()) && !ins.equals(sdo.getInputsToOp())) {
                    alias = false;
                    INDArray gx = buffer(outs.get(0), LongShapeDescriptor.fromShape(args[0].shape(), sd.getVariable(outs.get(0)).dataType()), lastUse, pool);
                    long[] dims = df instanceof DynamicCustomOp d ? d.iArgs() : new long[0];
                    kernel = df.opName().equals("sigmoid_bp") ? new SigmoidBackward(args[0], args[1], gx)
                            : new SoftmaxBackward(args[0], args[1], gx, dims.length == 0 ? args[0].rank() - 1 : Shape.normalizeAxis(args[0].rank(), new int[]{(int) dims[0]})[0]);
                    kernel.run(a -> a);
                    outArrs = new INDArray[]{gx};
                } else if (df.opName().equals("biasadd_bp") && args.length == 3 && Arrays.equals(args[0].shape(), args[2].shape())
                        && args[0].dataType() == args[2].dataType()) {
                    alias = false;
                    boolean nchw = ((DynamicCustomOp) df).bArgs().length > 0 && ((DynamicCustomOp) df).bArgs()[0];
                    String biasGrad = outs.get(1);
                    INDArray gb = buffer(biasGrad, LongShapeDescriptor.fromShape(args[1].shape(), sd.getVariable(biasGrad).dataType()), lastUse, pool);
                    kernel = new BiasAddBackward(args[2], gb, nchw ? 1 : args[2].rank() - 1);
                    kernel.run(a -> a);
                    outArrs = new INDArray[]{args[2], gb};   // the input's gradient is the upstream one, passed on
                } else {
                    alias = false;
                    List<LongShapeDescriptor> shapes;
                    if (df instanceof CustomOp) {
                        DynamicCustomOp op = (DynamicCustomOp) df;
                        oc.setArgs(args, op.iArgs(), op.dArgs(), op.tArgs(), op.bArgs());
                        shapes = op.calculateOutputShape(oc);
                    } else if (df instanceof Op) {
                        boolean axisArg = false;
                        if (df instanceof ReduceOp && ((ReduceOp) df).getOpType() != Op.Type.REDUCE3 && args.length == 2) {
                            if (args[1].isEmpty()) throw new UnsupportedOperationException("reduction over an empty axis list in " + df.getOwnName());
                            df.setDimensions(Shape.normalizeAxis(args[0].rank(), args[1].toIntVector()));
                            ((BaseReduceOp) df).setEmptyReduce(false);
                            axisArg = true;
                        } else if (df instanceof ScalarOp && args.length == 2) {
                            scalarArg = args[1];
                            ((ScalarOp) df).setScalar(scalarArg);
                        }
                        if (args.length > 0) oc.setInputArray(0, args[0]);
                        if (args.length == 2 && !axisArg) oc.setInputArray(1, args[1]);
                        stepIns = args.length == 0 ? args : Arrays.copyOf(args, args.length == 2 && !axisArg ? 2 : 1);
                        shapes = df.calculateOutputShape(oc);
                    } else {
                        throw new UnsupportedOperationException("op " + df.opName() + " (" + df.getClass().getSimpleName() + ") cannot be planned");
                    }
                    if (shapes == null || shapes.size() != outs.size())
                        throw new IllegalStateException("op " + df.getOwnName() + ": " + (shapes == null ? 0 : shapes.size()) + " output shapes for " + outs.size() + " outputs");
                    INDArray view = df.opName().equals("reshape") && !anchors.contains(outs.get(0)) && !saved.contains(shared(args[0]))
                            && sd.getVariable(outs.get(0)).dataType() == args[0].dataType() ? viewOf(args[0], shapes.get(0).getShape()) : null;
                    if (view != null) {
                        views.put(view, shared(args[0]));
                        outArrs = new INDArray[]{view};
                        alias = true;
                    } else {
                        // An elementwise op may write over an input that dies with it.
                        if (inPlaceSafe(df))
                            for (String in : new LinkedHashSet<>(ins)) release(in, i, lastUse, values, readers, pool);
                        outArrs = new INDArray[outs.size()];
                        for (int k = 0; k < outArrs.length; k++) {
                            LongShapeDescriptor s = shapes.get(k);
                            DataType dt = sd.getVariable(outs.get(k)).dataType();   // as SameDiff's session: the variable's type wins
                            if (s.dataType() != dt) s = s.asDataType(dt);
                            outArrs[k] = buffer(outs.get(k), s, lastUse, pool);
                        }
                        oc.setOutputArrays(outArrs);
                        if (df instanceof MulBpOp && BroadcastMulBackward.applies(args[0], args[1], outArrs[0], outArrs[1])) {
                            INDArray scratch = pool.take(LongShapeDescriptor.fromShape(args[2].shape(), args[2].dataType()));
                            kernel = new BroadcastMulBackward(args[0], args[1], args[2], outArrs[0], outArrs[1], scratch);
                            kernel.run(a -> a);
                            pool.give(scratch);   // free again once the kernel has run: later steps may use it
                        } else {
                            exec(df, oc);
                        }
                    }
                }
                for (int k = 0; k < outs.size(); k++) {
                    values.put(outs.get(k), outArrs[k]);
                    readers.computeIfAbsent(shared(outArrs[k]), a -> Collections.newSetFromMap(new HashMap<>())).add(outs.get(k));
                    if (anchors.contains(outs.get(k))) saved.add(shared(outArrs[k]));
                }
                if (!alias) {
                    steps.add(new Step(df, oc, scalarArg, kernel, stepIns, outArrs));
                    if (i < split && replayed.contains(sdo.getName())) replaySteps.add(steps.size() - 1);
                }
                // Values nobody reads later go back to the pool (outputs never read at all, too).
                for (String in : new LinkedHashSet<>(ins)) release(in, i, lastUse, values, readers, pool);
                for (String o : outs) release(o, i, lastUse, values, readers, pool);
            }
            for (String o : outputs) results.put(o, input(o, values));
            if (!later.isEmpty()) findTouching();
            Set<INDArray> held = Collections.newSetFromMap(new IdentityHashMap<>());
            held.addAll(pool.made);
            held.addAll(results.values());
            held.addAll(placeholderBuffers.values());
            for (INDArray a : held) bytes += a.length() * a.dataType().width();
            return results;
        }

        /** The buffer {@code a} is: itself, or the one a planned reshape view of it shares. */
        private INDArray shared(INDArray a) {
            return views.getOrDefault(a, a);
        }

        /** {@code a} reshaped as a view of the same memory (a c-ordered array with default strides), or null where that would copy. */
        private static INDArray viewOf(INDArray a, long[] shape) {
            if (a.ordering() != 'c' || !Shape.hasDefaultStridesForShape(a) || a.isEmpty()) return null;
            INDArray v = a.reshape('c', shape);
            return v.data().address() == a.data().address() && v.offset() == a.offset() ? v : null;
        }

        /** A new buffer for value {@code name}: its own array if it outlives the plan's steps (an output, a saved value), else the pool's. */
        private INDArray buffer(String name, LongShapeDescriptor s, Map<String, Integer> lastUse, Pool pool) {
            return lastUse.getOrDefault(name, -1) == Integer.MAX_VALUE ? Nd4j.create(s, false) : pool.take(s);
        }

        /** Returns a value's buffer to the pool when no later step reads it or any value sharing it. */
        private void release(String name, int step, Map<String, Integer> lastUse, Map<String, INDArray> values,
                             Map<INDArray, Set<String>> readers, Pool pool) {
            INDArray arr = values.get(name);
            if (arr == null || lastUse.getOrDefault(name, -1) > step) return;
            arr = shared(arr);
            Set<String> r = readers.get(arr);
            if (r == null || !r.remove(name) || !r.isEmpty()) return;
            readers.remove(arr);
            pool.give(arr);
        }

        Map<String, INDArray> run(Map<String, INDArray> placeholders, Profile p) {
            long start = System.nanoTime();
            for (Map.Entry<String, INDArray> e : placeholders.entrySet()) placeholderBuffers.get(e.getKey()).assign(e.getValue());
            runSteps(0, steps.size(), null, p);
            if (p != null) {
                p.wallNanos += System.nanoTime() - start;
                p.calls++;
            }
            return results;
        }

        /**
         * Which forward values the backward ops need, and how each is had: the forward placeholders and the outputs of the
         * costly ops ({@link #KEPT_OPS}) are kept in the slots' arrays (returned); every other one is remade by running its
         * op again before the backward ops (recorded in {@link #replayed}), from kept values and other remade ones.
         */
        private Set<String> anchorsAndReplays(List<SameDiffOp> order, int split, Set<String> forwardPlaceholders) {
            Map<String, SameDiffOp> producer = new HashMap<>();
            Map<String, String> alias = new HashMap<>();   // Identity passes its input's buffer through
            for (int i = 0; i < split; i++) {
                SameDiffOp sdo = order.get(i);
                if (sdo.getOp() instanceof Identity) alias.put(sdo.getOutputsOfOp().get(0), inputs(sdo).get(0));
                else for (String o : sdo.getOutputsOfOp()) producer.put(o, sdo);
            }
            Set<String> anchors = new HashSet<>(), seen = new HashSet<>();
            Deque<String> work = new ArrayDeque<>();
            for (int i = split; i < order.size(); i++) work.addAll(valuesRead(order.get(i)));
            while (!work.isEmpty()) {
                String n = work.pop();
                while (alias.containsKey(n)) n = alias.get(n);
                if (!seen.add(n)) continue;
                SameDiffOp op = producer.get(n);
                if (forwardPlaceholders.contains(n) || (op != null && KEPT_OPS.contains(op.getOp().opName()))) {
                    anchors.add(n);
                } else if (op != null) {
                    replayed.add(op.getName());
                    work.addAll(inputs(op));
                }
            }
            return anchors;
        }

        /** Reorders {@code order} in place, the ops that do not read the later placeholders (even indirectly) first; returns their count. */
        private int forwardFirst(List<SameDiffOp> order) {
            Set<String> dependent = new HashSet<>(later.keySet());
            List<SameDiffOp> forward = new ArrayList<>(), backward = new ArrayList<>();
            for (SameDiffOp sdo : order) {
                boolean reads = inputs(sdo).stream().anyMatch(dependent::contains);
                if (reads) dependent.addAll(sdo.getOutputsOfOp());
                (reads ? backward : forward).add(sdo);
            }
            order.clear();
            order.addAll(forward);
            order.addAll(backward);
            return forward.size();
        }

        /** Which steps read or write a saved buffer: those a slot's arrays stand in for. */
        private void findTouching() {
            touching = new boolean[steps.size()];
            for (int i = 0; i < steps.size(); i++) {
                Step st = steps.get(i);
                touching[i] = st.reads().stream().anyMatch(saved::contains) || st.writes().stream().anyMatch(saved::contains);
            }
        }

        private void runSteps(int from, int to, Map<INDArray, INDArray> slot, Profile p) {
            for (int i = from; i < to; i++) {
                Step s = steps.get(i);
                Map<INDArray, INDArray> sub = slot != null && touching[i] ? slot : null;
                if (p == null) {
                    s.run(sub);
                } else {
                    long t = System.nanoTime();
                    s.run(sub);
                    p.op(s.name(), System.nanoTime() - t);
                }
            }
        }

        /** The forward ops of a split plan for {@code slot}: the slot's arrays stand in for every buffer the backward ops read. */
        Map<String, INDArray> runForward(Map<String, INDArray> placeholders, Map<INDArray, INDArray> slot, Profile p) {
            long start = System.nanoTime();
            for (Map.Entry<String, INDArray> e : placeholders.entrySet()) {
                INDArray own = placeholderBuffers.get(e.getKey());
                slot.getOrDefault(own, own).assign(e.getValue());
            }
            runSteps(0, splitStep, slot, p);
            if (p != null) {
                p.wallNanos += System.nanoTime() - start;
                p.calls++;
            }
            return results;
        }

        /** The backward ops of a split plan for {@code slot}, after its forward ops. */
        Map<String, INDArray> runBackward(Map<String, INDArray> laterPlaceholders, Map<INDArray, INDArray> slot, Profile p) {
            long start = System.nanoTime();
            for (String name : later.keySet()) {
                INDArray given = laterPlaceholders.get(name);
                if (given == null) throw new IllegalArgumentException("no array was given for placeholder '" + name + "'");
                INDArray own = placeholderBuffers.get(name);
                if (!Arrays.equals(own.shape(), given.shape()))
                    throw new IllegalArgumentException("placeholder '" + name + "' has shape " + Arrays.toString(given.shape()) + ", planned for " + Arrays.toString(own.shape()));
                own.assign(given);
            }
            for (int i : replaySteps) runSteps(i, i + 1, slot, p);
            runSteps(splitStep, steps.size(), slot, p);
            if (p != null) {
                p.wallNanos += System.nanoTime() - start;
                p.calls++;
            }
            return results;
        }

        long slotBytes() {
            return slots.values().stream().flatMap(m -> m.values().stream()).mapToLong(a -> a.length() * a.dataType().width()).sum();
        }

        /** A slot's own arrays for the saved buffers, made on its first use and kept for the next. */
        Map<INDArray, INDArray> slot(int index) {
            return slots.computeIfAbsent(index, k -> {
                Map<INDArray, INDArray> m = new IdentityHashMap<>();
                for (INDArray b : saved) m.put(b, Nd4j.createUninitialized(b.dataType(), b.shape(), b.ordering()));
                return m;
            });
        }

        private INDArray input(String name, Map<String, INDArray> values) {
            SDVariable v = sd.getVariable(name);
            if (v.getVariableType() == VariableType.PLACEHOLDER) {
                INDArray ph = placeholderBuffers.get(name);
                if (ph == null) throw new IllegalArgumentException("no array was given for placeholder '" + name + "'");
                return ph;
            }
            if (v.getVariableType() == VariableType.VARIABLE || v.isConstant()) {
                INDArray arr = sd.getArrForVarName(name);
                bound.put(name, arr);
                return arr;
            }
            INDArray arr = values.get(name);
            if (arr == null) throw new IllegalStateException("value '" + name + "' is read before it is computed");
            return arr;
        }

        /** The inputs whose values (not only shapes) an op reads. */
        private List<String> valuesRead(SameDiffOp sdo) {
            Set<Integer> shapeOnly = SHAPE_ONLY_INPUTS.get(sdo.getOp().opName());
            List<String> ins = inputs(sdo);
            if (shapeOnly == null) return ins;
            List<String> read = new ArrayList<>();
            for (int i = 0; i < ins.size(); i++) if (!shapeOnly.contains(i)) read.add(ins.get(i));
            return read;
        }

        /**
         * An op's inputs; {@code sigmoid_bp} and {@code softmax_bp} read their forward op's output in place of its input
         * ({@link SigmoidBackward}, {@link SoftmaxBackward}).
         */
        private List<String> inputs(SameDiffOp sdo) {
            List<String> ins = sdo.getInputsToOp() == null ? List.of() : sdo.getInputsToOp();
            String forward = FROM_OUTPUT.get(sdo.getOp().opName());
            if (forward == null || ins.size() != 2) return ins;
            if (forwardOutputs == null) {
                forwardOutputs = new HashMap<>();
                for (SameDiffOp op : sd.getOps().values())
                    if (FROM_OUTPUT.containsValue(op.getOp().opName()) && op.getInputsToOp() != null && op.getInputsToOp().size() == 1)
                        forwardOutputs.put(forwardKey(op.getOp(), op.getInputsToOp().get(0)), op.getOutputsOfOp().get(0));
            }
            String y = forwardOutputs.get(forwardKey(forward, sdo.getOp(), ins.get(0)));
            return y == null ? ins : List.of(y, ins.get(1));
        }

        /** A forward op of {@link #FROM_OUTPUT} by kind, input and integer arguments (softmax's dimension). */
        private static String forwardKey(DifferentialFunction op, String input) {
            return forwardKey(op.opName(), op, input);
        }

        private static String forwardKey(String kind, DifferentialFunction op, String input) {
            long[] dims = op instanceof DynamicCustomOp d ? d.iArgs() : new long[0];
            return kind + " " + Arrays.toString(dims) + " " + input;
        }

        /** The ops the outputs need, each after the ops it reads from (depth-first, iterative: graphs are deep). */
        private List<SameDiffOp> order() {
            Map<String, SameDiffOp> ops = sd.getOps();
            Map<String, Variable> vars = sd.getVariables();
            List<SameDiffOp> order = new ArrayList<>();
            Set<String> done = new HashSet<>(), entered = new HashSet<>();
            Deque<String> stack = new ArrayDeque<>();
            for (String o : outputs) {
                if (!vars.containsKey(o)) throw new IllegalArgumentException("the graph has no variable '" + o + "'");
                String producer = vars.get(o).getOutputOfOp();
                if (producer != null) stack.push(producer);
                else if (placeholderNames.contains(o)) throw new IllegalArgumentException("'" + o + "' is a placeholder, not an output");
            }
            while (!stack.isEmpty()) {
                String name = stack.peek();
                if (done.contains(name)) {
                    stack.pop();
                    continue;
                }
                SameDiffOp sdo = ops.get(name);
                if (entered.add(name)) {
                    if (notEmpty(sdo.getControlDeps()) || notEmpty(sdo.getVarControlDeps()))
                        throw new UnsupportedOperationException("op " + name + " has control dependencies");
                    for (String in : inputs(sdo)) {
                        String producer = vars.get(in).getOutputOfOp();
                        if (producer != null && !done.contains(producer)) {
                            if (entered.contains(producer)) throw new IllegalStateException("the graph has a cycle through " + producer);
                            stack.push(producer);
                        }
                    }
                } else {
                    stack.pop();
                    done.add(name);
                    order.add(sdo);
                }
            }
            return order;
        }
    }

    private static boolean notEmpty(List<String> l) {
        return l != null && !l.isEmpty();
    }

    /** {@code add_bp} of two operands of the upstream gradient's shape and type: both gradients are that gradient. */
    private static boolean sameShapeAddBackward(DifferentialFunction df, INDArray[] args) {
        if (!df.opName().equals("add_bp") || args.length != 3) return false;
        for (int i = 0; i < 2; i++)
            if (!Arrays.equals(args[i].shape(), args[2].shape()) || args[i].dataType() != args[2].dataType()) return false;
        return true;
    }

    private static boolean inPlaceSafe(DifferentialFunction df) {
        if (df instanceof CustomOp) return ELEMENTWISE.contains(df.opName());
        // Legacy transforms and scalar ops are elementwise, except is_max (a reduction along dimensions written as a transform).
        return (df instanceof TransformOp || df instanceof ScalarOp) && !df.opName().equalsIgnoreCase("ismax");
    }

    private static void exec(DifferentialFunction df, OpContext oc) {
        if (df instanceof CustomOp) Nd4j.exec((CustomOp) df, oc);
        else Nd4j.exec((Op) df, oc);
    }

    /** The plan's intermediate buffers, free ones by exact shape, strides, order and type. */
    private static final class Pool {
        private final Map<String, Deque<INDArray>> free = new HashMap<>();
        /** Only buffers the pool made are ever handed out again (never a variable, constant or placeholder passed through). */
        private final Set<INDArray> made = Collections.newSetFromMap(new IdentityHashMap<>());

        INDArray take(LongShapeDescriptor s) {
            Deque<INDArray> q = s.isEmpty() ? null : free.get(key(s));
            if (q != null && !q.isEmpty()) return q.pop();
            INDArray arr = Nd4j.create(s, false);
            made.add(arr);
            return arr;
        }

        void give(INDArray arr) {
            if (arr.isEmpty() || !made.contains(arr)) return;
            LongShapeDescriptor s = LongShapeDescriptor.fromShape(arr.shape(), arr.stride(), arr.elementWiseStride(), arr.ordering(), arr.dataType(), false);
            free.computeIfAbsent(key(s), k -> new ArrayDeque<>()).push(arr);
        }

        private static String key(LongShapeDescriptor s) {
            return Arrays.toString(s.getShape()) + Arrays.toString(s.getStride()) + s.getOrder() + s.dataType();
        }
    }
}
