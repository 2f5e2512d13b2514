package org.dit4j.runtime;

import org.dit4j.io.TorchCheckpoint;
import org.dit4j.models.Conditioning;
import org.dit4j.models.TinyDiTAccess;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.models.fit.FiTModel;
import org.dit4j.models.fit.TinyFiT;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

import static org.dit4j.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** The planned executor against SameDiff's own session on the fixture DiT and FiT: the same numbers, for every shape. */
public class PlannedExecutorTest {
    /** Both run the same float32 kernels in the same order; only in-place writes differ, which do not change values. */
    private static final double TOL = 1e-6;

    /** {@code f} under executor mode {@code m}, the process's mode restored after. */
    public static <T> T with(Execution.Mode m, Supplier<T> f) {
        Execution.Mode before = Execution.mode();
        Execution.use(m);
        try {
            return f.get();
        } finally {
            Execution.use(before);
        }
    }

    private static INDArray both(Supplier<INDArray> f, String what) {
        INDArray viaSameDiff = with(Execution.Mode.SAMEDIFF, f), planned = with(Execution.Mode.PLANNED, f);
        assertArrayEquals(viaSameDiff.shape(), planned.shape(), what);
        assertTrue(maxAbsDiff(viaSameDiff, planned) <= TOL, what + ": max |planned − sd.output| = " + maxAbsDiff(viaSameDiff, planned));
        return planned;
    }

    private static INDArray rand(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, shape);
    }

    @Test
    void ditForwardIsSameDiffsForEveryBatchSizeAndTheOfficialOutput() {
        DiTModel m = TinyDiTAccess.model();
        INDArray out = both(() -> m.forward(npy("x.npy"), times("t.npy"), longs("y.npy")), "fixture batch");
        assertClose(npy("forward_out.npy"), out, 1e-4, 1e-4, "planned forward vs official");
        PlannedExecutor ex = new PlannedExecutor(m.sameDiff());
        for (int n : new int[]{1, 3, 1, 8}) {
            long[] y = new long[n];
            double[] t = new double[n];
            for (int i = 0; i < n; i++) {
                y[i] = (i * 3L) % 10;
                t[i] = 17.0 * i + 1;
            }
            INDArray x = rand(n, n, 4, 8, 8);
            both(() -> m.forward(x, t, y), "batch " + n);
            Map<String, INDArray> ph = m.placeholders(x, t, y);
            INDArray expected = m.sameDiff().output(ph, DiTModel.OUTPUT).get(DiTModel.OUTPUT).dup();
            for (int k = 0; k < 2; k++)
                assertTrue(maxAbsDiff(expected, ex.output(ph, DiTModel.OUTPUT).get(DiTModel.OUTPUT)) <= TOL, "batch " + n + ", call " + k);
        }
        assertEquals(3, ex.plans(), "one plan per batch size, reused when a size comes back");
    }

    @Test
    void ditIntermediatesRequestedWithTheOutputAreSameDiffs() {
        DiTModel m = TinyDiTAccess.model();
        String[] names = {DiTModel.OUTPUT, "c", "blocks.0.attn_out", "blocks.1.adaLN_out"};
        Map<String, INDArray> sd = with(Execution.Mode.SAMEDIFF, () -> m.forward(npy("x.npy"), times("t.npy"), longs("y.npy"), names));
        Map<String, INDArray> pl = with(Execution.Mode.PLANNED, () -> m.forward(npy("x.npy"), times("t.npy"), longs("y.npy"), names));
        for (String n : names) assertTrue(maxAbsDiff(sd.get(n), pl.get(n)) <= TOL, n);
    }

    @Test
    void outputsAreTheCallersAndNotOverwrittenByLaterCalls() {
        DiTModel m = TinyDiTAccess.model();
        with(Execution.Mode.PLANNED, () -> {
            INDArray first = m.forward(npy("x.npy"), times("t.npy"), longs("y.npy"));
            INDArray kept = first.dup();
            INDArray second = m.forward(npy("x.npy").mul(-1), times("t.npy"), longs("y.npy"));
            assertEquals(kept, first, "a later call changed an earlier output");
            assertNotEquals(first, second);
            first.assign(0);   // the caller's array: writing it does not disturb the next call
            assertEquals(kept, m.forward(npy("x.npy"), times("t.npy"), longs("y.npy")));
            return null;
        });
    }

    @Test
    void placeholdersAreCopiedInNotKept() {
        DiTModel m = TinyDiTAccess.model();
        SameDiff sd = m.sameDiff();
        PlannedExecutor ex = new PlannedExecutor(sd);
        Map<String, INDArray> ph = m.placeholders(npy("x.npy"), times("t.npy"), longs("y.npy"));
        INDArray a = ex.output(ph, DiTModel.OUTPUT).get(DiTModel.OUTPUT);
        ph.get(DiTModel.X).muli(0.5);   // the caller reuses its input array for the next step
        INDArray b = ex.output(ph, DiTModel.OUTPUT).get(DiTModel.OUTPUT);
        INDArray expected = sd.output(ph, DiTModel.OUTPUT).get(DiTModel.OUTPUT).dup();
        assertNotEquals(a, b);
        assertTrue(maxAbsDiff(expected, b) <= TOL);
    }

    @Test
    void weightsLoadedAfterPlanningAreUsed() {
        DiTModel tiny = TinyDiTAccess.model();
        DiTModel m = DiTModel.create(tiny.config());
        Map<String, INDArray> w = TorchCheckpoint.loadStateDict(tiny("weights/DiT-tiny.pt"), TorchCheckpoint.Pick.EMA);
        m.loadStateDict(w, "DiT-tiny.pt");
        both(() -> m.forward(npy("x.npy"), times("t.npy"), longs("y.npy")), "fixture weights");
        Map<String, INDArray> changed = new HashMap<>(w);
        changed.put("final_layer.linear.weight", w.get("final_layer.linear.weight").mul(2));
        m.loadStateDict(changed, "changed");
        INDArray out = both(() -> m.forward(npy("x.npy"), times("t.npy"), longs("y.npy")), "changed weights");
        assertTrue(maxAbsDiff(npy("forward_out.npy"), out) > 1e-3, "the planned run still used the old weights");
        // A variable whose array is replaced (not assigned) makes the plan rebuild itself.
        m.sameDiff().getVariable("final_layer.linear.weight").setArray(w.get("final_layer.linear.weight").dup());
        assertClose(npy("forward_out.npy"), both(() -> m.forward(npy("x.npy"), times("t.npy"), longs("y.npy")), "replaced"), 1e-4, 1e-4, "replaced");
    }

    @Test
    void fitTokensAndLatentsOfSeveralSizesAreSameDiffs() {
        FiTModel m = TinyFiT.clamped();
        INDArray tokens = both(() -> m.forwardTokens(TinyFiT.npy("x.npy"), TinyFiT.npy("t.npy").castTo(DataType.DOUBLE).toDoubleVector(),
                TinyFiT.npy("y.npy").castTo(DataType.LONG).toLongVector(), TinyFiT.batchLayout()), "padded fixture batch");
        assertClose(TinyFiT.npy("forward_out.npy"), tokens, 1e-4, 1e-4, "planned FiT vs official");
        int[][] sizes = {{2, 8, 8}, {1, 4, 12}, {3, 8, 8}, {2, 8, 8}};
        for (int[] s : sizes) {
            INDArray x = rand(s[1] * 100L + s[2], s[0], 4, s[1], s[2]);
            double[] t = new double[s[0]];
            long[] y = new long[s[0]];
            for (int i = 0; i < s[0]; i++) {
                t[i] = 0.1 + 0.3 * i;
                y[i] = i;
            }
            both(() -> m.forward(x, t, Conditioning.labels(y)), "latents " + java.util.Arrays.toString(s));
        }
    }

    /**
     * A broadcast product's gradients, which the plan computes as multiplies and sums instead of libnd4j's multiply_bp:
     * SameDiff's for every way an operand broadcasts (per sample and token, per feature, a lower rank, both at once).
     */
    @Test
    void broadcastProductGradientsAreSameDiffs() {
        long[][][] pairs = {
                {{3, 5, 4}, {3, 1, 4}},      // adaLN's modulation and gate
                {{3, 5, 4}, {3, 5, 1}},      // layer norm's 1/σ
                {{3, 5, 4}, {4}},            // an affine weight of lower rank
                {{3, 1, 4}, {1, 5, 1}},      // both broadcast
                {{3, 5, 4}, {3, 5, 4}}};     // no broadcast: libnd4j's own multiply_bp
        for (long[][] p : pairs) {
            SameDiff sd = SameDiff.create();
            var x = sd.var("x", rand(1, p[0]));
            var y = sd.var("y", rand(2, p[1]));
            var w = sd.constant("w", rand(3, x.mul(y).eval().shape()));
            var loss = x.mul(y).mul(w).sum();                            // a gradient that differs at every element
            loss.markAsLoss();
            sd.createGradFunction();
            String what = java.util.Arrays.deepToString(p);
            Map<String, INDArray> viaSameDiff = with(Execution.Mode.SAMEDIFF, () -> new Execution().gradients(sd, Map.of(), java.util.List.of(), java.util.List.of("x", "y")).gradients());
            Map<String, INDArray> planned = with(Execution.Mode.PLANNED, () -> new Execution().gradients(sd, Map.of(), java.util.List.of(), java.util.List.of("x", "y")).gradients());
            for (String v : new String[]{"x", "y"}) {
                assertArrayEquals(viaSameDiff.get(v).shape(), planned.get(v).shape(), what + " d/d" + v);
                assertTrue(maxAbsDiff(viaSameDiff.get(v), planned.get(v)) <= 1e-5, what + " d/d" + v + ": max |planned − SameDiff| = " + maxAbsDiff(viaSameDiff.get(v), planned.get(v)));
            }
        }
    }

    /**
     * The gradients the planned executor makes without libnd4j's ops: several slices of one value summed into one buffer
     * (chunks as DiT's adaLN and qkv take them, intervals with gaps, negative points, strides), {@code biasadd_bp}
     * passing the gradient on, {@code add_bp} of equal shapes.
     */
    @Test
    void sliceBiasAndAddGradientsAreSameDiffs() {
        Map<String, java.util.function.BiFunction<SameDiff, org.nd4j.autodiff.samediff.SDVariable, org.nd4j.autodiff.samediff.SDVariable>> cases = new java.util.LinkedHashMap<>();
        cases.put("4 chunks of (1, 40)", (sd, x) -> product(sd, org.dit4j.models.nn.Ops.chunks(sd.reshape(x, 1, 40), 4, 10)));
        cases.put("4 chunks of (2, 20), one read twice", (sd, x) -> {
            var c = org.dit4j.models.nn.Ops.chunks(sd.reshape(x, 2, 20), 4, 5);   // width ≥ chunks: SameDiffTrapsTest
            return product(sd, c).add(c[0].mul(c[0]).sum());
        });
        cases.put("interval and point with gaps", (sd, x) -> product(sd,
                x.get(SDIndex.all(), SDIndex.interval(1, 3), SDIndex.all()),
                x.get(SDIndex.all(), SDIndex.point(0), SDIndex.all()).reshape(2, 1, 4)));
        cases.put("negative point, strided interval", (sd, x) -> product(sd,
                x.get(SDIndex.all(), SDIndex.point(-1), SDIndex.all()),
                x.get(SDIndex.all(), SDIndex.interval(0, 2, 5), SDIndex.all()).sum(1)));
        cases.put("bias_add of rank 3 and 2, residual add", (sd, x) -> {
            var b = sd.var("b", rand(7, 4));
            var h = sd.nn.biasAdd(x, b, false);                                       // (2, 5, 4)
            var r = h.add(x.mul(2.0));                                                // add_bp of equal shapes
            var flat = sd.nn.biasAdd(sd.reshape(r, 10, 4), b, false);                 // (10, 4)
            return product(sd, flat, sd.reshape(x, 10, 4));
        });
        for (var c : cases.entrySet()) {
            SameDiff sd = SameDiff.create();
            var x = sd.var("x", rand(1, 2, 5, 4));
            var loss = c.getValue().apply(sd, x);
            loss.markAsLoss();
            sd.createGradFunction();
            java.util.List<String> wrt = sd.hasVariable("b") ? java.util.List.of("x", "b") : java.util.List.of("x");
            Map<String, INDArray> viaSameDiff = with(Execution.Mode.SAMEDIFF, () -> new Execution().gradients(sd, Map.of(), java.util.List.of(), wrt).gradients());
            Execution planner = new Execution();
            for (int run = 0; run < 2; run++) {   // the second run over the plan's reused buffers
                Map<String, INDArray> planned = with(Execution.Mode.PLANNED, () -> planner.gradients(sd, Map.of(), java.util.List.of(), wrt).gradients());
                for (String v : wrt)
                    assertTrue(maxAbsDiff(viaSameDiff.get(v), planned.get(v)) <= 1e-5, c.getKey() + " d/d" + v + ", run " + run + ": max |planned − SameDiff| = " + maxAbsDiff(viaSameDiff.get(v), planned.get(v)));
            }
        }
    }

    /**
     * sigmoid_bp and softmax_bp from their forward op's output (runtime.SigmoidBackward, SoftmaxBackward): the same
     * gradients, to the bit, as libnd4j's from the input.
     */
    @Test
    void sigmoidAndSoftmaxGradientsFromTheirOutputsAreSameDiffs() {
        Map<String, java.util.function.BiFunction<SameDiff, org.nd4j.autodiff.samediff.SDVariable, org.nd4j.autodiff.samediff.SDVariable>> cases = new java.util.LinkedHashMap<>();
        cases.put("sigmoid", (sd, x) -> product(sd, sd.nn.sigmoid(x)));
        cases.put("tanh GELU", (sd, x) -> product(sd, org.dit4j.models.nn.Ops.geluTanh(sd, x)));
        cases.put("SiLU, then its sigmoid's output alone summed", (sd, x) ->
                product(sd, org.dit4j.models.nn.Ops.silu(sd, x)).add(sd.nn.sigmoid(x.mul(3.0)).sum()));
        cases.put("softmax over the last axis", (sd, x) -> product(sd, sd.nn.softmax(x, 2)));
        cases.put("softmax over axis 1, and over the last of its input scaled", (sd, x) ->
                product(sd, sd.nn.softmax(x, 1), sd.nn.softmax(x.mul(0.5), 2)));
        for (var c : cases.entrySet()) {
            SameDiff sd = SameDiff.create();
            var x = sd.var("x", rand(2, 2, 5, 4).muli(4));   // (2, 5, 4)
            c.getValue().apply(sd, x).markAsLoss();
            sd.createGradFunction();
            INDArray viaSameDiff = with(Execution.Mode.SAMEDIFF, () -> new Execution().gradients(sd, Map.of(), java.util.List.of(), java.util.List.of("x")).gradients().get("x"));
            Execution planner = new Execution();
            for (int run = 0; run < 2; run++) {
                INDArray planned = with(Execution.Mode.PLANNED, () -> planner.gradients(sd, Map.of(), java.util.List.of(), java.util.List.of("x")).gradients().get("x"));
                assertEquals(viaSameDiff, planned, c.getKey() + ", run " + run + ": max |planned − SameDiff| = " + maxAbsDiff(viaSameDiff, planned));
            }
        }
    }

    /** Σ of the parts, each multiplied by weights of its own shape: a gradient that differs at every element of every part. */
    private static org.nd4j.autodiff.samediff.SDVariable product(SameDiff sd, org.nd4j.autodiff.samediff.SDVariable... parts) {
        org.nd4j.autodiff.samediff.SDVariable total = null;
        for (int i = 0; i < parts.length; i++) {
            var w = sd.constant(rand(20 + i, parts[i].eval().shape()));
            var term = parts[i].mul(w).sum();
            total = total == null ? term : total.add(term);
        }
        return total;
    }
}
