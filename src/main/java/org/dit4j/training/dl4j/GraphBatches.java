package org.dit4j.training.dl4j;

import org.dit4j.diffusion.DiffusionLoss;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.models.nn.TimestepEmbedder;
import org.dit4j.training.MicroBatches;
import org.dit4j.util.Slices;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Map;

/**
 * A drawn micro-batch as the DataSet the ComputationGraph trains on: features = [x_t | timestep sinusoid | one-hot
 * label] per row ({@link DiTLayer}), labels = the loss targets ({@link DiffusionLoss#packLabels}). Noise and timesteps
 * are drawn here, in the data pipeline, so every engine and every worker feeds the graph the same way.
 */
public final class GraphBatches {
    private final DiTConfig model;
    private final GaussianDiffusion diffusion;
    private final DiffusionLoss loss;

    public GraphBatches(DiTConfig model) {
        this.model = model;
        this.diffusion = DiTLayer.trainingDiffusion(model.learnSigma());
        this.loss = new DiffusionLoss(diffusion);
    }

    public DataSet dataSet(MicroBatches.Draw d) {
        return new DataSet(features(d.x0(), d.t(), d.noise(), d.y()), loss.packLabels(d.x0(), d.t(), d.noise()));
    }

    /** The packed input rows (N, {@link DiTLayer#featureWidth}) for x_t = q_sample(x0, t, noise). */
    public INDArray features(INDArray x0, long[] t, INDArray noise, long[] y) {
        return features(diffusion.qSample(x0, t, noise), diffusion.modelTimesteps(t), y);
    }

    /** Packed input rows for the model evaluated at x_t with model timesteps {@code modelT}. */
    public INDArray features(INDArray xT, double[] modelT, long[] y) {
        int n = y.length, rows = model.labelTableRows();
        INDArray oneHot = Nd4j.zeros(DataType.FLOAT, n, rows);
        for (int i = 0; i < n; i++) {
            if (y[i] < 0 || y[i] >= rows) throw new IllegalArgumentException("class label " + y[i] + " is outside [0, " + rows + ")");
            oneHot.putScalar(i, y[i], 1f);
        }
        INDArray tFreq = TimestepEmbedder.frequencyEmbedding(modelT, TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE);   // (N, 256)
        return Nd4j.concat(1, xT.castTo(DataType.FLOAT).reshape('c', n, -1), tFreq, oneHot);
    }

    /** The inverse of {@link #features}: {@link DiTModel}'s placeholders x (N, C, H, W), t_freq (N, 256) and y (N) from packed rows. */
    public static Map<String, INDArray> modelInputs(DiTConfig c, INDArray features) {
        long n = features.size(0), size = (long) c.inChannels() * c.inputSize() * c.inputSize(), freq = TimestepEmbedder.FREQUENCY_EMBEDDING_SIZE;
        if (features.rank() != 2 || features.size(1) != DiTLayer.featureWidth(c))
            throw new IllegalArgumentException("packed features have shape " + Arrays.toString(features.shape()) + ", expected (N, " + DiTLayer.featureWidth(c) + ")");
        INDArray x = Slices.range(features, 1, 0, size).reshape('c', n, c.inChannels(), c.inputSize(), c.inputSize());   // (N, C, H, W)
        INDArray tFreq = Slices.range(features, 1, size, size + freq);                                                  // (N, 256)
        INDArray y = Nd4j.argMax(Slices.range(features, 1, size + freq, size + freq + c.labelTableRows()), 1).castTo(DataType.INT64);   // (N)
        return Map.of(DiTModel.X, x, DiTModel.T_FREQ, tFreq, DiTModel.Y, y.reshape(n));
    }
}
