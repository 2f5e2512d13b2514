package org.dit4j.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.dit4j.io.*;
import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.dit4j.models.GuidanceChannels;
import org.dit4j.pipeline.SamplePipeline;
import org.dit4j.pipeline.SampleRequest;
import org.dit4j.zoo.DiTZoo;
import org.dit4j.zoo.ZooEntry;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Sample class-conditional latents or images from a DiT (flags follow the official sample.py).")
public final class SampleCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Official architecture name, e.g. DiT-XL/2 (default: read from the checkpoint).")
    String model;

    @Option(names = "--model-config", description = "YAML model config with the official DiT constructor keys.")
    Path modelConfig;

    @Option(names = "--ckpt", required = true, description = "Weights: a zoo name (DiT-XL/2-256), .pt (torch.save), MindSpore .ckpt, .safetensors, a diffusers folder or a dit4j checkpoint directory.")
    Path ckpt;

    @Option(names = "--weights", defaultValue = "ema", description = "For train.py checkpoints: ema or model (default: ${DEFAULT-VALUE}).")
    String weights;

    @Option(names = "--image-size", description = "Image size in pixels (256 or 512 for DiT-XL/2); latents are 1/8 of it. Default: the config's.")
    Integer imageSize;

    @Option(names = "--num-classes", description = "Number of classes (default: the config's, 1000 for the named models).")
    Integer numClasses;

    @Option(names = "--labels", split = ",", required = true, description = "Class ids to sample, comma-separated, e.g. 207,360,387.")
    long[] labels;

    @Option(names = "--sampler", defaultValue = "ddpm", description = "ddpm or ddim (default: ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--steps", defaultValue = "250", description = "Sampling steps; respacing str(N) as sample.py (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--respacing", description = "Explicit timestep respacing (e.g. 250, ddim50, 10,20,30); overrides --steps.")
    String respacing;

    @Option(names = "--eta", defaultValue = "0.0", description = "DDIM eta (default: ${DEFAULT-VALUE}).")
    double eta;

    @Option(names = "--cfg-scale", defaultValue = "4.0", description = "Classifier-free guidance scale; 1 disables guidance (default: ${DEFAULT-VALUE}).")
    double cfgScale;

    @Option(names = "--cfg-channels", defaultValue = "3", description = "Guide channels '3' (official DiT) or 'all' (diffusers) (default: ${DEFAULT-VALUE}).")
    String cfgChannels;

    @Option(names = "--clip-denoised", description = "Clip x0 predictions to [-1, 1] (off in sample.py).")
    boolean clipDenoised;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the initial and per-step noise (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch-size", defaultValue = "0", description = "Labels per batch; 0 = all at once.")
    int batchSize;

    @Option(names = "--noise", description = "Initial latents z as .npy (N, C, H, W), one row per label, e.g. from PyTorch.")
    Path noise;

    @Option(names = "--save-latents", description = "Write the final latents of the N samples to this .npy file.")
    Path saveLatents;

    @Option(names = "--out", defaultValue = "samples", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--grid-nrow", defaultValue = "8", description = "Images per grid row (default: ${DEFAULT-VALUE}).")
    int gridNrow;

    @Override
    public Integer call() throws Exception {
        if (steps <= 0) throw new IllegalArgumentException("--steps must be positive, got " + steps);
        if (batchSize < 0) throw new IllegalArgumentException("--batch-size must be >= 0");
        TorchCheckpoint.Pick pick = switch (weights) {
            case "ema" -> TorchCheckpoint.Pick.EMA;
            case "model" -> TorchCheckpoint.Pick.MODEL;
            default -> throw new IllegalArgumentException("--weights must be ema or model, got '" + weights + "'");
        };
        GuidanceChannels channels = GuidanceChannels.parse(cfgChannels);
        SampleRequest.SamplerKind kind = SampleRequest.SamplerKind.parse(sampler);

        INDArray z = noise == null ? null : Npy.read(noise);
        Path weightsPath = ckpt;
        String arch = model;
        DiTZoo zoo = DiTZoo.standard();
        if (!Files.exists(ckpt) && zoo.contains(ckpt.toString())) {
            // A zoo name: the cached (or freshly downloaded) official weights, at the entry's architecture.
            ZooEntry entry = zoo.entry(ckpt.toString());
            weightsPath = ZooCommand.fetchWithProgress(zoo, entry.name());
            if (arch == null && modelConfig == null) {
                arch = entry.architecture();
                if (imageSize == null) imageSize = entry.imageSize();
            }
        }
        DiTModel dit = DiTLoader.load(weightsPath, arch, modelConfig, imageSize == null ? 0 : imageSize, numClasses == null ? 0 : numClasses, pick);
        DiTConfig cfg = dit.config();

        SampleRequest request = SampleRequest.of(labels)
                .withSampler(kind, respacing != null ? respacing : String.valueOf(steps))
                .withEta(eta).withGuidance(cfgScale, channels).withClipDenoised(clipDenoised)
                .withSeed(seed).withBatchSize(batchSize).withNoise(z);
        INDArray latents;
        try (ProgressBar bar = progressBar()) {
            latents = new SamplePipeline(dit).sample(request, (done, total) -> {
                if (bar != null) {
                    bar.maxHint(total);
                    bar.stepTo(done);
                }
            });
        }
        if (saveLatents != null) {
            Npy.write(saveLatents, latents);
            System.out.println("wrote latents " + Arrays.toString(latents.shape()) + " to " + saveLatents);
        }
        if (cfg.inChannels() == 3) {
            Files.createDirectories(out);
            for (int i = 0; i < labels.length; i++)
                Images.writePng(out.resolve(String.format("%06d-class%d.png", i, labels[i])), Images.toImage(latents.slice(i)));
            Images.writePng(out.resolve("grid.png"), Images.grid(latents, gridNrow));
            System.out.println("wrote " + labels.length + " images and grid.png to " + out);
        } else if (saveLatents == null) {
            Path file = out.resolve("latents.npy");
            Npy.write(file, latents);
            System.out.println("wrote latents " + Arrays.toString(latents.shape()) + " to " + file
                    + " (decoding to images needs the VAE, which dit4j does not have yet)");
        } else {
            System.out.println("latent model: images need the VAE, which dit4j does not have yet");
        }
        return 0;
    }

    /** A progress bar on an interactive terminal only, so logs and pipes stay clean. */
    private static ProgressBar progressBar() {
        if (System.console() == null) return null;
        return new ProgressBarBuilder().setTaskName("sampling").setStyle(ProgressBarStyle.ASCII)
                .setUnit(" evals", 1).build();
    }
}
