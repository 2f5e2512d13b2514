package org.dit4j.pipeline;

import org.dit4j.diffusion.DenoiseFn;
import org.dit4j.models.Conditioning;
import org.dit4j.models.Denoiser;
import org.dit4j.util.Slices;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Classifier-free guidance as a rule of the pipeline, not of the model: how the sampler's batch is laid out, how
 * conditional and unconditional predictions are obtained and mixed, and which rows are the result.
 */
public interface Guidance {
    /** The batch the sampler runs on for the conditional noise {@code z}. */
    INDArray samplerBatch(INDArray z);

    /** The rows of {@link #samplerBatch} for {@code rows} samples. */
    long samplerRows(long rows);

    /** The model as the sampler sees it, for conditional rows {@code cond} and their unconditional twins {@code uncond}. */
    DenoiseFn denoiser(Denoiser model, Conditioning cond, Conditioning uncond);

    /** The {@code rows} conditional samples of the sampler's result. */
    INDArray conditional(INDArray result, int rows);

    /** No guidance: the conditional model alone. */
    Guidance NONE = new Guidance() {
        @Override
        public INDArray samplerBatch(INDArray z) {
            return z;
        }

        @Override
        public long samplerRows(long rows) {
            return rows;
        }

        @Override
        public DenoiseFn denoiser(Denoiser model, Conditioning cond, Conditioning uncond) {
            return (x, t) -> model.forward(x, t, cond);
        }

        @Override
        public INDArray conditional(INDArray result, int rows) {
            return result;
        }
    };

    /**
     * DiT's {@code forward_with_cfg} (FiT's too): the sampler runs on {@code cat([z, z])}; each call evaluates the model
     * once on {@code cat([x[:B], x[:B]])} with conditional then null labels and mixes
     * {@code uncond + s·(cond − uncond)} on the first {@code channels} output channels; the rest (learned σ) pass through.
     */
    static Guidance batched(double scale, int channels) {
        requireFinite(scale);
        return new Guidance() {
            @Override
            public INDArray samplerBatch(INDArray z) {
                return Nd4j.concat(0, z, z);                                                   // (2B, C, H, W)
            }

            @Override
            public long samplerRows(long rows) {
                return 2 * rows;
            }

            @Override
            public DenoiseFn denoiser(Denoiser model, Conditioning cond, Conditioning uncond) {
                Conditioning both = cond.concat(uncond);
                return (x, t) -> {
                    long n = x.size(0), half = n / 2;
                    if (n % 2 != 0 || n != both.batch())
                        throw new IllegalArgumentException("guidance needs the batch cat([z, z]) of " + both.batch() + " rows, got " + n);
                    INDArray h = Slices.range(x, 0, 0, half);
                    INDArray out = model.forward(Nd4j.concat(0, h, h), t, both);               // (2B, out, H, W)
                    INDArray eps = Slices.range(out, 1, 0, channels), rest = Slices.range(out, 1, channels, out.size(1));
                    INDArray c = Slices.range(eps, 0, 0, half), u = Slices.range(eps, 0, half, n);
                    INDArray mixed = u.add(c.sub(u).muli((float) scale));                       // uncond + s·(cond − uncond)
                    INDArray guided = Nd4j.concat(0, mixed, mixed);
                    return rest.size(1) == 0 ? guided : Nd4j.concat(1, guided, rest);
                };
            }

            @Override
            public INDArray conditional(INDArray result, int rows) {
                return Slices.range(result, 0, 0, rows);
            }
        };
    }

    /** U-ViT's rule: two passes over the same x, {@code cond + s·(cond − uncond)} on every channel. */
    static Guidance twoPass(double scale) {
        requireFinite(scale);
        return new Guidance() {
            @Override
            public INDArray samplerBatch(INDArray z) {
                return z;
            }

            @Override
            public long samplerRows(long rows) {
                return rows;
            }

            @Override
            public DenoiseFn denoiser(Denoiser model, Conditioning cond, Conditioning uncond) {
                return (x, t) -> {
                    INDArray c = model.forward(x, t, cond), u = model.forward(x, t, uncond);
                    return c.add(c.sub(u).muli((float) scale));                                // cond + s·(cond − uncond)
                };
            }

            @Override
            public INDArray conditional(INDArray result, int rows) {
                return result;
            }
        };
    }

    private static void requireFinite(double scale) {
        if (!Double.isFinite(scale)) throw new IllegalArgumentException("the guidance scale must be a finite number, got " + scale);
    }
}
