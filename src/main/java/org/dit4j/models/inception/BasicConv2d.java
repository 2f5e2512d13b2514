package org.dit4j.models.inception;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

/**
 * torchvision's {@code BasicConv2d}: Conv2d(bias=False) → BatchNorm2d(eps=1e-3, eval) → ReLU. Eval-mode BatchNorm is a
 * per-channel affine map, so it is folded into the convolution once (in float64): one conv with bias per call.
 * <p>
 * The graph runs channels-last (NHWC, kernels (kH, kW, in, out)): there a 1×1 convolution is one matrix product over
 * the channel axis with no copies, where libnd4j's generic {@code conv2d} would first copy the input through im2col.
 */
final class BasicConv2d {
    static final double BN_EPS = 1e-3;
    private final SDVariable weight, bias;
    private final Conv2DConfig conf;
    private final boolean pointwise;

    BasicConv2d(InceptionTensors t, String name, long in, long out, int kh, int kw, int stride, int ph, int pw) {
        INDArray w = t.get(name + ".conv.weight", out, in, kh, kw);
        INDArray gamma = t.get(name + ".bn.weight", out), beta = t.get(name + ".bn.bias", out);
        INDArray mean = t.get(name + ".bn.running_mean", out), var = t.get(name + ".bn.running_var", out);
        t.counter(name + ".bn.num_batches_tracked");
        conf = Conv2DConfig.builder().kH(kh).kW(kw).sH(stride).sW(stride).pH(ph).pW(pw).dH(1).dW(1)
                .paddingMode(PaddingMode.VALID).dataFormat("NHWC").weightsFormat(WeightsFormat.YXIO).build();
        pointwise = kh == 1 && kw == 1 && stride == 1;
        if (!t.building()) {
            weight = bias = null;
            return;
        }
        double[] g = gamma.castTo(DataType.DOUBLE).toDoubleVector(), b = beta.castTo(DataType.DOUBLE).toDoubleVector();
        double[] m = mean.castTo(DataType.DOUBLE).toDoubleVector(), v = var.castTo(DataType.DOUBLE).toDoubleVector();
        double[] wv = w.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        int per = wv.length / (int) out;
        float[] wf = new float[wv.length], bf = new float[(int) out];
        for (int o = 0; o < out; o++) {
            double scale = g[o] / Math.sqrt(v[o] + BN_EPS);
            for (int i = 0; i < per; i++) wf[o * per + i] = (float) (wv[o * per + i] * scale);
            bf[o] = (float) (b[o] - m[o] * scale);
        }
        INDArray yxio = Nd4j.create(wf, new long[]{out, in, kh, kw}, 'c').permute(2, 3, 1, 0).dup('c');   // (kH, kW, in, out)
        weight = t.constant(name + ".folded_weight", pointwise ? yxio.reshape(in, out) : yxio);
        bias = t.constant(name + ".folded_bias", Nd4j.create(bf, new long[]{out}, 'c'));
    }

    /** A square kernel, padding {@code pad} on both axes. */
    BasicConv2d(InceptionTensors t, String name, long in, long out, int k, int stride, int pad) {
        this(t, name, in, out, k, k, stride, pad, pad);
    }

    SDVariable apply(SDVariable x) {                                                               // (N, H, W, in)
        SameDiff sd = x.getSameDiff();
        SDVariable y = pointwise ? sd.tensorMmul(x, weight, new int[]{3}, new int[]{0}).add(bias)  // (N, H, W, out)
                : sd.cnn.conv2d(x, weight, bias, conf);                                            // (N, H', W', out)
        return sd.nn.relu(y, 0);
    }
}
