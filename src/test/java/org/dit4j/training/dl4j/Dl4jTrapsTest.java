package org.dit4j.training.dl4j;

import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SDVertexParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The DL4J 1.0.0-M2.1 behaviours that decided the shape of {@link DiTLayer}. If one of these starts failing, the bug
 * is fixed upstream and the workaround can be reconsidered.
 */
class Dl4jTrapsTest {
    /** y = x·W with W (3, 2) = 1..6, as a layer and as a vertex. */
    public static final class LinearLayer extends SameDiffLayer {
        @Override public void defineParameters(SDLayerParams p) { p.addWeightParam("W", 3, 2); }
        @Override public void initializeParameters(Map<String, INDArray> p) { p.get("W").assign(Nd4j.linspace(1, 6, 6).reshape(3, 2)); }
        @Override public SDVariable defineLayer(SameDiff sd, SDVariable in, Map<String, SDVariable> p, SDVariable mask) { return sd.mmul(in, p.get("W")); }
        @Override public InputType getOutputType(int i, InputType t) { return InputType.feedForward(2); }
        @Override public void setNIn(InputType t, boolean o) {}
        @Override public InputPreProcessor getPreProcessorForInputType(InputType t) { return null; }
    }

    public static final class LinearVertex extends SameDiffVertex {
        @Override public SDVariable defineVertex(SameDiff sd, Map<String, SDVariable> in, Map<String, SDVariable> p, Map<String, SDVariable> masks) { return sd.mmul(in.get("in"), p.get("W")); }
        @Override public void defineParametersAndInputs(SDVertexParams p) { p.defineInputs("in"); p.addWeightParam("W", 3, 2); }
        @Override public void initializeParameters(Map<String, INDArray> p) { p.get("W").assign(Nd4j.linspace(1, 6, 6).reshape(3, 2)); }
        @Override public LinearVertex clone() { return new LinearVertex(); }
    }

    private static NeuralNetConfiguration.Builder base() {
        return new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).updater(new Sgd(0.1))
                .trainingWorkspaceMode(WorkspaceMode.NONE).inferenceWorkspaceMode(WorkspaceMode.NONE);
    }

    private static LossLayer mse() {
        return new LossLayer.Builder(LossFunctions.LossFunction.MSE).activation(Activation.IDENTITY).build();
    }

    @Test
    void aGraphWhoseParametersSitInAVertexDoesNotTrain() {
        ComputationGraph g = new ComputationGraph(base().graphBuilder().addInputs("in").addVertex("v", new LinearVertex(), "in")
                .addLayer("out", mse(), "v").setOutputs("out").build());
        g.init();
        assertEquals(6, g.params().length(), "the vertex's parameters exist");
        assertEquals(0, g.numParams(), "but the graph counts only layers");
        INDArray before = g.params().dup();
        g.fit(new DataSet(Nd4j.rand(DataType.FLOAT, 4, 3), Nd4j.rand(DataType.FLOAT, 4, 2)));
        assertEquals(before, g.params(), "fit returned without training");
    }

    @Test
    void aSameDiffLayerReturnsTwiceTheGradient() {
        ComputationGraph g = new ComputationGraph(base().graphBuilder().addInputs("in").addLayer("l", new LinearLayer(), "in")
                .addLayer("out", mse(), "l").setOutputs("out").build());
        g.init();
        g.initGradientsView();
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        var layer = g.getLayer("l");
        INDArray x = Nd4j.createFromArray(new float[][]{{1, 2, 3}, {4, 5, 6}}), eps = Nd4j.createFromArray(new float[][]{{1, 0}, {0, 1}});
        layer.setInput(x, mgr);
        layer.activate(true, mgr);
        var r = layer.backpropGradient(eps, mgr);
        assertEquals(x.transpose().mmul(eps).mul(2), r.getFirst().gradientForVariable().get("W"), "dL/dW = 2·xᵀε");
        assertEquals(eps.mmul(layer.getParam("W").transpose()).mul(2), r.getSecond(), "dL/dx = 2·εWᵀ");
    }
}
