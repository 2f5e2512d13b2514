package org.dit4j.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * {@code multiply_bp} of a broadcast pair as plain ops: ∂L/∂x = Σ_broadcast(g·y), ∂L/∂y = Σ_broadcast(g·x), each a
 * {@code multiply} and (for an operand that broadcasts) a {@code reduce_sum} over the axes it broadcasts along. libnd4j
 * M2.1's own {@code multiply_bp} takes ~20× as long when the shapes differ (a (8, 256, 384) · (8, 1, 384) pair: 17–29 ms
 * against 1–1.5 ms; docs/PERFORMANCE.md), the case of every adaLN modulation, gate and layer norm in a training step.
 */
final class BroadcastMulBackward implements Kernel {
    private final INDArray x, y, g, gx, gy, scratch;

    /** @param x, y the operands; g the gradient of their product; gx, gy the gradients' buffers; scratch a free buffer of g's shape. */
    BroadcastMulBackward(INDArray x, INDArray y, INDArray g, INDArray gx, INDArray gy, INDArray scratch) {
        this.x = x;
        this.y = y;
        this.g = g;
        this.gx = gx;
        this.gy = gy;
        this.scratch = scratch;
    }

    /** Operands of different shapes, and gradient buffers that reshape as views (the sums are written through them). */
    static boolean applies(INDArray x, INDArray y, INDArray gx, INDArray gy) {
        return !Arrays.equals(x.shape(), y.shape()) && contiguous(gx) && contiguous(gy);
    }

    private static boolean contiguous(INDArray a) {
        return a.ordering() == 'c' && !a.isView();
    }

    @Override
    public List<INDArray> reads() {
        return List.of(x, y, g);
    }

    @Override
    public List<INDArray> writes() {
        return List.of(gx, gy, scratch);
    }

    @Override
    public String name() {
        return "multiply_bp (broadcast, as multiply and reduce_sum)";
    }

    @Override
    public void run(UnaryOperator<INDArray> sub) {
        INDArray g = sub.apply(this.g), s = sub.apply(scratch);
        gradient(g, sub.apply(y), sub.apply(gx), s);
        gradient(g, sub.apply(x), sub.apply(gy), s);
    }

    /** out = Σ over the axes {@code out} broadcasts along of g·other. */
    private static void gradient(INDArray g, INDArray other, INDArray out, INDArray scratch) {
        long[] z = g.shape(), kept = new long[z.length];
        int lead = z.length - out.rank();
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < z.length; i++) {
            kept[i] = i < lead ? 1 : out.size(i - lead);
            if (kept[i] != z[i]) axes.add(i);
        }
        if (axes.isEmpty()) {
            Nd4j.exec(op("multiply", new INDArray[]{g, other}, out.reshape(z)));
            return;
        }
        Nd4j.exec(op("multiply", new INDArray[]{g, other}, scratch));
        DynamicCustomOp sum = op("reduce_sum", new INDArray[]{scratch}, out.reshape(kept));
        for (int a : axes) sum.addIArgument(a);
        sum.addBArgument(true);
        Nd4j.exec(sum);
    }

    static DynamicCustomOp op(String name, INDArray[] in, INDArray out) {
        return DynamicCustomOp.builder(name).addInputs(in).addOutputs(out).build();
    }
}
