package org.dit4j.cli;

import org.dit4j.diffusion.NoiseSource;
import org.dit4j.io.Images;
import org.dit4j.io.Npy;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.pipeline.Vaes;
import org.dit4j.zoo.Zoo;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "encode", mixinStandardHelpOptions = true,
        description = "Encode images to DiT latents with a VAE: posterior sample (or mode) × 0.18215, as train.py.")
public final class EncodeCommand implements Callable<Integer> {
    @Option(names = "--vae", defaultValue = "mse", description = "mse, ema (zoo) or a weights file/folder (default: ${DEFAULT-VALUE}).")
    String vae;

    @Option(names = "--images", required = true, description = "An image file or a folder of them (sorted by name); all the same size, a multiple of 8,"
            + " at most 64 megapixels.")
    Path images;

    @Option(names = "--out", required = true, description = "Latents .npy (N, 4, H/8, W/8).")
    Path out;

    @Option(names = "--mode", description = "Use the posterior mean instead of a sample.")
    boolean mode;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the posterior sample (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(images)) {
            try (Stream<Path> s = Files.list(images)) {
                s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(png|jpe?g|bmp|gif)$")).sorted().forEach(files::add);
            }
            if (files.isEmpty()) throw new IllegalArgumentException("--images " + images + ": no PNG/JPEG/BMP/GIF files");
        } else if (Files.isRegularFile(images)) {
            files.add(images);
        } else {
            throw new IllegalArgumentException("--images " + images + ": no such file or directory");
        }
        List<INDArray> batch = new ArrayList<>();
        boolean folder = Files.isDirectory(images);
        for (Path f : files) {
            // a single image must be whole; in a folder a damaged one that decodes is encoded, with one warning
            INDArray img;
            if (folder) {
                Images.Decoded d = Images.decode(f);
                if (!d.warnings().isEmpty()) System.err.println("dit4j encode: warning: " + f + ": damaged image (" + d.warnings().get(0) + "), encoded as it decodes");
                img = Images.toRgb(d.image());
            } else {
                img = Images.readRgb(f);
            }
            INDArray one = img.reshape(1, 3, img.size(1), img.size(2));
            if (!batch.isEmpty() && !Arrays.equals(batch.get(0).shape(), one.shape()))
                throw new IllegalArgumentException(f + ": size " + img.size(2) + "x" + img.size(1) + " differs from the first image's "
                        + batch.get(0).size(3) + "x" + batch.get(0).size(2));
            batch.add(one);
        }
        AutoencoderKL model = Vaes.load(vae, Zoo.standard());
        INDArray x = Nd4j.concat(0, batch.toArray(new INDArray[0]));
        AutoencoderKL.Posterior p = model.encode(x);
        INDArray z = mode ? p.mode() : p.sample(NoiseSource.seeded(seed).next(p.mean().shape()));
        INDArray latents = model.scale(z);
        Npy.write(out, latents);
        System.out.println("encoded " + files.size() + " images to latents " + Arrays.toString(latents.shape()) + " in " + out);
        return 0;
    }
}
