package org.dit4j.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.dit4j.data.ImageFolderData;
import org.dit4j.data.LatentShards;
import org.dit4j.diffusion.NoiseSource;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.pipeline.Vaes;
import org.dit4j.zoo.Zoo;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "extract-features", mixinStandardHelpOptions = true,
        description = "Encode an ImageNet-format folder once with the VAE into latent shards for dit4j train --features (resumable).")
public final class ExtractFeaturesCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "ImageNet-format folder (root/<class>/<images>).")
    Path data;

    @Option(names = "--out", required = true, description = "Feature folder (manifest.json + shards).")
    Path out;

    @Option(names = "--vae", defaultValue = "ema", description = "mse, ema or a weights path (default: ${DEFAULT-VALUE}, as train.py).")
    String vae;

    @Option(names = "--image-size", defaultValue = "256", description = "Centre-crop size in pixels (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--mode", description = "Store the posterior mean instead of a sample.")
    boolean mode;

    @Option(names = "--flip", description = "Also store the latents of the mirrored images (training picks one at random).")
    boolean flip;

    @Option(names = "--shard-size", defaultValue = "1024", description = "Examples per shard (default: ${DEFAULT-VALUE}).")
    int shardSize;

    @Option(names = "--batch-size", defaultValue = "8", description = "Images per VAE call (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the posterior samples (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        if (shardSize <= 0 || batchSize <= 0) throw new IllegalArgumentException("--shard-size and --batch-size must be positive");
        ImageFolderData images = new ImageFolderData(data, imageSize);
        LatentShards.Writer writer = new LatentShards.Writer(out, imageSize, vae, flip, mode, seed);
        AutoencoderKL model = Vaes.load(vae, Zoo.standard());
        long start = writer.done();
        if (start > 0) System.out.println("resuming after " + start + " of " + images.size() + " images");
        try (ProgressBar bar = System.console() == null ? null : new ProgressBarBuilder().setTaskName("encoding")
                .setStyle(ProgressBarStyle.ASCII).setInitialMax(images.size()).setUnit(" images", 1).build()) {
            for (long s = start; s < images.size(); s += shardSize) {
                int n = (int) Math.min(shardSize, images.size() - s);
                List<INDArray> latents = new ArrayList<>(), flipped = new ArrayList<>();
                long[] labels = new long[n];
                for (int b = 0; b < n; b += batchSize) {
                    int m = Math.min(batchSize, n - b);
                    List<INDArray> xs = new ArrayList<>(), fs = new ArrayList<>();
                    for (int k = 0; k < m; k++) {
                        int i = (int) (s + b + k);
                        INDArray x = images.load(i, false);
                        if (x == null) throw new IllegalArgumentException(images.problem(i) + "; remove it and run again (extraction resumes)");
                        xs.add(x.reshape(1, 3, imageSize, imageSize));
                        if (flip) fs.add(images.load(i, true).reshape(1, 3, imageSize, imageSize));
                        labels[b + k] = images.label(i);
                    }
                    long first = s + b;
                    latents.add(encode(model, Nd4j.concat(0, xs.toArray(new INDArray[0])), first, "plain"));
                    if (flip) flipped.add(encode(model, Nd4j.concat(0, fs.toArray(new INDArray[0])), first, "flipped"));
                    if (bar != null) bar.stepTo(first + m);
                }
                writer.append(Nd4j.concat(0, latents.toArray(new INDArray[0])), labels,
                        flip ? Nd4j.concat(0, flipped.toArray(new INDArray[0])) : null);
            }
        }
        System.out.println("extracted " + writer.done() + " latents to " + out + " (" + images.describe() + ")");
        return 0;
    }

    /** Posterior sample (seeded by the position of the first image, so a resumed run draws the same) × 0.18215. */
    private INDArray encode(AutoencoderKL model, INDArray x, long first, String variant) {
        AutoencoderKL.Posterior p = model.encode(x);
        INDArray z = mode ? p.mode() : p.sample(NoiseSource.seeded(seed ^ (first * 0x9E3779B97F4A7C15L) ^ variant.hashCode()).next(p.mean().shape()));
        return model.scale(z);
    }
}
