package org.dit4j.runtime;

import org.dit4j.models.nn.Ops;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.*;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/** The summed slice gradients on their own: which ops form a group, and the sum written over a dirty buffer. */
public class SliceGradientsTest {
    /** The gradient function's ops (SameDiff keeps them in the order it made them, inputs first) and the groups among them. */
    private static Map<String, SliceGradients.Group> groups(SameDiff sd, List<SameDiffOp> order) {
        sd.createGradFunction();
        order.addAll(sd.getFunction("grad").getOps().values());
        return SliceGradients.find(order, List.of(), op -> op.getInputsToOp() == null ? List.of() : op.getInputsToOp());
    }

    /**
     * Runs the group's slice kernels over a NaN-filled buffer with gradients of ones: the sum must hold ones where a slice
     * wrote and zeros elsewhere, whichever buffer the plan's pool hands it.
     */
    private static INDArray sumOverDirtyBuffer(SameDiff sd, List<SameDiffOp> order, SliceGradients.Group g, long[] sourceShape) {
        Function<long[], INDArray> dirty = shape -> Nd4j.valueArrayOf(shape, Double.NaN, DataType.FLOAT);
        INDArray source = Nd4j.zeros(DataType.FLOAT, sourceShape);
        for (SameDiffOp op : order) {
            if (!op.getOp().opName().equals("strided_slice_bp")) continue;
            long[] sliceShape = sd.getFunction("grad").getVariable(op.getInputsToOp().get(1)).eval().shape();
            g.slice(op, source, Nd4j.ones(DataType.FLOAT, sliceShape), dirty).run(a -> a);
        }
        return g.sum();
    }

    @Test
    void chunksFormOneGroupThatCoversItsBuffer() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.var("x", Nd4j.rand(DataType.FLOAT, 2, 12));
        SDVariable[] c = Ops.chunks(x, 3, 4);
        c[0].mul(c[1]).add(c[2].mul(3.0)).sum().markAsLoss();
        List<SameDiffOp> order = new ArrayList<>();
        Map<String, SliceGradients.Group> groups = groups(sd, order);
        assertEquals(5, groups.size(), "3 slices and the 2 adds summing them: " + groups.keySet());
        SliceGradients.Group g = groups.values().iterator().next();
        assertEquals(1, new HashSet<>(groups.values()).size());
        INDArray sum = sumOverDirtyBuffer(sd, order, g, new long[]{2, 3, 4});
        assertEquals(Nd4j.ones(DataType.FLOAT, 2, 3, 4), sum);
    }

    @Test
    void slicesWithGapsZeroTheBufferFirst() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.var("x", Nd4j.rand(DataType.FLOAT, 2, 5, 4));
        SDVariable a = x.get(SDIndex.all(), SDIndex.interval(1, 3), SDIndex.all());   // rows 1, 2
        SDVariable b = x.get(SDIndex.all(), SDIndex.point(-1), SDIndex.all());        // row 4
        a.sum().add(b.sum()).markAsLoss();
        List<SameDiffOp> order = new ArrayList<>();
        Map<String, SliceGradients.Group> groups = groups(sd, order);
        assertEquals(3, groups.size(), groups.keySet().toString());
        INDArray sum = sumOverDirtyBuffer(sd, order, groups.values().iterator().next(), new long[]{2, 5, 4});
        INDArray expected = Nd4j.zeros(DataType.FLOAT, 2, 5, 4);
        for (int row : new int[]{1, 2, 4}) expected.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(row)).assign(1);
        assertEquals(expected, sum);
    }

    @Test
    void aSliceGradientReadElsewhereIsNotSummedInPlace() {
        // Two slices of x, whose gradients a loss term reads before they are summed: no group may form over them.
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.var("x", Nd4j.rand(DataType.FLOAT, 2, 8));
        SDVariable[] c = Ops.chunks(x, 2, 4);
        c[0].mul(c[1]).sum().markAsLoss();
        List<SameDiffOp> order = new ArrayList<>();
        Map<String, SliceGradients.Group> groups = groups(sd, order);
        String firstSliceGradient = order.stream().filter(op -> op.getOp().opName().equals("strided_slice_bp")).findFirst().orElseThrow().getOutputsOfOp().get(0);
        Map<String, SliceGradients.Group> withExtraReader = SliceGradients.find(order, List.of(firstSliceGradient),
                op -> op.getInputsToOp() == null ? List.of() : op.getInputsToOp());
        assertEquals(3, groups.size());
        assertTrue(withExtraReader.isEmpty(), withExtraReader.keySet().toString());
    }
}
