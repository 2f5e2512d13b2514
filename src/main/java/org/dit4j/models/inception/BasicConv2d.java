package org.dit4j.models.inception;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

/**
 * torchvision's {@code BasicConv2d}: Conv2d(bias=False) → BatchNorm2d(eps=1e-3, eval) → ReLU. Eval-mode BatchNorm is a
 * per-channel affine map, so it is folded into the convolution once (in float64): one conv with bias per call.
 */
final class BasicConv2d {
    static final double BN_EPS = 1e-3;
    private final SDVariable weight, bias;
    private final Conv2DConfig conf;

    BasicConv2d(InceptionTensors t, String name, long in, long out, int kh, int kw, int stride, int ph, int pw) {
        INDArray w = t.get(name + ".conv.weight", out, in, kh, kw);
        INDArray gamma = t.get(name + ".bn.weight", out), beta = t.get(name + ".bn.bias", out);
        INDArray mean = t.get(name + ".bn.running_mean", out), var = t.get(name + ".bn.running_var", out);
        t.counter(name + ".bn.num_batches_tracked");
        conf = Conv2DConfig.builder().kH(kh).kW(kw).sH(stride).sW(stride).pH(ph).pW(pw).dH(1).dW(1)
                .paddingMode(PaddingMode.VALID).dataFormat("NCHW").weightsFormat(WeightsFormat.OIYX).build();
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
        weight = t.constant(name + ".folded_weight", Nd4j.create(wf, new long[]{out, in, kh, kw}, 'c'));
        bias = t.constant(name + ".folded_bias", Nd4j.create(bf, new long[]{out}, 'c'));
    }

    /** A square kernel, padding {@code pad} on both axes. */
    BasicConv2d(InceptionTensors t, String name, long in, long out, int k, int stride, int pad) {
        this(t, name, in, out, k, k, stride, pad, pad);
    }

    SDVariable apply(SDVariable x) {
        return x.getSameDiff().nn.relu(x.getSameDiff().cnn.conv2d(x, weight, bias, conf), 0);
    }
}
