package org.dit4j.models.inception;

import org.dit4j.io.TorchCheckpoint;
import org.dit4j.io.WeightsFormatException;
import org.dit4j.models.StateDicts;
import org.dit4j.runtime.Execution;
import org.dit4j.util.Graphs;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.*;

/**
 * pytorch-fid's FID InceptionV3 ({@code fid_inception_v3()}: torchvision's {@code Inception3(num_classes=1008,
 * aux_logits=False)} with the FID blocks, a port of TensorFlow's 2015-12-05 graph) as one SameDiff graph, in eval mode.
 * Input: (N, 3, 299, 299) already preprocessed ({@link InceptionPreprocess}); the layers run channels-last (see
 * {@link BasicConv2d}), the block outputs are permuted back to NCHW. Outputs: pytorch-fid's blocks 0–2, pool3
 * (block 3, the FID feature), ADM's sFID feature ({@code mixed_6/conv[..., :7]} = Mixed_6d.branch1x1, NHWC, flattened)
 * and the 1008-way head with and without its bias (ADM's Inception Score uses the graph's bias-free MatMul).
 */
public final class FidInceptionV3 {
    public static final String INPUT = "input";

    /** What one forward can return; only the requested ones are computed. */
    public enum Output {
        BLOCK0("block0"), BLOCK1("block1"), BLOCK2("block2"), POOL3("pool3"), SPATIAL("spatial"), LOGITS("logits"),
        LOGITS_NOBIAS("logits_nobias");

        final String node;

        Output(String node) {
            this.node = node;
        }

        /** The graph variable holding it. */
        public String node() {
            return node;
        }
    }

    /** The sFID feature: the first 7 of Mixed_6d.branch1x1's 192 channels over its 17×17 map, (h, w, c) order. */
    public static final int SPATIAL_CHANNELS = 7, SPATIAL_DIM = 17 * 17 * SPATIAL_CHANNELS, POOL3_DIM = 2048, CLASSES = 1008;

    private final SameDiff sd = Graphs.create();
    private final Execution execution = new Execution();

    private FidInceptionV3(Map<String, INDArray> weights) {
        InceptionTensors t = InceptionTensors.of(sd, weights);
        SDVariable input = sd.placeHolder(INPUT, DataType.FLOAT, -1, 3, 299, 299);               // (N, 3, 299, 299)
        SDVariable x = sd.permute(input, 0, 2, 3, 1);                                            // (N, 299, 299, 3)
        Layers l = new Layers(t);
        SDVariable h = l.conv2d_2b.apply(l.conv2d_2a.apply(l.conv2d_1a.apply(x)));               // (N, 147, 147, 64)
        SDVariable block0 = Pools.max3x3Stride2(h);                                              // (N, 73, 73, 64)
        h = l.conv2d_4a.apply(l.conv2d_3b.apply(block0));                                        // (N, 71, 71, 192)
        SDVariable block1 = Pools.max3x3Stride2(h);                                              // (N, 35, 35, 192)
        h = l.mixed5d.apply(l.mixed5c.apply(l.mixed5b.apply(block1)));                           // (N, 35, 35, 288)
        h = l.mixed6a.apply(h);                                                                  // (N, 17, 17, 768)
        h = l.mixed6c.apply(l.mixed6b.apply(h).out()).out();                                     // (N, 17, 17, 768)
        InceptionC.Output m6d = l.mixed6d.apply(h);
        SDVariable block2 = l.mixed6e.apply(m6d.out()).out();                                    // (N, 17, 17, 768)
        // pytorch-fid's block outputs are NCHW
        sd.permute(block0, 0, 3, 1, 2).rename(Output.BLOCK0.node);                               // (N, 64, 73, 73)
        sd.permute(block1, 0, 3, 1, 2).rename(Output.BLOCK1.node);                               // (N, 192, 35, 35)
        sd.permute(block2, 0, 3, 1, 2).rename(Output.BLOCK2.node);                               // (N, 768, 17, 17)
        SDVariable firstSeven = m6d.branch1x1().get(SDIndex.all(), SDIndex.all(), SDIndex.all(), SDIndex.interval(0, SPATIAL_CHANNELS));  // (N, 17, 17, 7)
        sd.reshape(firstSeven, -1, SPATIAL_DIM).rename(Output.SPATIAL.node);                     // (N, 2023)
        h = l.mixed7c.apply(l.mixed7b.apply(l.mixed7a.apply(block2)));                           // (N, 8, 8, 2048)
        SDVariable pool3 = h.mean(1, 2).rename(Output.POOL3.node);                               // (N, 2048)
        SDVariable nobias = sd.mmul(pool3, l.fcWeight, false, true, false).rename(Output.LOGITS_NOBIAS.node);  // (N, 1008)
        nobias.add(l.fcBias).rename(Output.LOGITS.node);                                         // (N, 1008)
    }

    /** Every module in torchvision's definition order, which is its {@code state_dict()} order. */
    private static final class Layers {
        final BasicConv2d conv2d_1a, conv2d_2a, conv2d_2b, conv2d_3b, conv2d_4a;
        final InceptionA mixed5b, mixed5c, mixed5d;
        final InceptionB mixed6a;
        final InceptionC mixed6b, mixed6c, mixed6d, mixed6e;
        final InceptionD mixed7a;
        final InceptionE mixed7b, mixed7c;
        final SDVariable fcWeight, fcBias;

        Layers(InceptionTensors t) {
            conv2d_1a = new BasicConv2d(t, "Conv2d_1a_3x3", 3, 32, 3, 2, 0);
            conv2d_2a = new BasicConv2d(t, "Conv2d_2a_3x3", 32, 32, 3, 1, 0);
            conv2d_2b = new BasicConv2d(t, "Conv2d_2b_3x3", 32, 64, 3, 1, 1);
            conv2d_3b = new BasicConv2d(t, "Conv2d_3b_1x1", 64, 80, 1, 1, 0);
            conv2d_4a = new BasicConv2d(t, "Conv2d_4a_3x3", 80, 192, 3, 1, 0);
            mixed5b = new InceptionA(t, "Mixed_5b", 192, 32);
            mixed5c = new InceptionA(t, "Mixed_5c", 256, 64);
            mixed5d = new InceptionA(t, "Mixed_5d", 288, 64);
            mixed6a = new InceptionB(t, "Mixed_6a", 288);
            mixed6b = new InceptionC(t, "Mixed_6b", 768, 128);
            mixed6c = new InceptionC(t, "Mixed_6c", 768, 160);
            mixed6d = new InceptionC(t, "Mixed_6d", 768, 160);
            mixed6e = new InceptionC(t, "Mixed_6e", 768, 192);
            mixed7a = new InceptionD(t, "Mixed_7a", 768);
            mixed7b = new InceptionE(t, "Mixed_7b", 1280, InceptionE.Pool.AVG_EXCLUDE_PAD);
            mixed7c = new InceptionE(t, "Mixed_7c", 2048, InceptionE.Pool.MAX);
            INDArray w = t.get("fc.weight", CLASSES, POOL3_DIM), b = t.get("fc.bias", CLASSES);
            fcWeight = t.building() ? t.constant("fc.weight", w) : null;
            fcBias = t.building() ? t.constant("fc.bias", b) : null;
        }
    }

    /** The 566 state-dict entries (472 float tensors, 94 int64 {@code num_batches_tracked} scalars) and their shapes. */
    public static Map<String, long[]> stateDictShapes() {
        InceptionTensors t = InceptionTensors.recorder();
        new Layers(t);
        return t.shapes();
    }

    /**
     * The network over a state dict under torchvision's names, loaded strictly as {@code load_state_dict} does.
     */
    public static FidInceptionV3 fromStateDict(Map<String, INDArray> weights, String source) {
        return new FidInceptionV3(checkedStateDict(weights, source));
    }

    /**
     * The state dict checked key by key against the architecture (missing, unexpected, mis-shaped keys and dtypes are
     * named), with absent {@code num_batches_tracked} counters filled in as PyTorch's BatchNorm loader does.
     */
    public static Map<String, INDArray> checkedStateDict(Map<String, INDArray> weights, String source) {
        Map<String, long[]> shapes = stateDictShapes();
        Map<String, INDArray> w = new LinkedHashMap<>(weights);
        for (String k : shapes.keySet()) if (k.endsWith(".num_batches_tracked")) w.putIfAbsent(k, InceptionTensors.zeroCounter());
        StateDicts.check(shapes, w, source);
        Map<String, INDArray> ordered = new LinkedHashMap<>();
        for (String k : shapes.keySet()) {
            DataType dt = w.get(k).dataType();
            boolean counter = k.endsWith(".num_batches_tracked");
            if (counter ? !dt.isIntType() : !dt.isFPType())
                throw new IllegalArgumentException(source + ": '" + k + "' has dtype " + dt + ", expected " + (counter ? "int64" : "a float type"));
            ordered.put(k, w.get(k));
        }
        return ordered;
    }

    /** pytorch-fid's weight file ({@code pt_inception-2015-12-05-6726825d.pth}, zip or legacy {@code torch.save}). */
    public static FidInceptionV3 load(Path pt) {
        Map<String, INDArray> sd = TorchCheckpoint.loadStateDict(pt, TorchCheckpoint.Pick.EMA);
        try {
            return fromStateDict(sd, pt.toString());
        } catch (IllegalArgumentException e) {
            throw new WeightsFormatException(pt, e.getMessage().startsWith(pt.toString()) ? e.getMessage().substring(pt.toString().length() + 2) : e.getMessage());
        }
    }

    /** The graph, for profiling listeners and the planned executor's profile. */
    public List<SameDiff> graphs() {
        return List.of(sd);
    }

    /** The requested outputs for a preprocessed batch (N, 3, 299, 299) float32, each a fresh array. */
    public Map<Output, INDArray> forward(INDArray input, Output... outputs) {
        if (input.rank() != 4 || input.size(1) != 3 || input.size(2) != 299 || input.size(3) != 299)
            throw new IllegalArgumentException("Inception input must be (N, 3, 299, 299), got " + Arrays.toString(input.shape()));
        String[] names = Arrays.stream(outputs).map(o -> o.node).toArray(String[]::new);
        Map<String, INDArray> got = execution.output(sd, Map.of(INPUT, input.castTo(DataType.FLOAT)), names);
        Map<Output, INDArray> out = new EnumMap<>(Output.class);
        for (Output o : outputs) out.put(o, got.get(o.node));
        return out;
    }
}
