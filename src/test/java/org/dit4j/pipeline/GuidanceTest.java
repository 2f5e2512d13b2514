package org.dit4j.pipeline;

import org.dit4j.models.Conditioning;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.dit.DiTConfig;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Guidance rules on a model whose output is a known function of x and the label. */
class GuidanceTest {
    /** ε = x·(1 + label) on every channel: conditional and unconditional rows differ by a known amount. */
    private static final class LabelScaled implements Denoiser {
        final List<Integer> calls = new java.util.ArrayList<>();
        final int outChannels;

        LabelScaled(int outChannels) {
            this.outChannels = outChannels;
        }

        @Override
        public ModelConfig config() {
            return new DiTConfig(4, 2, 2, 8, 1, 2, 1.0, 0.1, 3, outChannels == 4);
        }

        @Override
        public INDArray forward(INDArray x, double[] t, Conditioning c) {
            calls.add((int) x.size(0));
            INDArray out = Nd4j.create(DataType.FLOAT, x.size(0), outChannels, x.size(2), x.size(3));
            for (int i = 0; i < x.size(0); i++)
                for (int ch = 0; ch < outChannels; ch++)
                    out.slice(i).slice(ch).assign(x.slice(i).slice(ch % x.size(1)).mul(1 + c.labels()[i]));
            return out;
        }

        @Override
        public Map<String, long[]> parameterShapes() {
            return Map.of();
        }

        @Override
        public boolean isTrainable(String name) {
            return false;
        }

        @Override
        public Map<String, INDArray> stateDict() {
            return Map.of();
        }

        @Override
        public void loadStateDict(Map<String, INDArray> weights, String source) {}

        @Override
        public List<SameDiff> graphs() {
            return List.of();
        }
    }

    @Test
    void twoPassIsCondPlusScaleTimesTheDifference() {
        LabelScaled m = new LabelScaled(2);
        INDArray x = Nd4j.ones(DataType.FLOAT, 1, 2, 2, 2);
        Guidance g = Guidance.twoPass(0.7);
        INDArray out = g.denoiser(m, Conditioning.labels(2), Conditioning.labels(3)).apply(g.samplerBatch(x), new double[]{0.5});
        // cond = 3, uncond = 4: 3 + 0.7·(3 − 4)
        assertEquals(3 + 0.7f * (3 - 4), out.getFloat(0, 1, 1, 1), 1e-6);
        assertEquals(List.of(1, 1), m.calls, "two passes over the same batch");
        assertSame(out, g.conditional(out, 1));
    }

    @Test
    void batchedMixesTheGuidedChannelsAndPassesTheRestThrough() {
        LabelScaled m = new LabelScaled(4);
        INDArray z = Nd4j.ones(DataType.FLOAT, 1, 2, 2, 2);
        Guidance g = Guidance.batched(4.0, 1);
        INDArray batch = g.samplerBatch(z);
        assertArrayEquals(new long[]{2, 2, 2, 2}, batch.shape());
        INDArray out = g.denoiser(m, Conditioning.labels(1), Conditioning.labels(3)).apply(batch, new double[]{10, 10});
        // channel 0 guided: uncond 4 + 4·(cond 2 − 4) on both rows; channel 1 and the σ channels as the model gave them
        assertEquals(4 + 4f * (2 - 4), out.getFloat(0, 0, 0, 0), 1e-6);
        assertEquals(4 + 4f * (2 - 4), out.getFloat(1, 0, 0, 0), 1e-6);
        assertEquals(2f, out.getFloat(0, 1, 0, 0), 1e-6);
        assertEquals(4f, out.getFloat(1, 1, 0, 0), 1e-6);
        assertEquals(List.of(2), m.calls, "one batched call");
        assertEquals(1, g.conditional(out, 1).size(0));
    }

    @Test
    void nonFiniteScalesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Guidance.batched(Double.NaN, 3));
        assertThrows(IllegalArgumentException.class, () -> Guidance.twoPass(Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> SampleRequest.of(1).withGuidance(Double.NaN, GuidanceChannels.ALL));
    }
}
