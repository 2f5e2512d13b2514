package org.dit4j.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.function.UnaryOperator;

/**
 * {@code sigmoid_bp} from the forward sigmoid's output s rather than its input: g·(s·(1 − s)), the order libnd4j's
 * kernel multiplies in, without its second sigmoid (libnd4j's is ~14 ms per DiT-S/2 GELU at batch 8, each of these three
 * passes ~1 ms). A split plan keeps s anyway, so the sigmoid's input need not be remade for the backward ops either.
 */
final class SigmoidBackward implements Kernel {
    private final INDArray s, g, gx;

    /** @param s the sigmoid's output; g the gradient of it; gx the input's gradient's buffer (neither of the others). */
    SigmoidBackward(INDArray s, INDArray g, INDArray gx) {
        this.s = s;
        this.g = g;
        this.gx = gx;
    }

    @Override
    public List<INDArray> reads() {
        return List.of(s, g);
    }

    @Override
    public List<INDArray> writes() {
        return List.of(gx);
    }

    @Override
    public String name() {
        return "sigmoid_bp (from the sigmoid's output)";
    }

    @Override
    public void run(UnaryOperator<INDArray> sub) {
        INDArray sig = sub.apply(s), out = sub.apply(gx);
        sig.rsub(1.0, out).muli(sig).muli(sub.apply(g));   // (1 − s)·s = s·(1 − s) exactly, then ·g
    }
}
