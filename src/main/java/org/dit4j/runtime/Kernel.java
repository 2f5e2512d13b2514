package org.dit4j.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.function.UnaryOperator;

/** A hand-written replacement for one op's libnd4j kernel in a plan, over the plan's buffers. */
interface Kernel {
    /** The buffers it reads and writes (a split plan's slots substitute their own arrays for some of them). */
    List<INDArray> reads();

    List<INDArray> writes();

    /** Runs over the arrays {@code sub} gives for its own (each array, or the one that stands in for it). */
    void run(UnaryOperator<INDArray> sub);

    /** What a profile calls it. */
    String name();
}
