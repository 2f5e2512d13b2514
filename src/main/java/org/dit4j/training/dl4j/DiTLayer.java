package org.dit4j.training.dl4j;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffOutputLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.dit4j.diffusion.DiffusionConfig;
import org.dit4j.diffusion.DiffusionLoss;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.models.dit.DiT;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTFamily;
import org.dit4j.models.dit.DiTInit;
import org.dit4j.models.nn.Params;
import org.dit4j.models.nn.TimestepEmbedder;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The DiT definition of {@code models} and its diffusion training loss as one DL4J output layer, so that
 * ComputationGraph, ParallelWrapper and Spark can train it: the packed targets ({@link DiffusionLoss#packLabels}) are
 * its labels, and {@code output()} of the graph is the model's output.
 * <p>
 * Why one output layer (M2.1, each shown by a test in SameDiffTrapsTest): a graph whose parameters all sit in a
 * {@code SameDiffVertex} reports {@code numParams() == 0} and {@code fit} silently does nothing; a {@code SameDiffLayer}
 * returns twice the true gradient for its parameters and input. A layer has one input, so x_t, the timestep sinusoid
 * and the one-hot label travel packed in one row per example ({@link GraphBatches#features}).
 * <p>
 * The graph defined here is the layer's forward ({@code output()}, the whole-graph score); training runs block by block
 * ({@link StagedDiTOutputLayer}), since differentiating this whole graph at once holds every block's intermediates.
 */
public final class DiTLayer extends SameDiffOutputLayer {
    static final DiTFamily FAMILY = new DiTFamily();
    public static final String MODEL_OUTPUT = "model_output";

    private String modelConfig;   // DiTConfig as YAML: DL4J stores layer configurations as JSON
    private long initSeed;

    @SuppressWarnings("unused")   // for DL4J's JSON deserialisation
    private DiTLayer() {}

    public DiTLayer(DiTConfig cfg, long initSeed) {
        this.modelConfig = cfg.toYaml();
        this.initSeed = initSeed;
    }

    public DiTConfig modelConfig() {
        return DiTConfig.load(new ByteArrayInputStream(modelConfig.getBytes(StandardCharsets.UTF_8)), "DiTLayer configuration");
    }

    /** DL4J joins layer and parameter names with '_' and splits on it, so official names carry '-' instead. */
    public static String paramKey(String officialName) {
        return officialName.replace('_', '-');
    }

    public static String officialName(String paramKey) {
        return paramKey.replace('-', '_');
    }

    /** Values per example in the packed input: x_t (C·H·W), the timestep sinusoid (256), the one-hot label. */
    public static long featureWidth(DiTConfig c) {
        return (long) c.inChannels() * c.inputSize() * c.inputSize() + TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE + c.labelTableRows();
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        DiTConfig c = modelConfig();
        Set<String> buffers = FAMILY.buffers(c);
        FAMILY.shapes(c).forEach((name, shape) -> {
            if (!buffers.contains(name)) params.addWeightParam(paramKey(name), shape);
        });
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        DiTConfig c = modelConfig();
        Set<String> buffers = FAMILY.buffers(c);
        DiTInit.weights(c, initSeed).forEach((name, w) -> {
            if (!buffers.contains(name)) params.get(paramKey(name)).assign(w);
        });
    }

    public static GaussianDiffusion trainingDiffusion(boolean learnSigma) {
        return GaussianDiffusion.create(DiffusionConfig.of("").withLearnSigma(learnSigma));
    }

    /** The loss summed over the batch: DL4J divides it (and the gradients) by the batch size, giving {@code train.py}'s mean. */
    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, SDVariable labels, Map<String, SDVariable> paramTable) {
        DiTConfig c = modelConfig();
        long size = (long) c.inChannels() * c.inputSize() * c.inputSize(), freq = TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE;
        SDVariable x = sd.reshape(columns(input, 0, size), -1, c.inChannels(), c.inputSize(), c.inputSize());   // (N, C, H, W)
        SDVariable tFreq = columns(input, size, size + freq);                                                 // (N, 256)
        SDVariable yOneHot = columns(input, size + freq, size + freq + c.labelTableRows());                   // (N, rows)
        Map<String, INDArray> buffers = bufferValues(c);
        Params p = new Params() {
            @Override
            public SDVariable weight(String name, long... shape) {
                return paramTable.get(paramKey(name));
            }

            @Override
            public SDVariable buffer(String name, long... shape) {
                return sd.constant(name, buffers.get(name));
            }
        };
        SDVariable out = new DiT(p, c).forwardOneHot(x, tFreq, yOneHot).rename(MODEL_OUTPUT);              // (N, out, H, W)
        return new DiffusionLoss(trainingDiffusion(c.learnSigma()))
                .buildFromPacked(sd, out, labels, c.inChannels(), c.inputSize(), c.inputSize()).sum();
    }

    /** The frozen tensors (DiT's sin-cos table): part of the layer's definition, not DL4J parameters. */
    static Map<String, INDArray> bufferValues(DiTConfig c) {
        Map<String, INDArray> buffers = new HashMap<>();
        FAMILY.addMissingBuffers(c, buffers);
        return buffers;
    }

    /** The run-time layer: DL4J's SameDiff output layer with the block-by-block backward pass of {@link StagedDiTOutputLayer}. */
    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex, INDArray layerParamsView,
                             boolean initializeParams, DataType networkDataType) {
        StagedDiTOutputLayer layer = new StagedDiTOutputLayer(conf, networkDataType);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(layerParamsView);
        layer.setParamTable(initializer().init(conf, layerParamsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }

    @Override
    public String activationsVertexName() {
        return MODEL_OUTPUT;
    }

    private static SDVariable columns(SDVariable m, long from, long to) {
        return m.get(SDIndex.all(), SDIndex.interval(from, to));
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        DiTConfig c = modelConfig();
        return InputType.convolutional(c.inputSize(), c.inputSize(), c.outChannels());
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        // the architecture fixes the input width
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    // Bean accessors: DL4J (de)serialises layer configurations with Jackson.
    public String getModelConfig() {
        return modelConfig;
    }

    public void setModelConfig(String modelConfig) {
        this.modelConfig = modelConfig;
    }

    public long getInitSeed() {
        return initSeed;
    }

    public void setInitSeed(long initSeed) {
        this.initSeed = initSeed;
    }
}
