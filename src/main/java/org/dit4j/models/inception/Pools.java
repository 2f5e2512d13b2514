package org.dit4j.models.inception;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Pooling2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;

/** The three pools of the FID Inception graph, NHWC. */
final class Pools {
    private Pools() {}

    /** {@code MaxPool2d(3, stride 2)} / {@code max_pool2d(x, 3, stride 2)}: unpadded, floor. */
    static SDVariable max3x3Stride2(SDVariable x) {
        return x.getSameDiff().cnn.maxPooling2d(x, config(2, 0).type(Pooling2D.Pooling2DType.MAX).build());
    }

    /** {@code max_pool2d(x, 3, stride 1, padding 1)}: Mixed_7c's pool branch (inputs are post-ReLU, so padding never wins). */
    static SDVariable max3x3Same(SDVariable x) {
        return x.getSameDiff().cnn.maxPooling2d(x, config(1, 1).type(Pooling2D.Pooling2DType.MAX).build());
    }

    /** {@code avg_pool2d(x, 3, stride 1, padding 1, count_include_pad=False)}: TensorFlow's SAME average ignores the padding. */
    static SDVariable avg3x3SameExcludePad(SDVariable x) {
        return x.getSameDiff().cnn.avgPooling2d(x, config(1, 1).type(Pooling2D.Pooling2DType.AVG)
                .divisor(Pooling2D.Divisor.EXCLUDE_PADDING).build());
    }

    private static Pooling2DConfig.Pooling2DConfigBuilder config(int stride, int pad) {
        return Pooling2DConfig.builder().kH(3).kW(3).sH(stride).sW(stride).pH(pad).pW(pad).dH(1).dW(1)
                .paddingMode(PaddingMode.VALID).isNHWC(true);
    }
}
