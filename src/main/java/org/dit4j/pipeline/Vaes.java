package org.dit4j.pipeline;

import org.dit4j.io.VaeWeights;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.zoo.Zoo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** {@code --vae mse|ema|NAME|PATH}: the zoo's sd-vae-ft-mse/-ema (downloaded once), or weights in any layout. */
public final class Vaes {
    private Vaes() {}

    public static AutoencoderKL load(String spec, Zoo zoo) throws IOException {
        String name = switch (spec) {
            case "mse", "ema" -> "sd-vae-ft-" + spec;
            default -> spec;
        };
        Path path = Paths.get(spec);
        if (Files.exists(path)) return VaeWeights.loadModel(path, null);
        if (zoo.contains(name)) return zoo.loadVae(name);
        throw new IllegalArgumentException("autoencoder '" + spec + "' is neither mse, ema, a zoo name nor an existing file or folder");
    }

    /** {@code sample.py}: {@code vae.decode(latents / 0.18215)}, an image in about [-1, 1]. */
    public static org.nd4j.linalg.api.ndarray.INDArray decodeLatents(AutoencoderKL vae, org.nd4j.linalg.api.ndarray.INDArray latents) {
        return decodeLatents(vae, latents, 0);
    }

    /** With {@code tile} > 0, decodes in overlapping latent tiles of that side (a quarter of it shared) to bound memory. */
    public static org.nd4j.linalg.api.ndarray.INDArray decodeLatents(AutoencoderKL vae, org.nd4j.linalg.api.ndarray.INDArray latents, int tile) {
        return decodeLatents(vae, latents, tile, vae.config().scalingFactor());
    }

    /** As above with the latents divided by {@code scaleFactor} (a float32 division) instead of the VAE's own factor. */
    public static org.nd4j.linalg.api.ndarray.INDArray decodeLatents(AutoencoderKL vae, org.nd4j.linalg.api.ndarray.INDArray latents, int tile,
                                                                     double scaleFactor) {
        if (!(scaleFactor > 0) || Double.isInfinite(scaleFactor))
            throw new IllegalArgumentException("the latent scale factor must be a positive number, got " + scaleFactor);
        var z = latents.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).div((float) scaleFactor);
        return tile > 0 ? vae.decodeTiled(z, tile, tile / 4) : vae.decode(z);
    }
}
