package org.dit4j.training.dl4j;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.dit4j.models.dit.DiTConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * DL4J Adam's state of a {@link DiTGraph} under official parameter names: exp_avg and exp_avg_sq as PyTorch names
 * them, and the step count. All parameters share one updater block, whose state view is [m of every parameter | v of
 * every parameter], each in parameter order.
 */
record AdamState(Map<String, INDArray> expAvg, Map<String, INDArray> expAvgSq, long steps) {
    static AdamState of(ComputationGraph g) {
        INDArray view = stateView(g);
        Map<String, INDArray> m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
        long half = view.length() / 2, offset = 0;
        for (var e : trainableShapes(g).entrySet()) {
            long n = count(e.getValue());
            m.put(e.getKey(), view.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + n)).dup().reshape(e.getValue()));
            v.put(e.getKey(), view.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(half + offset, half + offset + n)).dup().reshape(e.getValue()));
            offset += n;
        }
        return new AdamState(m, v, g.getConfiguration().getIterationCount());
    }

    static void set(ComputationGraph g, Map<String, INDArray> expAvg, Map<String, INDArray> expAvgSq, long steps) {
        INDArray view = stateView(g);
        long half = view.length() / 2, offset = 0;
        for (var e : trainableShapes(g).entrySet()) {
            long n = count(e.getValue());
            INDArray m = expAvg.get(e.getKey()), v = expAvgSq.get(e.getKey());
            if (m == null || v == null) throw new IllegalArgumentException("the checkpoint has no optimizer state for " + e.getKey());
            view.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + n)).assign(m.reshape(n));
            view.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(half + offset, half + offset + n)).assign(v.reshape(n));
            offset += n;
        }
        g.getConfiguration().setIterationCount((int) steps);
    }

    private static INDArray stateView(ComputationGraph g) {
        INDArray view = g.getUpdater().getStateViewArray().reshape(-1);
        if (view.length() != 2 * g.numParams())
            throw new IllegalStateException("expected one Adam state block of 2 x " + g.numParams() + " values, found " + view.length());
        return view;
    }

    private static Map<String, long[]> trainableShapes(ComputationGraph g) {
        DiTConfig c = DiTGraph.modelConfig(g);
        Map<String, long[]> out = new LinkedHashMap<>(DiTLayer.FAMILY.shapes(c));
        out.keySet().removeAll(DiTLayer.FAMILY.buffers(c));
        return out;
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }
}
