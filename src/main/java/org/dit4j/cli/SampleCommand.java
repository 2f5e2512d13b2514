package org.dit4j.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.dit4j.data.ImageNetClasses;
import org.dit4j.io.DiTLoader;
import org.dit4j.io.Images;
import org.dit4j.io.Npy;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.models.DiTConfig;
import org.dit4j.models.DiTModel;
import org.dit4j.models.GuidanceChannels;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.pipeline.SamplePipeline;
import org.dit4j.pipeline.SampleRequest;
import org.dit4j.pipeline.Vaes;
import org.dit4j.zoo.DiTZoo;
import org.dit4j.zoo.ZooEntry;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Sample class-conditional images (or latents) from a DiT; flags follow the official sample.py.")
public final class SampleCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Official architecture name, e.g. DiT-XL/2 (default: read from the checkpoint).")
    String model;

    @Option(names = "--model-config", description = "YAML model config with the official DiT constructor keys.")
    Path modelConfig;

    @Option(names = "--ckpt", required = true, description = "Weights: a zoo name (DiT-XL/2-256), .pt (torch.save), MindSpore .ckpt, .safetensors, a diffusers folder or a dit4j checkpoint directory.")
    Path ckpt;

    @Option(names = "--weights", defaultValue = "ema", description = "For training checkpoints: ema or model (default: ${DEFAULT-VALUE}).")
    String weights;

    @Option(names = "--image-size", description = "Image size in pixels (256 or 512 for DiT-XL/2); latents are 1/8 of it. Default: the checkpoint's.")
    Integer imageSize;

    @Option(names = "--num-classes", description = "Number of classes (default: the config's, 1000 for the named models).")
    Integer numClasses;

    static final class Classes {
        @Option(names = "--labels", split = ",", description = "Class ids, comma-separated, e.g. 207,360,387.")
        long[] ids;

        @Option(names = "--class-names", description = "ImageNet class names, comma-separated, e.g. \"golden retriever,white shark\".")
        String names;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Classes classes;

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

    @Option(names = "--save-latents", description = "Write the final latents of the N samples (before VAE scaling) to this .npy file.")
    Path saveLatents;

    @Option(names = "--vae", defaultValue = "mse", description = "Autoencoder for latent models: mse, ema (zoo, downloaded once), or a weights file/folder (default: ${DEFAULT-VALUE}).")
    String vae;

    @Option(names = "--no-decode", description = "Keep latents only (no VAE).")
    boolean noDecode;

    @Option(names = "--out", defaultValue = "samples", description = "Output directory for the PNG files (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--grid", description = "Grid image file (default: OUT/grid.png).")
    Path grid;

    @Option(names = "--vae-tile", defaultValue = "0", description = "Decode in overlapping latent tiles of this side (e.g. 32) to bound memory for large images; 0 = whole images.")
    int vaeTile;

    @Option(names = "--grid-nrow", defaultValue = "8", description = "Images per grid row, like save_image's nrow (default: ${DEFAULT-VALUE}).")
    int gridNrow;

    @Override
    public Integer call() throws Exception {
        if (steps <= 0) throw new IllegalArgumentException("--steps must be positive, got " + steps);
        if (batchSize < 0) throw new IllegalArgumentException("--batch-size must be >= 0");
        if (gridNrow <= 0) throw new IllegalArgumentException("--grid-nrow must be positive");
        TorchCheckpoint.Pick pick = TorchCheckpoint.Pick.parse(weights);
        GuidanceChannels channels = GuidanceChannels.parse(cfgChannels);
        SampleRequest.SamplerKind kind = SampleRequest.SamplerKind.parse(sampler);
        long[] labels = classes.ids != null ? classes.ids : ImageNetClasses.ids(classes.names);
        INDArray z = noise == null ? null : Npy.read(noise);

        DiTZoo zoo = DiTZoo.standard();
        Path weightsPath = ckpt;
        String arch = model;
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
        boolean pixelSpace = cfg.inChannels() == 3;
        AutoencoderKL autoencoder = pixelSpace || noDecode ? null : Vaes.load(vae, zoo);
        if (autoencoder != null && autoencoder.config().embedDim() != cfg.inChannels())
            throw new IllegalArgumentException("--vae has " + autoencoder.config().embedDim() + " latent channels, the model " + cfg.inChannels());

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
        INDArray images = pixelSpace ? latents : autoencoder != null ? Vaes.decodeLatents(autoencoder, latents, vaeTile) : null;
        if (images == null) {
            if (saveLatents == null) {
                Path file = out.resolve("latents.npy");
                Npy.write(file, latents);
                System.out.println("wrote latents " + Arrays.toString(latents.shape()) + " to " + file + " (--no-decode)");
            }
            return 0;
        }
        Path gridFile = grid != null ? grid : out.resolve("grid.png");
        Images.writeAll(out, images, i -> "-class" + labels[i], gridFile, gridNrow);
        System.out.println("wrote " + labels.length + " images to " + out + " and the grid " + gridFile);
        return 0;
    }

    /** A progress bar on an interactive terminal only, so logs and pipes stay clean. */
    private static ProgressBar progressBar() {
        if (System.console() == null) return null;
        return new ProgressBarBuilder().setTaskName("sampling").setStyle(ProgressBarStyle.ASCII).setUnit(" evals", 1).build();
    }
}
