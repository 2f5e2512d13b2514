package org.dit4j.pipeline;

import org.apache.spark.api.java.JavaSparkContext;
import org.dit4j.Fixtures;
import org.dit4j.diffusion.EulerMaruyama;
import org.dit4j.diffusion.LinearVpSchedule;
import org.dit4j.diffusion.NoiseSource;
import org.dit4j.io.ModelLoader;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.io.VaeWeights;
import org.dit4j.models.Denoiser;
import org.dit4j.pipeline.shards.LocalReplicas;
import org.dit4j.pipeline.shards.PipelineSpec;
import org.dit4j.pipeline.shards.SparkShards;
import org.dit4j.training.spark.SparkEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Sampling cut into shards: any run of a request's batches starts where one machine's noise stream has it, so
 * replicas on threads and Spark executors give the one-device samples bit for bit.
 */
class ShardedSamplingTest {
    private static final Path WEIGHTS = Fixtures.tiny("weights/DiT-tiny.pt"), CONFIG = Fixtures.tiny("config.json");
    private static final Path VAE = Fixtures.root().resolve("vae-tiny/weights/diffusers");
    private static final long[] LABELS = {1, 4, 9, 2, 7};

    private static DiffusionPipeline pipeline() {
        Denoiser m = ModelLoader.load(WEIGHTS, null, CONFIG, 0, 0, TorchCheckpoint.Pick.EMA);
        return new DiffusionPipeline(m, null);
    }

    private static float[] values(INDArray a) {
        return a.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    private static List<SampleRequest> requests() {
        SampleRequest r = SampleRequest.of(LABELS).withBatchSize(2).withSeed(11);
        return List.of(r.withSampler(SampleRequest.SamplerKind.DDPM, "3"),                                     // guided: noise on 2B rows every step
                r.withSampler(SampleRequest.SamplerKind.DDIM, "3").withEta(0.5).withGuidance(1.0, GuidanceChannels.OFFICIAL),
                r.withSampler(SampleRequest.SamplerKind.DPM_SOLVER, "3"),                                     // initial noise only
                r.withSampler(SampleRequest.SamplerKind.DDPM, "3").withNoise(Nd4j.rand(DataType.FLOAT, 5, 4, 8, 8).subi(0.5)),
                r.withSampler(SampleRequest.SamplerKind.DDIM, "5").withCacheInterval(2));                    // FORA: a cache per batch
    }

    @Test
    void anyRunOfBatchesIsTheOneDeviceSamplesRows() {
        DiffusionPipeline p = pipeline();
        for (SampleRequest r : requests()) {
            INDArray all = p.latents(r, null);
            assertEquals(3, r.batches());
            // batches 1-2: the stream skips batch 0's draws, and the run ends on the short batch
            assertArrayEquals(values(all.get(NDArrayIndex.interval(2, 5))), values(p.latents(r, 1, 3, null)), r.sampler() + " eta " + r.eta());
        }
        assertThrows(IllegalArgumentException.class, () -> p.latents(requests().get(0), 2, 4, null));
    }

    @Test
    void eulerMaruyamaDrawsWhatItCounts() {
        for (boolean ode : new boolean[]{false, true}) {
            EulerMaruyama em = new EulerMaruyama(LinearVpSchedule.standard(), 5, 1e-3, ode);
            long[] drawn = {0};
            NoiseSource counting = shape -> {
                long n = 1;
                for (long d : shape) n *= d;
                drawn[0] += n;
                return Nd4j.zeros(DataType.FLOAT, shape);
            };
            em.sample((x, t) -> Nd4j.zeros(DataType.FLOAT, x.shape()), Nd4j.zeros(DataType.FLOAT, 3, 2, 4, 4), counting, null);
            assertEquals(drawn[0], em.noiseDraws(new long[]{3, 2, 4, 4}), ode ? "ode" : "sde");
        }
        assertEquals(4L * 96, new EulerMaruyama(LinearVpSchedule.standard(), 5).noiseDraws(new long[]{3, 2, 4, 4}));
    }

    @Test
    void skippedNoiseIsTheRestOfTheStream() {
        INDArray all = NoiseSource.seeded(5).next(1000);
        assertArrayEquals(values(all.get(NDArrayIndex.interval(700, 1000))), values(NoiseSource.seeded(5, 700).next(300)));
    }

    @Test
    void replicasOnThreadsGiveTheOneDeviceSamples() throws Exception {
        DiffusionPipeline p = pipeline();
        for (SampleRequest r : List.of(requests().get(0), requests().get(4))) {
            float[] one = values(p.latents(r, null));
            try (LocalReplicas two = new LocalReplicas(p, 2)) {                    // runs of one and two batches
                assertArrayEquals(one, values(two.latents(r, null)), "--devices 2, cache interval " + r.cacheInterval());
            }
            try (LocalReplicas three = new LocalReplicas(p, 3)) {                  // three runs of one batch each
                assertArrayEquals(one, values(three.latents(r, null)), "--devices 3, cache interval " + r.cacheInterval());
            }
        }
    }

    @Test
    void sparkExecutorsGiveTheOneDeviceSamplesAndSampleBatch(@TempDir Path dir) throws Exception {
        Denoiser m = ModelLoader.load(WEIGHTS, null, CONFIG, 0, 0, TorchCheckpoint.Pick.EMA);
        DiffusionPipeline p = new DiffusionPipeline(m, VaeWeights.loadModel(VAE, null));
        SampleRequest r = requests().get(0);
        SampleBatch.Request batch = labels -> SampleRequest.of(labels).withSampler(SampleRequest.SamplerKind.DDPM, "2");
        SampleBatch.run(p, batch, dir.resolve("one"), dir.resolve("one.npz"), 5, 10, 3, 2, null);
        JavaSparkContext sc = new JavaSparkContext(SparkEngine.sparkConf("local[2]", false));
        try (SparkShards spark = new SparkShards(sc, 2, new PipelineSpec(WEIGHTS, m.config(), TorchCheckpoint.Pick.EMA, VAE.toString()))) {
            assertArrayEquals(values(p.latents(r, null)), values(spark.latents(r, null)), "sample's latents on local[2]");
            SampleRequest given = requests().get(3);                               // --noise: the array travels in the task
            assertArrayEquals(values(p.latents(given, null)), values(spark.latents(given, null)), "with given noise on local[2]");
            // sample-batch's uint8 pixels come back through Kryo; the driver writes the PNGs and the .npz
            assertEquals(5, SampleBatch.run(spark, batch, dir.resolve("spark"), dir.resolve("spark.npz"), 5, 10, 3, 2, null));
            assertArrayEquals(Files.readAllBytes(dir.resolve("one.npz")), Files.readAllBytes(dir.resolve("spark.npz")), "sample-batch on local[2]");
            for (int i = 0; i < 5; i++)
                assertArrayEquals(Files.readAllBytes(SampleBatch.png(dir.resolve("one"), i)), Files.readAllBytes(SampleBatch.png(dir.resolve("spark"), i)), "PNG " + i);
            // a refusal inside a task comes back as its own one-line message
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> spark.latents(SampleRequest.of(1, 99).withBatchSize(1), null));
            assertEquals("class label 99 is outside [0, 10)", e.getMessage());
        } finally {
            sc.stop();
        }
    }
}
