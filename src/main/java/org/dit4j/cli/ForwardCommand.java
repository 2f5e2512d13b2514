package org.dit4j.cli;

import org.dit4j.io.ModelLoader;
import org.dit4j.io.Npy;
import org.dit4j.models.Conditioning;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.TokenLayout;
import org.dit4j.models.fit.FiTConfig;
import org.dit4j.models.fit.FiTModel;
import org.nd4j.linalg.ops.transforms.Transforms;
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

    @Option(names = "--x", required = true, description = "x_t as .npy (N, C, H, W), float32 or float64; for FiT also its token sequences (N, p·p·C, T) with --grid and --mask.")
    Path x;

    @Option(names = "--grid", description = "FiT: token positions as .npy (N, 2, T), row 0 the column index, row 1 the row index.")
    Path grid;

    @Option(names = "--mask", description = "FiT: .npy (N, T), 1 on real tokens and 0 on padding.")
    Path mask;

    @Option(names = "--size", description = "FiT: each sample's (h, w) in patches as .npy (N, 1, 2) or (N, 2); the extrapolation target (default: from the grid).")
    Path size;

    @Option(names = "--interpolation", converter = Converters.InterpolationConverter.class, completionCandidates = Converters.InterpolationConverter.class,
            description = "FiT RoPE extrapolation: no (default), linear, dynntk, partntk, yarn.")
    String interpolation;

    @Option(names = "--decouple", description = "FiT: extrapolate rows and columns separately.")
    boolean decouple;

    @Option(names = "--t", required = true, description = "Timesteps as .npy (N), integer or float (fractional t allowed).")
    Path t;

    @Option(names = "--y", description = "Class labels as .npy (N), integer (the null class = num_classes).")
    Path y;

    @Option(names = "--context", description = "Text context as .npy (N, L, C), float32 or float64, for a text-to-image model (U-ViT t2i: 77 x 768).")
    Path context;

    @Option(names = "--out", required = true, description = "The raw model output as .npy (N, out_channels, H, W), float32; FiT tokens give (N, p·p·C_out, T).")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (Files.isDirectory(out)) throw new IllegalArgumentException("--out " + out + " is a folder; give a .npy file name");
        INDArray xs = Npy.readFloat32(x);
        INDArray ts = Npy.read(t);
        if (ts.rank() != 1 || ts.isB() || !(ts.isR() || ts.isZ()))
            throw new IllegalArgumentException("--t " + t + ": expected a 1-D integer or float array, found " + ts.dataType() + " " + Arrays.toString(ts.shape()));
        double[] times = ts.castTo(DataType.DOUBLE).toDoubleVector();
        if (decouple && (interpolation == null || interpolation.equals("no")))
            throw new IllegalArgumentException("--decouple needs an --interpolation method (linear, dynntk, partntk or yarn)");
        Denoiser model = ModelLoader.load(ModelLoader.resolve(ckpt), arch.model, arch.modelConfig, 0, 0, arch.weights);
        ModelConfig cfg = model.config();
        if (!(model instanceof FiTModel) && (grid != null || mask != null || size != null || interpolation != null))
            throw new IllegalArgumentException("--grid, --mask, --size and --interpolation are FiT inputs; this is a " + cfg.family() + " model");
        if (model instanceof FiTModel fit) {
            if (interpolation != null) fit = fit.withConfig(fit.config().withExtrapolation(FiTConfig.customFreqsOf(interpolation), decouple));
            INDArray result = forwardFit(fit, xs, times);
            Npy.write(out, result);
            System.out.println("wrote " + Arrays.toString(result.shape()) + " to " + out);
            return 0;
        }
        String expected = "the model expects (N, " + cfg.inChannels() + ", " + cfg.inputSize() + ", " + cfg.inputSize() + ")";
        if (xs.rank() != 4 || xs.size(1) != cfg.inChannels())
            throw new IllegalArgumentException("--x " + x + " has shape " + Arrays.toString(xs.shape()) + ", " + expected);
        try {
            cfg.checkSampleSize((int) xs.size(2), (int) xs.size(3));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--x " + x + " has shape " + Arrays.toString(xs.shape()) + ", " + expected + ": " + e.getMessage());
        }
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

    /** FiT on latents (N, C, H, W) of any patch-multiple size, or on token sequences (N, p·p·C, T) with their layout. */
    private INDArray forwardFit(FiTModel fit, INDArray xs, double[] times) {
        FiTConfig cfg = fit.config();
        if (times.length != xs.size(0))
            throw new IllegalArgumentException("--t " + t + " has " + times.length + " timesteps for " + xs.size(0) + " inputs");
        long[] labels = labels(cfg, xs.size(0));
        if (xs.rank() == 4) {
            if (grid != null || mask != null) throw new IllegalArgumentException("--grid and --mask go with token sequences (N, p·p·C, T), not latents");
            try {
                cfg.checkSampleSize((int) xs.size(2), (int) xs.size(3));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--x " + x + ": " + e.getMessage());
            }
            if (xs.size(1) != cfg.inChannels())
                throw new IllegalArgumentException("--x " + x + " has " + xs.size(1) + " channels, the model takes " + cfg.inChannels());
            return fit.forward(xs, times, Conditioning.labels(labels));
        }
        long n = xs.size(0), tokens = xs.rank() == 3 ? xs.size(2) : -1;
        if (xs.rank() != 3 || xs.size(1) != cfg.tokenChannels())
            throw new IllegalArgumentException("--x " + x + " has shape " + Arrays.toString(xs.shape()) + ", expected latents (N, " + cfg.inChannels()
                    + ", H, W) or tokens (N, " + cfg.tokenChannels() + ", T)");
        if (grid == null || mask == null) throw new IllegalArgumentException("token sequences need --grid (N, 2, T) and --mask (N, T)");
        INDArray g = integers(grid, "--grid", n, 2, tokens), m = Npy.read(mask);
        if (!Arrays.equals(m.shape(), new long[]{n, tokens}))
            throw new IllegalArgumentException("--mask " + mask + " has shape " + Arrays.toString(m.shape()) + ", expected (" + n + ", " + tokens + ")");
        INDArray mf = m.castTo(DataType.FLOAT);
        if (mf.neq(0).castTo(DataType.INT).sumNumber().longValue() != mf.eq(1).castTo(DataType.INT).sumNumber().longValue())
            throw new IllegalArgumentException("--mask " + mask + ": expected only 0 and 1");
        INDArray sizes = null;
        if (size != null) {
            sizes = Npy.read(size);
            if (!sizes.isZ() || sizes.length() != 2 * n)
                throw new IllegalArgumentException("--size " + size + ": expected integers of shape (" + n + ", 1, 2) or (" + n + ", 2), found "
                        + sizes.dataType() + " " + Arrays.toString(sizes.shape()));
        }
        if (g.minNumber().longValue() < 0) throw new IllegalArgumentException("--grid " + grid + ": negative index");
        return fit.forwardTokens(xs, times, labels, new TokenLayout(g, mf, sizes));
    }

    /** An integer-valued array (integer or float dtype) of exactly {@code shape}. */
    private static INDArray integers(Path file, String flag, long... shape) {
        INDArray a = Npy.read(file);
        if (!Arrays.equals(a.shape(), shape) || a.isB())
            throw new IllegalArgumentException(flag + " " + file + " has shape " + Arrays.toString(a.shape()) + ", expected " + Arrays.toString(shape));
        INDArray d = a.castTo(DataType.DOUBLE);
        if (!d.eq(Transforms.floor(d, true)).all())
            throw new IllegalArgumentException(flag + " " + file + ": expected integer values");
        return a.castTo(DataType.LONG);
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
