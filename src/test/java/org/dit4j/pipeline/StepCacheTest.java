package org.dit4j.pipeline;

import org.dit4j.diffusion.Sampler;
import org.dit4j.models.BlockCaching;
import org.dit4j.models.Conditioning;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.TinyDiTAccess;
import org.dit4j.models.dit.DiTModel;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** FORA's refresh rule, and the pipeline's cache: one per batch, invisible at interval 1. */
class StepCacheTest {
    @Test
    void refreshesFollowForasRuleOnTheLoopIndexCountingDown() {
        // i = numstep−1 … 0; full at i == numstep−1 or i % N == 0
        assertEquals("FFFFF", schedule(5, 1));
        assertEquals("F.F.F", schedule(5, 2));
        assertEquals("FF..F", schedule(5, 3));
        assertEquals("F...F", schedule(5, 4));
        assertEquals("F...F", schedule(5, 6));                              // i = 0 is always a multiple
        String ddim50 = schedule(50, 3);
        assertEquals("FF..F", ddim50.substring(0, 5));
        assertEquals('F', ddim50.charAt(49));
        assertEquals(18, ddim50.chars().filter(c -> c == 'F').count());   // i = 49 and the 17 multiples of 3 in [0, 48]
    }

    private static String schedule(int numstep, int interval) {
        StringBuilder s = new StringBuilder();
        for (int k = 0; k < numstep; k++) s.append(StepCache.refreshes(k, numstep, interval) ? 'F' : '.');
        return s.toString();
    }

    @Test
    void intervalOneIsTheUncachedSamplingBitForBit() {
        DiTModel m = TinyDiTAccess.model();
        SampleRequest r = SampleRequest.of(1, 4, 9).withSampler(SampleRequest.SamplerKind.DDIM, "6").withSeed(3);
        INDArray plain = new DiffusionPipeline(m, null).latents(r, null);
        assertEquals(plain, new DiffusionPipeline(m, null).latents(r.withCacheInterval(1), null));
        // the same run through the cache, every evaluation a full step that also returns its blocks' outputs
        Sampler sampler = Samplers.create(r, m.config());
        Guidance g = Guidance.batched(r.cfgScale(), r.cfgChannels().count(m.config()));
        StepCache cache = new StepCache(m, 1, sampler.steps());
        org.dit4j.diffusion.NoiseSource rng = org.dit4j.diffusion.NoiseSource.seeded(3);
        INDArray z = rng.next(3, 4, 8, 8);
        INDArray viaCache = sampler.sample(g.denoiser(cache, Conditioning.labels(1, 4, 9), Conditioning.labels(10, 10, 10)),
                g.samplerBatch(z), rng, (k, t, s, p) -> {});
        assertEquals(plain, g.conditional(viaCache, 3));
    }

    @Test
    void eachBatchStartsItsOwnCacheWithAFullStepOnTheGuidedBatch() {
        Recording rec = new Recording(TinyDiTAccess.model());
        SampleRequest r = SampleRequest.of(1, 4, 9).withBatchSize(2).withSampler(SampleRequest.SamplerKind.DDIM, "5").withCacheInterval(3);
        INDArray cached = new DiffusionPipeline(rec, null).latents(r, null);
        assertEquals(List.of("F4", "F4", ".4", ".4", "F4", "F2", "F2", ".2", ".2", "F2"), rec.calls);   // rows: cat([z, z]) of each batch
        INDArray plain = new DiffusionPipeline(TinyDiTAccess.model(), null).latents(r.withCacheInterval(1), null);
        assertTrue(org.dit4j.Fixtures.maxAbsDiff(plain, cached) > 1e-4, "caching changed nothing");
    }

    @Test
    void aFamilyWithoutACachedStepIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new StepCache(new Recording(TinyDiTAccess.model()).plain(), 2, 10));
        assertTrue(e.getMessage().startsWith("caching block outputs across steps is implemented for DiT"), e.getMessage());
    }

    /** The tiny DiT, recording each evaluation: F (full) or . (cached), and its batch rows. */
    private static final class Recording implements Denoiser, BlockCaching {
        final DiTModel m;
        final List<String> calls = new ArrayList<>();

        Recording(DiTModel m) {
            this.m = m;
        }

        @Override
        public Step forwardStoring(INDArray x, double[] t, Conditioning c) {
            calls.add("F" + x.size(0));
            return m.forwardStoring(x, t, c);
        }

        @Override
        public INDArray forwardCached(INDArray x, double[] t, Conditioning c, BlockOutputs cached) {
            calls.add("." + x.size(0));
            return m.forwardCached(x, t, c, cached);
        }

        @Override
        public INDArray forward(INDArray x, double[] t, Conditioning c) {
            calls.add("plain");
            return m.forward(x, t, c);
        }

        /** The same model seen as a plain denoiser, with no cached step. */
        Denoiser plain() {
            Recording self = this;
            return new Denoiser() {
                public ModelConfig config() { return self.config(); }
                public INDArray forward(INDArray x, double[] t, Conditioning c) { return self.forward(x, t, c); }
                public Map<String, long[]> parameterShapes() { return self.parameterShapes(); }
                public boolean isTrainable(String name) { return self.isTrainable(name); }
                public Map<String, INDArray> stateDict() { return self.stateDict(); }
                public void loadStateDict(Map<String, INDArray> w, String source) { self.loadStateDict(w, source); }
                public List<SameDiff> graphs() { return self.graphs(); }
            };
        }

        @Override public ModelConfig config() { return m.config(); }
        @Override public Map<String, long[]> parameterShapes() { return m.parameterShapes(); }
        @Override public boolean isTrainable(String name) { return m.isTrainable(name); }
        @Override public Map<String, INDArray> stateDict() { return m.stateDict(); }
        @Override public void loadStateDict(Map<String, INDArray> w, String source) { m.loadStateDict(w, source); }
        @Override public List<SameDiff> graphs() { return m.graphs(); }
    }
}
