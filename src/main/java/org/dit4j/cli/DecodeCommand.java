package org.dit4j.cli;

import org.dit4j.io.Images;
import org.dit4j.io.Npy;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.pipeline.Vaes;
import org.dit4j.zoo.Zoo;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Decode saved latents (e.g. from sample --save-latents) to PNG images with a VAE: vae.decode(latents / 0.18215).")
public final class DecodeCommand implements Callable<Integer> {
    @Option(names = "--vae", defaultValue = "mse", description = "mse, ema (zoo) or a weights file/folder (default: ${DEFAULT-VALUE}).")
    String vae;

    @Option(names = "--latents", required = true, description = "Latents .npy (N, 4, h, w), scaled as DiT sees them.")
    Path latents;

    @Option(names = "--out", required = true, description = "Output directory for {index:06d}.png and grid.png.")
    Path out;

    @Option(names = "--save-npy", description = "Also write the float images (N, 3, H, W) in [-1, 1], before quantisation.")
    Path saveNpy;

    @Option(names = "--vae-tile", defaultValue = "0", description = "Decode in overlapping latent tiles of this side (e.g. 32) to bound memory for large images; 0 = whole images.")
    int vaeTile;

    @Option(names = "--grid-nrow", defaultValue = "8", description = "Images per grid row (default: ${DEFAULT-VALUE}).")
    int gridNrow;

    @Override
    public Integer call() throws Exception {
        if (gridNrow < 1) throw new IllegalArgumentException("--grid-nrow must be at least 1, got " + gridNrow);
        if (vaeTile < 0) throw new IllegalArgumentException("--vae-tile must be 0 (whole images) or a positive tile side, got " + vaeTile);
        INDArray z = Npy.read(latents);
        if (!z.isR()) throw new IllegalArgumentException("--latents " + latents + ": expected float32 or float64 values, found " + z.dataType());
        if (z.rank() != 4 || z.size(0) == 0)
            throw new IllegalArgumentException("--latents " + latents + ": shape " + Arrays.toString(z.shape()) + ", expected (N, C, h, w) with N >= 1");
        z = z.castTo(DataType.FLOAT);   // numpy's default float64 decodes as the float32 the VAE computes in
        AutoencoderKL model = Vaes.load(vae, Zoo.standard());
        if (z.size(1) != model.config().embedDim())
            throw new IllegalArgumentException("--latents " + latents + ": " + z.size(1) + " channels, the VAE takes " + model.config().embedDim());
        INDArray images = Vaes.decodeLatents(model, z, vaeTile);
        if (saveNpy != null) Npy.write(saveNpy, images);
        Images.writeAll(out, images, i -> "", i -> java.util.Map.of(), out.resolve("grid.png"), gridNrow, java.util.Map.of());
        System.out.println("decoded " + Arrays.toString(z.shape()) + " to " + z.size(0) + " images in " + out);
        return 0;
    }
}
