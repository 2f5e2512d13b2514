package org.dit4j.models.fitmindone;

import org.dit4j.diffusion.DiffusionConfig;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.diffusion.NoiseSource;
import org.dit4j.models.Conditioning;
import org.dit4j.pipeline.DiffusionPipeline;
import org.dit4j.pipeline.GuidanceChannels;
import org.dit4j.pipeline.SampleRequest;
import org.dit4j.util.Slices;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

import static org.dit4j.Fixtures.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.*;

/** The pipeline drives a MindONE FiT as sample.py does: construct_with_cfg on every noise channel, float32 tables. */
class MindOneFiTSamplingTest {
    @Test
    void guidedDdimIsMindOnesLoop() {
        MindOneFiTModel m = TinyMindOneFiT.model();
        INDArray z = NoiseSource.seeded(11).next(2, 4, 16, 16);
        long[] labels = {3, 7};
        double scale = 4.0;
        INDArray ours = new DiffusionPipeline(m, null).latents(SampleRequest.of(labels).withSampler(SampleRequest.SamplerKind.DDIM, "10")
                .withGuidance(scale, GuidanceChannels.OFFICIAL).withNoise(z), null);

        // DiT's float64 tables would land 6e-4 away (measured): the float32 tables are what the pipeline used
        double diff = maxAbsDiff(handLoop(m, z, scale), ours);
        assertTrue(diff < 1e-6, "pipeline vs hand loop: " + diff);
    }

    /** {@code ddim_sample_loop(construct_with_cfg)} over {@code create_diffusion("10")}, by hand. */
    private static INDArray handLoop(MindOneFiTModel m, INDArray z, double scale) {
        GaussianDiffusion d = GaussianDiffusion.create(DiffusionConfig.of("10").withFloat32Tables(true));
        Conditioning both = Conditioning.labels(3, 7, 10, 10);
        INDArray x = Nd4j.concat(0, z, z);
        for (int i = d.numTimesteps() - 1; i >= 0; i--) {
            long[] t = new long[4];
            Arrays.fill(t, i);
            x = d.ddimSample((xt, tm) -> {
                INDArray half = Slices.range(xt, 0, 0, 2);
                INDArray out = m.forward(Nd4j.concat(0, half, half), tm, both);
                INDArray eps = Slices.range(out, 1, 0, 4), rest = Slices.range(out, 1, 4, 8);
                INDArray cond = Slices.range(eps, 0, 0, 2), uncond = Slices.range(eps, 0, 2, 4);
                INDArray mixed = uncond.add(cond.sub(uncond).mul(scale));
                return Nd4j.concat(1, Nd4j.concat(0, mixed, mixed), rest);
            }, x, t, false, 0.0, null).sample();
        }
        return Slices.range(x, 0, 0, 2);
    }
}
