package org.dit4j.models.fit;

import org.dit4j.diffusion.DdpmSampler;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.diffusion.NoiseSource;
import org.dit4j.models.Conditioning;
import org.dit4j.pipeline.Guidance;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.dit4j.Fixtures.assertClose;
import static org.dit4j.models.fit.TinyFiT.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** sample_fit_ddp.py's guided DDPM loop (10 steps, the pinned clamp) run on latents, against the official token-sequence run. */
class FiTSamplingParityTest {
    @Test
    void guidedDdpm10OnA4x6GridMatches() {
        int p = 2, h = 4, w = 6;
        INDArray z = npy("ddpm10/z.npy");                                               // (2, 16, 24) tokens
        INDArray zz = FiTModel.unpatchify(Nd4j.concat(0, z, z), p, h, w);               // (4, 4, 8, 12) latents
        INDArray stepTokens = npy("ddpm10/step_noise.npy");                            // (10, 4, 16, 24)
        INDArray steps = Nd4j.create(stepTokens.dataType(), 10, 4, 4, 8, 12);
        for (int i = 0; i < 10; i++) steps.putSlice(i, FiTModel.unpatchify(stepTokens.slice(i), p, h, w));
        FiTModel m = clamped();
        var fn = Guidance.batched(4.0, m.config().officialGuidedChannels()).denoiser(m, Conditioning.labels(3, 8), Conditioning.labels(10, 10));
        INDArray fin = new DdpmSampler(GaussianDiffusion.create("10"), false).sample(fn, zz, NoiseSource.replay(steps), null);
        INDArray want = FiTModel.unpatchify(npy("ddpm10/final_seq.npy"), p, h, w);
        double scale = want.amaxNumber().doubleValue();
        assertClose(want, fin, 1e-4 * scale, 0, "DDPM-10 final latents (1e-4 of max|ref|)");
        assertClose(npy("ddpm10/final_latent.npy"), fin.get(NDArrayIndex.interval(0, 2)), 1e-4 * scale, 0, "conditional half");
        assertEquals(8, fin.size(2));
        assertEquals(12, fin.size(3));
    }
}
