package org.dit4j.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code multiply_bp} of a broadcast pair as plain ops: ∂L/∂x = Σ_broadcast(g·y), ∂L/∂y = Σ_broadcast(g·x), each a
 * {@code multiply} and (for an operand that broadcasts) a {@code reduce_sum} over the axes it broadcasts along. libnd4j
 * M2.1's own {@code multiply_bp} takes ~20× as long when the shapes differ (a (8, 256, 384) · (8, 1, 384) pair: 17–29 ms
 * against 1–1.5 ms; docs/PERFORMANCE.md), the case of every adaLN modulation, gate and layer norm in a training step.
 */
final class BroadcastMulBackward implements Runnable {
    private final List<DynamicCustomOp> ops = new ArrayList<>();

    /** @param x, y the operands; g the gradient of their product; gx, gy the gradients' buffers; scratch a free buffer of g's shape. */
    BroadcastMulBackward(INDArray x, INDArray y, INDArray g, INDArray gx, INDArray gy, INDArray scratch) {
        gradient(g, y, gx, scratch);
        gradient(g, x, gy, scratch);
    }

    /** Operands of different shapes, and gradient buffers that reshape as views (the sums are written through them). */
    static boolean applies(INDArray x, INDArray y, INDArray gx, INDArray gy) {
        return !Arrays.equals(x.shape(), y.shape()) && contiguous(gx) && contiguous(gy);
    }

    private static boolean contiguous(INDArray a) {
        return a.ordering() == 'c' && !a.isView();
    }

    /** out = Σ over the axes {@code out} broadcasts along of g·other. */
    private void gradient(INDArray g, INDArray other, INDArray out, INDArray scratch) {
        long[] z = g.shape(), kept = new long[z.length];
        int lead = z.length - out.rank();
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < z.length; i++) {
            kept[i] = i < lead ? 1 : out.size(i - lead);
            if (kept[i] != z[i]) axes.add(i);
        }
        if (axes.isEmpty()) {
            ops.add(op("multiply", new INDArray[]{g, other}, out.reshape(z)));
            return;
        }
        ops.add(op("multiply", new INDArray[]{g, other}, scratch));
        DynamicCustomOp sum = op("reduce_sum", new INDArray[]{scratch}, out.reshape(kept));
        for (int a : axes) sum.addIArgument(a);
        sum.addBArgument(true);
        ops.add(sum);
    }

    private static DynamicCustomOp op(String name, INDArray[] in, INDArray out) {
        return DynamicCustomOp.builder(name).addInputs(in).addOutputs(out).build();
    }

    @Override
    public void run() {
        for (DynamicCustomOp op : ops) Nd4j.exec(op);
    }
}
