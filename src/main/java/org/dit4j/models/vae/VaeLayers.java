package org.dit4j.models.vae;

import org.dit4j.models.nn.Ops;
import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

/** The autoencoder's building blocks, as in LDM's {@code model.py}; every tensor is NCHW. */
final class VaeLayers {
    static final int GROUPS = 32;
    static final double EPS = 1e-6;

    private VaeLayers() {}

    /** {@code nn.Conv2d} with PyTorch's (out, in, kh, kw) weights used as they are (OIYX), so no transposition ever. */
    static final class Conv2d {
        private final SDVariable weight, bias;
        private final Conv2DConfig conf;

        Conv2d(Params p, String name, long in, long out, int kernel, int stride, int pad) {
            weight = p.weight(name + ".weight", out, in, kernel, kernel);
            bias = p.weight(name + ".bias", out);
            conf = Conv2DConfig.builder().kH(kernel).kW(kernel).sH(stride).sW(stride).pH(pad).pW(pad).dH(1).dW(1)
                    .paddingMode(PaddingMode.VALID).dataFormat("NCHW").weightsFormat(WeightsFormat.OIYX).build();
        }

        SDVariable apply(SDVariable x) {
            return x.getSameDiff().cnn.conv2d(x, weight, bias, conf);
        }
    }

    /** {@code nn.GroupNorm(32, C, eps=1e-6, affine=True)}, composed: SameDiff M2.1 has none. */
    static final class GroupNorm {
        private final SDVariable gamma, beta;
        private final long channels;

        GroupNorm(Params p, String name, long channels) {
            this.channels = channels;
            gamma = p.weight(name + ".weight", channels);
            beta = p.weight(name + ".bias", channels);
        }

        SDVariable apply(SDVariable x) {
            SameDiff sd = x.getSameDiff();
            SDVariable n = sd.shape(x).get(SDIndex.interval(0, 1)).castTo(DataType.LONG);
            SDVariable grouped = sd.reshape(x, sd.concat(0, n, sd.constant(Nd4j.createFromArray((long) GROUPS, -1L))));  // (N, G, C/G·H·W)
            SDVariable mu = grouped.mean(true, 2);
            SDVariable centered = grouped.sub(mu);
            SDVariable var = centered.mul(centered).mean(true, 2);
            SDVariable normed = sd.reshape(centered.mul(sd.math.rsqrt(var.add(EPS))), sd.shape(x));                   // (N, C, H, W)
            return normed.mul(sd.reshape(gamma, 1, channels, 1, 1)).add(sd.reshape(beta, 1, channels, 1, 1));
        }
    }

    /** LDM's {@code ResnetBlock}: norm → SiLU → conv → norm → SiLU → conv, plus a 1×1 {@code nin_shortcut} when channels change. */
    static final class ResnetBlock {
        private final GroupNorm norm1, norm2;
        private final Conv2d conv1, conv2, shortcut;

        ResnetBlock(Params p, String name, long in, long out) {
            norm1 = new GroupNorm(p, name + ".norm1", in);
            conv1 = new Conv2d(p, name + ".conv1", in, out, 3, 1, 1);
            norm2 = new GroupNorm(p, name + ".norm2", out);
            conv2 = new Conv2d(p, name + ".conv2", out, out, 3, 1, 1);
            shortcut = in != out ? new Conv2d(p, name + ".nin_shortcut", in, out, 1, 1, 0) : null;
        }

        SDVariable apply(SDVariable x) {
            SameDiff sd = x.getSameDiff();
            SDVariable h = conv1.apply(Ops.silu(sd, norm1.apply(x)));
            h = conv2.apply(Ops.silu(sd, norm2.apply(h)));
            return (shortcut != null ? shortcut.apply(x) : x).add(h);
        }
    }

    /** LDM's {@code AttnBlock}: single-head self-attention over pixels, softmax(qᵀk · C^-½), 1×1 convs, residual. */
    static final class AttnBlock {
        private final GroupNorm norm;
        private final Conv2d q, k, v, proj;
        private final long channels;

        AttnBlock(Params p, String name, long channels) {
            this.channels = channels;
            norm = new GroupNorm(p, name + ".norm", channels);
            q = new Conv2d(p, name + ".q", channels, channels, 1, 1, 0);
            k = new Conv2d(p, name + ".k", channels, channels, 1, 1, 0);
            v = new Conv2d(p, name + ".v", channels, channels, 1, 1, 0);
            proj = new Conv2d(p, name + ".proj_out", channels, channels, 1, 1, 0);
        }

        SDVariable apply(SDVariable x) {
            SameDiff sd = x.getSameDiff();
            SDVariable h = norm.apply(x);
            SDVariable n = sd.shape(x).get(SDIndex.interval(0, 1)).castTo(DataType.LONG);
            SDVariable flat = sd.concat(0, n, sd.constant(Nd4j.createFromArray(channels, -1L)));
            SDVariable qf = sd.permute(sd.reshape(q.apply(h), flat), 0, 2, 1);               // (N, HW, C)
            SDVariable kf = sd.reshape(k.apply(h), flat);                                     // (N, C, HW)
            SDVariable w = sd.mmul(qf, kf).mul(Math.pow(channels, -0.5));                     // (N, HW, HW)
            w = sd.nn.softmax(w, 2);
            SDVariable vf = sd.reshape(v.apply(h), flat);                                     // (N, C, HW)
            SDVariable out = sd.mmul(vf, w, false, true, false);                              // (N, C, HW)
            return x.add(proj.apply(sd.reshape(out, sd.shape(x))));
        }
    }

    /** Pad (0, 1, 0, 1), then a stride-2 3×3 convolution. */
    static final class Downsample {
        private final Conv2d conv;

        Downsample(Params p, String name, long channels) {
            conv = new Conv2d(p, name + ".conv", channels, channels, 3, 2, 0);
        }

        SDVariable apply(SDVariable x) {
            SameDiff sd = x.getSameDiff();
            SDVariable pads = sd.constant(Nd4j.createFromArray(new int[][]{{0, 0}, {0, 0}, {0, 1}, {0, 1}}));
            return conv.apply(sd.nn.pad(x, pads, 0.0));
        }
    }

    /** Nearest-neighbour ×2, then a 3×3 convolution. {@code upsampling2d(x, 2)} fails in M2.1; the NCHW form works. */
    static final class Upsample {
        private final Conv2d conv;

        Upsample(Params p, String name, long channels) {
            conv = new Conv2d(p, name + ".conv", channels, channels, 3, 1, 1);
        }

        SDVariable apply(SDVariable x) {
            return conv.apply(x.getSameDiff().cnn.upsampling2d(x, 2, 2, true));
        }
    }
}
