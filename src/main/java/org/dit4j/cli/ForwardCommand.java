package org.dit4j.cli;

import org.dit4j.io.ModelLoader;
import org.dit4j.io.Npy;
import org.dit4j.models.Conditioning;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Evaluate a checkpoint once on given inputs and write the raw output (to check weights against PyTorch's model(x, t, y)).")
public final class ForwardCommand implements Callable<Integer> {
    @Mixin
    ModelOptions arch;

    @Option(names = "--ckpt", required = true, description = "Weights in any layout dit4j reads (see sample --ckpt).")
    Path ckpt;

    @Option(names = "--x", required = true, description = "x_t as .npy (N, C, H, W), float32 or float64.")
    Path x;

    @Option(names = "--t", required = true, description = "Timesteps as .npy (N), integer or float (fractional t allowed).")
    Path t;

    @Option(names = "--y", description = "Class labels as .npy (N), integer (the null class = num_classes).")
    Path y;

    @Option(names = "--context", description = "Text context as .npy (N, L, C), float32 or float64, for a text-to-image model (U-ViT t2i: 77 x 768).")
    Path context;

    @Option(names = "--out", required = true, description = "The raw model output as .npy (N, out_channels, H, W), float32.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (Files.isDirectory(out)) throw new IllegalArgumentException("--out " + out + " is a folder; give a .npy file name");
        INDArray xs = Npy.readFloat32(x);
        INDArray ts = Npy.read(t);
        if (ts.rank() != 1 || ts.isB() || !(ts.isR() || ts.isZ()))
            throw new IllegalArgumentException("--t " + t + ": expected a 1-D integer or float array, found " + ts.dataType() + " " + Arrays.toString(ts.shape()));
        double[] times = ts.castTo(DataType.DOUBLE).toDoubleVector();
        Denoiser model = ModelLoader.load(ModelLoader.resolve(ckpt), arch.model, arch.modelConfig, 0, 0, arch.weights);
        ModelConfig cfg = model.config();
        long[] want = {xs.size(0), cfg.inChannels(), cfg.inputSize(), cfg.inputSize()};
        if (!Arrays.equals(xs.shape(), want))
            throw new IllegalArgumentException("--x " + x + " has shape " + Arrays.toString(xs.shape()) + ", the model expects (N, "
                    + cfg.inChannels() + ", " + cfg.inputSize() + ", " + cfg.inputSize() + ")");
        if (times.length != xs.size(0))
            throw new IllegalArgumentException("--t " + t + " has " + times.length + " timesteps for " + xs.size(0) + " inputs");
        if (context != null && !"uvit-t2i".equals(cfg.family()))
            throw new IllegalArgumentException("--context is for text-to-image models; this " + cfg.family() + " model takes class labels");
        Conditioning c;
        if ("uvit-t2i".equals(cfg.family())) {
            if (context == null) throw new IllegalArgumentException("--context is required: a text-to-image model needs a text context (N, L, C)");
            c = new Conditioning(null, Npy.readFloat32(context), null);
        } else {
            // an unconditional model (no classes) takes no labels
            c = Conditioning.labels(cfg.numClasses() == 0 && y == null ? new long[(int) xs.size(0)] : labels(cfg, xs.size(0)));
        }
        INDArray result = model.forward(xs, times, c);
        Npy.write(out, result);
        System.out.println("wrote " + Arrays.toString(result.shape()) + " to " + out);
        return 0;
    }

    private long[] labels(ModelConfig cfg, long n) {
        if (y == null) throw new IllegalArgumentException("--y is required: a class-conditional model needs labels (the null class is " + cfg.nullLabel() + ")");
        INDArray ys = Npy.read(y);
        if (ys.rank() != 1 || !ys.isZ() || ys.isB())
            throw new IllegalArgumentException("--y " + y + ": expected a 1-D integer array, found " + ys.dataType() + " " + Arrays.toString(ys.shape()));
        if (ys.length() != n) throw new IllegalArgumentException("--y " + y + " has " + ys.length() + " labels for " + n + " inputs");
        long[] v = ys.castTo(DataType.LONG).toLongVector();
        int rows = cfg.nullLabel() >= 0 ? cfg.numClasses() + 1 : cfg.numClasses();
        for (long l : v)
            if (l < 0 || l >= rows) throw new IllegalArgumentException("--y " + y + ": label " + l + " is outside [0, " + rows + ")");
        return v;
    }
}
