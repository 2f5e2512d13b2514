package org.dit4j.cli;

import org.dit4j.io.ModelLoader;
import org.dit4j.io.VaeWeights;
import org.dit4j.io.Weights;
import org.dit4j.io.WeightsFormat;
import org.dit4j.models.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert model weights between PyTorch (.pt), MindSpore (.ckpt), safetensors, diffusers and dit4j checkpoints.")
public final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--in", required = true, description = "Input file or folder.")
    Path in;

    @Option(names = "--out", required = true, description = "Output: a folder (dit4j, diffusers), a .safetensors or a MindSpore .ckpt file.")
    Path out;

    @Option(names = "--vae", description = "The input is a Stable Diffusion autoencoder (LDM, diffusers or MindONE layout), written under LDM names.")
    boolean vae;

    @Option(names = "--from", defaultValue = "auto", description = "auto, pytorch, mindspore, safetensors, diffusers or dit4j (default: ${DEFAULT-VALUE}).")
    String from;

    @Option(names = "--to", defaultValue = "dit4j", description = "${COMPLETION-CANDIDATES}: dit4j, safetensors (official PyTorch names), diffusers"
            + " or mindspore (a .ckpt as MindONE's dit_converter.py / vae_converter.py write) (default: ${DEFAULT-VALUE}).")
    Weights.Target to;

    @Mixin
    ModelOptions arch;

    @Option(names = "--image-size", defaultValue = "0", description = "Image size in pixels for --model (e.g. 512 for DiT-XL/2-512).")
    int imageSize;

    @Override
    public Integer call() throws Exception {
        if (!Files.exists(in)) throw new IllegalArgumentException("--in " + in + ": no such file or directory");
        WeightsFormat format = from.equals("auto") ? null : WeightsFormat.parse(from);
        if (vae) {
            if (to == Weights.Target.DIT4J) throw new IllegalArgumentException("--vae: give --to safetensors, diffusers or mindspore");
            if (arch.model != null || arch.modelConfig != null) throw new IllegalArgumentException("--vae takes its architecture from the weights; drop --model/--model-config");
            VaeWeights.Imported v = VaeWeights.load(in, null);
            VaeWeights.export(out, to, v.config(), v.weights());
            System.out.printf(Locale.ROOT, "%s (autoencoder, %s names) -> %s (%s): %d tensors%n", in, v.naming(), out,
                    to.name().toLowerCase(Locale.ROOT), v.weights().size());
            return 0;
        }
        ModelConfig cfg = ModelLoader.architecture(arch.model, arch.modelConfig, imageSize, 0);
        Weights.Imported w = Weights.load(in, format, cfg, arch.weights);
        Weights.export(out, to, w.config(), w.weights());
        ModelConfig c = w.config();
        System.out.printf(Locale.ROOT, "%s (%s, %s names) -> %s (%s)%n", in, w.format().name().toLowerCase(Locale.ROOT), w.naming(), out,
                to.name().toLowerCase(Locale.ROOT));
        System.out.printf(Locale.ROOT, "%s %s: %d tensors, %,d values%n", c.family(), c.toMap(), w.weights().size(), w.values());
        return 0;
    }
}
