package org.dit4j.cli;

import org.dit4j.io.DiTLoader;
import org.dit4j.io.DiTWeights;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.io.WeightsFormat;
import org.dit4j.models.DiTConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert DiT weights between PyTorch (.pt), MindSpore (.ckpt), safetensors, diffusers and dit4j checkpoints.")
public final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--in", required = true, description = "Input file or folder.")
    Path in;

    @Option(names = "--out", required = true, description = "Output: a folder (dit4j, diffusers) or a .safetensors file.")
    Path out;

    @Option(names = "--from", defaultValue = "auto", description = "auto, pytorch, mindspore, safetensors, diffusers or dit4j (default: ${DEFAULT-VALUE}).")
    String from;

    @Option(names = "--to", defaultValue = "dit4j", description = "dit4j, safetensors (official PyTorch names) or diffusers (default: ${DEFAULT-VALUE}).")
    String to;

    @Option(names = "--model", description = "Official architecture name, e.g. DiT-XL/2 (default: from the input).")
    String model;

    @Option(names = "--model-config", description = "YAML model config (default: from the input).")
    Path modelConfig;

    @Option(names = "--image-size", defaultValue = "0", description = "Image size in pixels for --model (e.g. 512 for DiT-XL/2-512).")
    int imageSize;

    @Option(names = "--weights", defaultValue = "ema", description = "For training checkpoints: ema or model (default: ${DEFAULT-VALUE}).")
    String weights;

    @Override
    public Integer call() throws Exception {
        if (!Files.exists(in)) throw new IllegalArgumentException("--in " + in + ": no such file or directory");
        WeightsFormat format = from.equals("auto") ? null : WeightsFormat.parse(from);
        DiTWeights.Target target = switch (to) {
            case "dit4j" -> DiTWeights.Target.DIT4J;
            case "safetensors" -> DiTWeights.Target.SAFETENSORS;
            case "diffusers" -> DiTWeights.Target.DIFFUSERS;
            default -> throw new IllegalArgumentException("--to must be dit4j, safetensors or diffusers, got '" + to + "'");
        };
        TorchCheckpoint.Pick pick = TorchCheckpoint.Pick.parse(weights);
        DiTConfig cfg = DiTLoader.architecture(model, modelConfig, imageSize, 0);
        DiTWeights.Imported w = DiTWeights.load(in, format, cfg, pick);
        DiTWeights.export(out, target, w.config(), w.weights());
        DiTConfig c = w.config();
        System.out.printf(Locale.ROOT, "%s (%s, %s names) -> %s (%s)%n", in, w.format().name().toLowerCase(Locale.ROOT), w.naming(), out, to);
        System.out.printf(Locale.ROOT, "DiT depth %d, hidden %d, heads %d, patch %d, input %dx%d, %d in-channels, %d classes, learn_sigma %s: "
                        + "%d tensors, %,d values%n", c.depth(), c.hiddenSize(), c.numHeads(), c.patchSize(), c.inputSize(), c.inputSize(),
                c.inChannels(), c.numClasses(), c.learnSigma(), w.weights().size(), w.values());
        return 0;
    }
}
