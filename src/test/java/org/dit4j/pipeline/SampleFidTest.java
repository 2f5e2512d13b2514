package org.dit4j.pipeline;

import org.dit4j.evaluation.Evaluation;
import org.dit4j.evaluation.FidStatistics;
import org.dit4j.evaluation.ImageSource;
import org.dit4j.io.Npz;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.inception.InceptionPreprocess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The FID's samples during training are dit4j sample-batch's, batch for batch, whatever weights they are drawn from. */
class SampleFidTest {
    @Test
    void theSamplesAreSampleBatchsWithTheSameSeedAcrossBatches(@TempDir Path dir) throws Exception {
        DiTConfig cfg = new DiTConfig(8, 2, 3, 32, 1, 2, 2.0, 0.1, 3, true);
        Map<String, INDArray> weights = ModelFamilies.of(cfg).initialWeights(cfg, 7);
        TrainingSamples samples = new TrainingSamples(cfg, null, SampleRequest.SamplerKind.DDIM, 2);
        Evaluation.Side ref = new Evaluation.Side(dir.resolve("ref.npz"), new FidStatistics(new double[2048], Nd4j.eye(2048).castTo(DataType.DOUBLE)), null, null);
        int n = SampleRequest.DEFAULT_BATCH + 3;   // two sampling batches, the second one short
        SampleFid fid = new SampleFid(samples, ref, null, InceptionPreprocess.ADM, n, 11);

        Path npz = dir.resolve("batch.npz");
        SampleBatch.run(new DiffusionPipeline(ModelFamilies.of(cfg).create(cfg, weights, "test"), null), samples::request,
                dir.resolve("batch"), npz, n, cfg.numClasses(), 11, SampleRequest.DEFAULT_BATCH, null);
        byte[] want = Npz.read(npz, "arr_0").data().asBytes();
        try (ImageSource images = fid.images(weights)) {
            assertEquals(n, images.count());
            int at = 0;
            for (int i = 0; i < n; i++) {
                ImageSource.Image im = images.next();
                assertEquals(8, im.height());
                for (byte b : im.hwc()) assertEquals(want[at++], b, "sample " + i);
            }
            assertEquals(want.length, at);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> new SampleFid(samples, ref, null, InceptionPreprocess.ADM, 1, 0));
        assertTrue(e.getMessage().contains("fid_samples must be at least 2"), e.getMessage());
        var uncond = new org.dit4j.models.uvit.UViTConfig("uvit", 8, 2, 3, 32, 1, 2, 4, false, false, -1, 768, 77, true, true, false,
                "continuous", 0, 0.18215, org.dit4j.models.uvit.UViTConfig.Sample.DEFAULT);
        e = assertThrows(IllegalArgumentException.class, () -> new SampleFid(new TrainingSamples(uncond, null, SampleRequest.SamplerKind.EULER_MARUYAMA_ODE, 2),
                ref, null, InceptionPreprocess.ADM, 4, 0));
        assertTrue(e.getMessage().contains("has no classes"), e.getMessage());
    }

    @Test
    void aModelWithoutANullClassIsSampledUnguided() {
        DiTConfig cfg = new DiTConfig(8, 2, 3, 32, 1, 2, 2.0, 0.0, 3, true);
        TrainingSamples samples = new TrainingSamples(cfg, null, SampleRequest.SamplerKind.DDIM, 2);
        assertEquals(1.0, samples.request(new long[]{0, 2}).cfgScale());
        assertEquals(4.0, new TrainingSamples(new DiTConfig(8, 2, 3, 32, 1, 2, 2.0, 0.1, 3, true), null, SampleRequest.SamplerKind.DDIM, 2)
                .request(new long[]{0}).cfgScale(), "sample.py's scale when it has a null class");
        INDArray images = samples.pipeline(ModelFamilies.of(cfg).initialWeights(cfg, 3)).images(samples.request(new long[]{0, 2}), null, 0);
        assertArrayEquals(new long[]{2, 3, 8, 8}, images.shape());
    }

    @Test
    void anAdmReferenceBatchGivesItsStoredStatisticsWithoutRunningItsImages(@TempDir Path dir) throws Exception {
        Path batch = dir.resolve("VIRTUAL_ref.npz");
        INDArray mu = Nd4j.linspace(1, 4, 4).castTo(DataType.DOUBLE), sigma = Nd4j.eye(4).castTo(DataType.DOUBLE).muli(2);
        Npz.write(batch, Map.of("arr_0", Nd4j.zeros(DataType.UINT8, 3, 8, 8, 3), "mu", mu, "sigma", sigma));
        Evaluation.Side side = Evaluation.statistics(batch, () -> {
            throw new AssertionError("the network is not needed for stored statistics");
        }, InceptionPreprocess.ADM, 16, null);
        assertArrayEquals(mu.toDoubleVector(), side.pool().mu());
        assertEquals(sigma, side.pool().sigma());
        assertNull(side.features());
    }
}
