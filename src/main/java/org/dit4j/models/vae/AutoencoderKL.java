package org.dit4j.models.vae;

import org.dit4j.models.StateDicts;
import org.dit4j.models.nn.SameDiffParams;
import org.dit4j.models.nn.ShapeParams;
import org.dit4j.util.Graphs;
import org.dit4j.util.Slices;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.*;

/**
 * LDM's {@code AutoencoderKL} (what {@code stabilityai/sd-vae-ft-mse} is) as one SameDiff graph with an encoding and
 * a decoding path: encoder → quant_conv → diagonal Gaussian; post_quant_conv → decoder. Parameters keep the LDM names.
 * Decoding runs one image at a time so a batch never holds all its activations at once.
 */
public final class AutoencoderKL {
    public static final String IMAGE = "image", LATENT = "latent", MOMENTS = "moments", DECODED = "decoded";

    /** The diagonal Gaussian posterior: mean, log-variance clamped to [-30, 20], and std. */
    public record Posterior(INDArray mean, INDArray logvar, INDArray std) {
        public INDArray mode() {
            return mean;
        }

        /** mean + std·eps. */
        public INDArray sample(INDArray eps) {
            return mean.add(std.mul(eps));
        }
    }

    private final VaeConfig cfg;
    private final SameDiff sd = Graphs.create();
    private final SameDiffParams params = new SameDiffParams(sd);

    private AutoencoderKL(VaeConfig cfg) {
        this.cfg = cfg;
        SDVariable image = sd.placeHolder(IMAGE, DataType.FLOAT, -1, cfg.inChannels(), -1, -1);
        SDVariable latent = sd.placeHolder(LATENT, DataType.FLOAT, -1, cfg.embedDim(), -1, -1);
        Encoder encoder = new Encoder(params, cfg);
        Decoder decoder = new Decoder(params, cfg);
        long zOut = cfg.doubleZ() ? 2L * cfg.zChannels() : cfg.zChannels();
        VaeLayers.Conv2d quant = new VaeLayers.Conv2d(params, "quant_conv", zOut, 2L * cfg.embedDim(), 1, 1, 0);
        VaeLayers.Conv2d postQuant = new VaeLayers.Conv2d(params, "post_quant_conv", cfg.embedDim(), cfg.zChannels(), 1, 1, 0);
        quant.apply(encoder.apply(image)).rename(MOMENTS);
        decoder.apply(postQuant.apply(latent)).rename(DECODED);
    }

    public static AutoencoderKL create(VaeConfig cfg) {
        return new AutoencoderKL(cfg);
    }

    public VaeConfig config() {
        return cfg;
    }

    public static Map<String, long[]> parameterShapes(VaeConfig cfg) {
        ShapeParams p = new ShapeParams();
        new Encoder(p, cfg);
        new Decoder(p, cfg);
        long zOut = cfg.doubleZ() ? 2L * cfg.zChannels() : cfg.zChannels();
        new VaeLayers.Conv2d(p, "quant_conv", zOut, 2L * cfg.embedDim(), 1, 1, 0);
        new VaeLayers.Conv2d(p, "post_quant_conv", cfg.embedDim(), cfg.zChannels(), 1, 1, 0);
        return p.shapes();
    }

    public void loadStateDict(Map<String, INDArray> weights, String source) {
        StateDicts.check(params.shapes(), weights, source);
        for (String k : params.shapes().keySet()) sd.getVariable(k).setArray(weights.get(k).castTo(DataType.FLOAT).dup('c'));
    }

    public Map<String, INDArray> stateDict() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String k : params.shapes().keySet()) out.put(k, sd.getVariable(k).getArr());
        return out;
    }

    private void checkImage(INDArray x) {
        int f = cfg.downFactor();
        if (x.rank() != 4 || x.size(1) != cfg.inChannels() || x.size(2) % f != 0 || x.size(3) % f != 0)
            throw new IllegalArgumentException("images have shape " + Arrays.toString(x.shape()) + ", expected (N, " + cfg.inChannels()
                    + ", H, W) with H and W multiples of " + f);
    }

    /** {@code quant_conv(encoder(x))}: (N, 2·embed, H/f, W/f) = [mean | logvar]. */
    public INDArray moments(INDArray x) {
        checkImage(x);
        return run(IMAGE, x, MOMENTS);
    }

    public Posterior encode(INDArray x) {
        return posterior(moments(x));
    }

    /**
     * The diagonal Gaussian of {@code moments} (N, 2·C, h, w) = [mean | logvar], logvar clamped to [−30, 20]: LDM's
     * {@code DiagonalGaussianDistribution}, and U-ViT's {@code FrozenAutoencoderKL.sample} on stored moments.
     */
    public static Posterior posterior(INDArray m) {
        if (m.rank() != 4 || m.size(1) % 2 != 0)
            throw new IllegalArgumentException("moments have shape " + Arrays.toString(m.shape()) + ", expected (N, 2·C, h, w)");
        long e = m.size(1) / 2;
        INDArray mean = Slices.range(m, 1, 0, e);
        INDArray logvar = Transforms.min(Transforms.max(Slices.range(m, 1, e, 2 * e), -30.0, false), 20.0, false);
        INDArray std = Transforms.exp(logvar.mul(0.5f), false);
        return new Posterior(mean, logvar, std);
    }

    /** {@code decoder(post_quant_conv(z))}, one image at a time: (N, 3, h·f, w·f) in about [-1, 1]. */
    public INDArray decode(INDArray z) {
        if (z.rank() != 4 || z.size(1) != cfg.embedDim())
            throw new IllegalArgumentException("latents have shape " + Arrays.toString(z.shape()) + ", expected (N, " + cfg.embedDim() + ", h, w)");
        List<INDArray> images = new ArrayList<>();
        for (long i = 0; i < z.size(0); i++) images.add(run(LATENT, Slices.range(z, 0, i, i + 1), DECODED));
        return Nd4j.concat(0, images.toArray(new INDArray[0]));
    }

    /**
     * Like {@link #decode}, but each image in overlapping latent tiles of side {@code tile} ({@code overlap} shared):
     * peak memory follows the tile, not the image.
     */
    public INDArray decodeTiled(INDArray z, int tile, int overlap) {
        if (z.rank() != 4 || z.size(1) != cfg.embedDim())
            throw new IllegalArgumentException("latents have shape " + Arrays.toString(z.shape()) + ", expected (N, " + cfg.embedDim() + ", h, w)");
        List<INDArray> images = new ArrayList<>();
        for (long i = 0; i < z.size(0); i++)
            images.add(TiledDecoding.decode(Slices.range(z, 0, i, i + 1), t -> run(LATENT, t, DECODED), cfg.downFactor(), tile, overlap));
        return Nd4j.concat(0, images.toArray(new INDArray[0]));
    }

    /** Named graph values for one input (intermediates, for tests). */
    public Map<String, INDArray> outputs(String placeholder, INDArray input, String... names) {
        Map<String, INDArray> out = new HashMap<>();
        sd.output(Map.of(placeholder, input.castTo(DataType.FLOAT)), names).forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }

    private INDArray run(String placeholder, INDArray input, String output) {
        return outputs(placeholder, input, output).get(output);
    }

    /** {@code sample.py}'s latent scaling in reverse: z / 0.18215 as a float32 division. */
    public INDArray unscale(INDArray latents) {
        return latents.castTo(DataType.FLOAT).div((float) cfg.scalingFactor());
    }

    /** {@code train.py}'s scaling: z · 0.18215. */
    public INDArray scale(INDArray z) {
        return z.castTo(DataType.FLOAT).mul((float) cfg.scalingFactor());
    }
}
