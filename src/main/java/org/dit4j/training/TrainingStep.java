package org.dit4j.training;

import org.dit4j.diffusion.DiffusionLoss;
import org.dit4j.diffusion.EpsilonObjective;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.models.Conditioning;
import org.dit4j.models.StagedModel;
import org.dit4j.models.StagedModel.BlockCall;
import org.dit4j.models.StagedModel.StateSpec;
import org.dit4j.models.nn.SameDiffParams;
import org.dit4j.runtime.Execution;
import org.dit4j.runtime.PlannedExecutor;
import org.dit4j.util.Graphs;
import org.dit4j.util.Quiet;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.*;

/**
 * The diffusion loss of a model and its gradients, computed stage by stage with the model's own building blocks
 * ({@link StagedModel}), one block at a time. A whole-graph backward keeps every intermediate of every block alive at
 * once, since SameDiff frees nothing before an execution returns: ~1.1 GB per DiT-S/2 sample, 20 GB at batch 8. With
 * the planned executor the forward pass runs each block's gradient function up to its backward ops and keeps, per block,
 * the outputs of its matrix products, softmax and sigmoid; the backward pass remakes the block's other elementwise values
 * from them ({@link org.dit4j.runtime.PlannedExecutor#forward}). With SameDiff's session it keeps each block's inputs only and
 * recomputes the block's whole forward pass in its backward (gradient checkpointing by hand).
 * <p>
 * Graphs: the embedding stage and the head (final layer and loss) read the model's arrays directly
 * ({@link SameDiffParams} over them); one graph per block kind serves every block of that kind, its weights copied in
 * before each use (one SameDiff session and array cache per kind, not one per depth). Gradients chain through the
 * carried state: a block's surrogate loss Σ output·∂L/∂output has the parameter and input gradients of the chain rule.
 */
public final class TrainingStep {
    /** Loss terms (per sample and mean) and the gradient of the mean loss for every trainable parameter. */
    public record Result(INDArray mse, INDArray vb, INDArray loss, double lossMean, Map<String, INDArray> gradients) {}

    private static final String UPSTREAM = "upstream_", BLOCK = "block", SURROGATE = "surrogate";

    /** One block kind's graph: its parameters (named {@code block.<suffix>}), local inputs and outputs. */
    private record BlockGraph(SameDiff sd, List<String> params, Set<String> inputs, Map<String, String> outputNames, List<String> wrt) {
        /** Each upstream-gradient placeholder, with the output whose shape it has. */
        Map<String, String> upstreamShapedLike() {
            Map<String, String> m = new HashMap<>();
            outputNames.forEach((local, variable) -> m.put(UPSTREAM + local, variable));
            return m;
        }
    }

    private final StagedModel model;
    private final Map<String, INDArray> weights;   // the model's live arrays, by official name
    private final Map<String, StateSpec> specs;
    private final DiffusionLoss loss;               // ADM's training_losses (DiT), or null
    private final EpsilonObjective epsilon;         // U-ViT's LSimple, or null
    private final SameDiff stem = Graphs.create(), head = Graphs.create();
    private final Map<String, BlockGraph> blocks = new LinkedHashMap<>();
    private final Map<String, String> stemOutputs = new LinkedHashMap<>();   // state name → stem graph variable
    private final List<String> trainable = new ArrayList<>(), stemParams = new ArrayList<>(), headParams = new ArrayList<>();
    private final List<String> differentiable = new ArrayList<>();
    private final boolean learnedSigma;
    /** Runs the stage graphs and their gradient functions (the planned executor unless -Ddit4j.executor=samediff). */
    private final Execution execution = new Execution();

    public TrainingStep(StagedModel model, GaussianDiffusion diffusion) {
        this(model, new DiffusionLoss(diffusion), diffusion.varType() == GaussianDiffusion.VarType.LEARNED_RANGE, null);
    }

    /** U-ViT's objectives: {@code mos(ε − ε̂)}, the mean differentiated ({@link #compute(INDArray, double[], INDArray, Conditioning)}). */
    public TrainingStep(StagedModel model, EpsilonObjective objective) {
        this(model, null, false, objective);
    }

    private TrainingStep(StagedModel model, DiffusionLoss loss, boolean learnedSigma, EpsilonObjective epsilon) {
        this.model = model;
        this.loss = loss;
        this.epsilon = epsilon;
        this.learnedSigma = learnedSigma;
        this.weights = model.stateDict();
        this.specs = model.stateSpecs();
        for (String name : model.parameterShapes().keySet()) if (model.isTrainable(name)) trainable.add(name);
        specs.forEach((name, spec) -> { if (spec.differentiable()) differentiable.add(name); });

        // Embedding stage; its surrogate Σ state·∂L/∂state has the parameter gradients of the chain rule.
        SameDiffParams sp = new SameDiffParams(stem, weights);
        Map<String, SDVariable> state = model.embed(sp, model.declareInputs(stem));
        SDVariable surrogate = null;
        for (String name : specs.keySet()) {
            SDVariable v = state.get(name);
            if (v == null) throw new IllegalStateException("the embedding stage does not produce the carried state '" + name + "'");
            stemOutputs.put(name, v.name());
            if (!differentiable.contains(name)) continue;
            SDVariable term = v.mul(stem.placeHolder(UPSTREAM + name, DataType.FLOAT, batched(specs.get(name).shape()))).sum();
            surrogate = surrogate == null ? term : surrogate.add(term);
        }
        surrogate.rename(SURROGATE);
        stem.setLossVariables(SURROGATE);
        stemParams.addAll(trainableOf(sp));

        for (BlockCall call : model.blockCalls()) blocks.computeIfAbsent(call.kind(), k -> blockGraph(call));

        // Final layer and the diffusion loss.
        SameDiffParams hp = new SameDiffParams(head, weights);
        Map<String, SDVariable> headState = new LinkedHashMap<>();
        specs.forEach((name, spec) -> headState.put(name, head.placeHolder(name, DataType.FLOAT, batched(spec.shape()))));
        SDVariable prediction = model.head(hp, headState, model.declareInputs(head));
        if (loss != null) loss.build(head, prediction, model.paddedSamples(), model.sampleShape());
        else EpsilonObjective.build(head, prediction, model.sampleShape());
        head.setLossVariables(loss != null ? DiffusionLoss.LOSS_MEAN : EpsilonObjective.LOSS_MEAN);
        headParams.addAll(trainableOf(hp));

        // The placeholders whose gradients chain the stages are named: with a plain createGradFunction() the head's
        // ∂L/∂tokens came back null.
        Quiet.run(stem::createGradFunction);
        for (BlockGraph g : blocks.values()) Quiet.run(() -> g.sd().createGradFunction(g.inputs().stream()
                .filter(g.wrt()::contains).toArray(String[]::new)));
        Quiet.run(() -> head.createGradFunction(differentiable.toArray(String[]::new)));
    }

    /** One graph for every block of {@code call}'s kind, with placeholders for its inputs and upstream gradients. */
    private BlockGraph blockGraph(BlockCall call) {
        SameDiff g = Graphs.create();
        SameDiffParams bp = new SameDiffParams(g);
        Map<String, SDVariable> in = new LinkedHashMap<>();
        call.reads().forEach((local, state) -> in.put(local, g.placeHolder(local, DataType.FLOAT, batched(specs.get(state).shape()))));
        Map<String, SDVariable> out = model.block(call.kind(), bp, BLOCK, in);
        Map<String, String> outputNames = new LinkedHashMap<>();
        SDVariable surrogate = null;
        for (String local : new LinkedHashSet<>(call.writes().values())) {
            SDVariable v = out.get(local);
            if (v == null) throw new IllegalStateException("block kind " + call.kind() + " does not produce '" + local + "'");
            outputNames.put(local, v.name());
            SDVariable term = v.mul(g.placeHolder(UPSTREAM + local, DataType.FLOAT, batched(specs.get(stateOf(call, local)).shape()))).sum();
            surrogate = surrogate == null ? term : surrogate.add(term);
        }
        surrogate.rename(SURROGATE);
        g.setLossVariables(SURROGATE);
        List<String> wrt = new ArrayList<>(bp.shapes().keySet());
        call.reads().forEach((local, state) -> { if (differentiable.contains(state)) wrt.add(local); });
        return new BlockGraph(g, new ArrayList<>(bp.shapes().keySet()), in.keySet(), outputNames, wrt);
    }

    /** The (first) carried state that block output {@code local} is written to. */
    private static String stateOf(BlockCall call, String local) {
        return call.writes().entrySet().stream().filter(e -> e.getValue().equals(local)).findFirst().orElseThrow().getKey();
    }

    private List<String> trainableOf(SameDiffParams p) {
        return p.shapes().keySet().stream().filter(trainable::contains).toList();
    }

    private static long[] batched(long[] shape) {
        long[] s = new long[shape.length + 1];
        s[0] = -1;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }

    /** One forward and backward pass: x0 (N, sample shape), respaced timesteps t, Gaussian noise, the conditioning (after any dropout). */
    public Result compute(INDArray x0, long[] t, INDArray noise, Conditioning cond, GaussianDiffusion diffusion) {
        if (loss == null) throw new IllegalStateException("this step was built for an epsilon objective");
        Map<String, INDArray> lossPh = loss.placeholders(x0, t, noise);
        if (model.paddedSamples()) lossPh.putAll(DiffusionLoss.maskPlaceholders(model.tokenMask(cond), model.sampleShape()[0]));
        return compute(model.inputs(lossPh.get(DiffusionLoss.X_T), diffusion.modelTimesteps(t), cond), lossPh);
    }

    /**
     * ADM's loss on inputs prepared elsewhere: the model's placeholders ({@link StagedModel#inputs}) and the loss's
     * ({@link DiffusionLoss#placeholders}, or {@link DiffusionLoss#unpackLabels} of a DL4J label matrix).
     */
    public Result compute(Map<String, INDArray> modelInputs, Map<String, INDArray> lossPlaceholders) {
        if (loss == null) throw new IllegalStateException("this step was built for an epsilon objective");
        List<String> lossOutputs = learnedSigma
                ? List.of(DiffusionLoss.MSE, DiffusionLoss.VB, DiffusionLoss.LOSS, DiffusionLoss.LOSS_MEAN)
                : List.of(DiffusionLoss.MSE, DiffusionLoss.LOSS, DiffusionLoss.LOSS_MEAN);
        return run(modelInputs, lossPlaceholders, lossOutputs, lossPlaceholders.get(DiffusionLoss.X_START).size(0));
    }

    /**
     * The epsilon objective's step: x0 (N, sample shape), times (continuous t or discrete n, as
     * {@link EpsilonObjective#drawTimes} gives them), ε, the conditioning. {@code mse} and {@code loss} are both the per-sample {@code mos}.
     */
    public Result compute(INDArray x0, double[] t, INDArray noise, Conditioning cond) {
        if (epsilon == null) throw new IllegalStateException("this step was built for ADM's training_losses");
        EpsilonObjective.Noised noised = epsilon.noise(x0, t, noise);
        Map<String, INDArray> lossPh = Map.of(EpsilonObjective.NOISE, noise.castTo(DataType.FLOAT));
        Map<String, INDArray> modelPh = model.inputs(noised.xt(), noised.modelTimes(), cond);
        return run(modelPh, lossPh, List.of(EpsilonObjective.LOSS, EpsilonObjective.LOSS_MEAN), x0.size(0));
    }

    private Result run(Map<String, INDArray> modelPh, Map<String, INDArray> lossPh, List<String> lossOutputs, long batch) {
        Map<String, INDArray> grads = new HashMap<>();

        // Forward: every stage's outputs are copies the step owns.
        Map<String, INDArray> state = new LinkedHashMap<>();
        Map<String, INDArray> embedded = execution.output(stem, modelPh, stemOutputs.values().toArray(String[]::new));
        stemOutputs.forEach((name, variable) -> state.put(name, embedded.get(variable)));
        List<BlockCall> calls = model.blockCalls();
        // With the planned executor each block's forward values stay in its own slot for the backward pass; SameDiff's
        // session recomputes them there from the block's inputs.
        boolean keep = Execution.mode() == Execution.Mode.PLANNED;
        List<Map<String, INDArray>> blockInputs = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            BlockCall call = calls.get(i);
            BlockGraph g = blocks.get(call.kind());
            Map<String, INDArray> in = new HashMap<>();
            call.reads().forEach((local, s) -> in.put(local, state.get(s)));
            blockInputs.add(in);
            loadBlock(g, call.prefix());
            List<String> outputNames = List.copyOf(g.outputNames().values());
            Map<String, INDArray> out = keep ? execution.gradientsForward(g.sd(), i, in, outputNames, g.upstreamShapedLike(), g.wrt())
                    : execution.output(g.sd(), in, outputNames.toArray(String[]::new));
            Map<String, INDArray> kept = new HashMap<>();
            g.outputNames().forEach((local, variable) -> kept.put(local, out.get(variable)));
            call.writes().forEach((s, local) -> state.put(s, kept.get(local)));
            releaseSessionMemory();
        }

        // Head: the loss and its gradients with respect to the final state.
        Map<String, INDArray> headPh = new HashMap<>(lossPh);
        headPh.putAll(modelPh);
        headPh.putAll(state);
        List<String> headWrt = new ArrayList<>(headParams);
        headWrt.addAll(differentiable);
        Execution.Gradients h = execution.gradients(head, headPh, lossOutputs, headWrt);
        Map<String, INDArray> outs = h.outputs();
        INDArray mse, vb = null, perSample;
        double lossMean;
        if (loss != null) {
            mse = outs.get(DiffusionLoss.MSE);
            if (learnedSigma) vb = outs.get(DiffusionLoss.VB);
            perSample = outs.get(DiffusionLoss.LOSS);
            lossMean = outs.get(DiffusionLoss.LOSS_MEAN).getDouble(0);
        } else {
            perSample = mse = outs.get(EpsilonObjective.LOSS);
            lossMean = outs.get(EpsilonObjective.LOSS_MEAN).getDouble(0);
        }
        for (String name : headParams) grads.put(name, h.gradients().get(name));
        Map<String, INDArray> upstream = new HashMap<>();                        // ∂L/∂state
        for (String name : differentiable) {
            INDArray g = h.gradients().get(name);                                 // null: a state the head does not read (U-ViT's skips)
            if (g != null) upstream.put(name, g);
        }

        // Blocks in reverse: the backward ops over the block's kept forward values, or recomputed from its inputs.
        for (int i = calls.size() - 1; i >= 0; i--) {
            BlockCall call = calls.get(i);
            BlockGraph g = blocks.get(call.kind());
            loadBlock(g, call.prefix());
            Map<String, INDArray> ph = new HashMap<>();
            for (String local : g.outputNames().keySet()) ph.put(UPSTREAM + local, upstreamOf(call, local, upstream, batch));
            Map<String, INDArray> gr;
            if (keep) {
                gr = execution.gradientsBackward(g.sd(), i, ph, g.wrt());
            } else {
                ph.putAll(blockInputs.get(i));
                gr = execution.gradients(g.sd(), ph, List.of(), g.wrt()).gradients();
            }
            for (String name : g.params()) grads.put(masterName(name, call.prefix()), gr.get(name));
            // A written state's value before the block is only what the block read: its gradient restarts there.
            call.writes().keySet().forEach(upstream::remove);
            call.reads().forEach((local, s) -> {
                if (differentiable.contains(s)) upstream.merge(s, gr.get(local), INDArray::addi);
            });
            releaseSessionMemory();
        }

        Map<String, INDArray> stemPh = new HashMap<>(modelPh);
        for (String name : differentiable) {
            INDArray u = upstream.get(name);
            stemPh.put(UPSTREAM + name, u != null ? u : Nd4j.zeros(DataType.FLOAT, state.get(name).shape()));
        }
        Map<String, INDArray> g = execution.gradients(stem, stemPh, List.of(), stemParams).gradients();
        for (String name : stemParams) grads.put(name, g.get(name));

        Map<String, INDArray> ordered = new LinkedHashMap<>();
        for (String name : trainable) ordered.put(name, grads.get(name));
        releaseNativeMemory();
        return new Result(mse, vb, perSample, lossMean, ordered);
    }

    /** ∂L/∂(block output {@code local}): the sum over the states it was written to, zeros where none has a gradient. */
    private INDArray upstreamOf(BlockCall call, String local, Map<String, INDArray> upstream, long n) {
        INDArray sum = null;
        for (var e : call.writes().entrySet()) {
            if (!e.getValue().equals(local) || upstream.get(e.getKey()) == null) continue;
            sum = sum == null ? upstream.get(e.getKey()).dup() : sum.addi(upstream.get(e.getKey()));
        }
        if (sum != null) return sum;
        long[] shape = batched(specs.get(stateOf(call, local)).shape());
        shape[0] = n;
        return Nd4j.zeros(DataType.FLOAT, shape);
    }

    /**
     * ND4J frees an execution's native buffers only when their Java owners are collected, and a small heap rarely
     * collects: without a collection after each step, the copies a step hands out pile up step after step.
     */
    private static void releaseNativeMemory() {
        System.gc();
    }

    /**
     * SameDiff's session allocates every op's output afresh: without a collection after each block, a step holds every
     * block's intermediates again (DiT-S/2 batch 8: 14 GB instead of 3.4 GB at the peak). Plans reuse their buffers, so
     * the planned executor needs only the collection after the step (each full collection costs 30–150 ms).
     */
    private static void releaseSessionMemory() {
        if (Execution.mode() == Execution.Mode.SAMEDIFF) releaseNativeMemory();
    }

    /** Copies one block's weights into its kind's graph (assigned, not swapped: the gradient function holds the arrays). */
    private void loadBlock(BlockGraph g, String prefix) {
        for (String name : g.params()) {
            INDArray w = weights.get(masterName(name, prefix));
            if (w == null) throw new IllegalStateException("the model has no parameter " + masterName(name, prefix));
            g.sd().getVariable(name).getArr().assign(w);
        }
    }

    private static String masterName(String blockGraphName, String prefix) {
        return prefix + blockGraphName.substring(BLOCK.length());
    }

    /** Times every op of later planned executions into {@code p} ({@link Execution#profile}); {@code null} stops it. */
    public void profile(PlannedExecutor.Profile p) {
        execution.profile(p);
    }

    /** The stage graphs (embedding, blocks, head), e.g. to attach profiling listeners. */
    public List<SameDiff> graphs() {
        List<SameDiff> all = new ArrayList<>(List.of(stem));
        blocks.values().forEach(b -> all.add(b.sd()));
        all.add(head);
        return all;
    }

    /** The model's trainable parameters as the live arrays the optimiser updates in place. */
    public Map<String, INDArray> trainableParameters() {
        Map<String, INDArray> p = new LinkedHashMap<>();
        for (String name : trainable) p.put(name, weights.get(name));
        return p;
    }
}
