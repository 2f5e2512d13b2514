package org.dit4j.models.uvit;

import org.dit4j.Fixtures;
import org.dit4j.diffusion.DpmSolver;
import org.dit4j.pipeline.DiffusionPipeline;
import org.dit4j.pipeline.GuidanceChannels;
import org.dit4j.pipeline.SampleRequest;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.dit4j.models.uvit.TinyUViT.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code eval_ldm_discrete.py}'s {@code sample_z} with DPM-Solver, 10 steps, {@code cfg_nnet} at scale 0.4 on the tiny
 * class-conditional U-ViT (fixtures/uvit/dpm_solver/steps10), through the pipeline as {@code dit4j sample} runs it;
 * the README's tolerance: 1e-4 of max|ref|.
 */
class UViTSamplingParityTest {
    @Test
    void tenStepDiscreteDpmSolverWithTwoPassGuidance() {
        UViTModel model = cond();
        var official = model.config().officialSampling();
        assertEquals("dpm-solver++", official.sampler());
        SampleRequest r = SampleRequest.of(longs("dpm_solver/y.npy")).withSampler(SampleRequest.SamplerKind.DPM_SOLVER_PP, "10")
                .withGuidance(0.4, GuidanceChannels.OFFICIAL).withNoise(npy("dpm_solver/noise.npy"))
                .withSolver(new SampleRequest.Solver(3, DpmSolver.Method.SINGLESTEP, DpmSolver.SkipType.TIME_UNIFORM));
        INDArray got = new DiffusionPipeline(model, null).latents(r, null);
        INDArray ref = npy("dpm_solver/steps10/final.npy");
        double rel = Fixtures.maxAbsDiff(ref, got) / ref.amaxNumber().doubleValue();
        System.out.printf("U-ViT DPM-Solver 10 steps: max|Δ| %.3g, relative to max|ref| %.3g%n", Fixtures.maxAbsDiff(ref, got), rel);
        assertTrue(rel <= 1e-4, "relative error " + rel);
        double relF64 = Fixtures.maxAbsDiff(npy("dpm_solver/steps10/final_f64.npy"), got) / ref.amaxNumber().doubleValue();
        assertTrue(relF64 <= 1e-4, "relative error vs float64 " + relF64);
    }

    @Test
    void samplersOfOtherProcessesAreRefusedByName() {
        UViTModel model = cond();
        SampleRequest ddim = SampleRequest.of(3).withSampler(SampleRequest.SamplerKind.DDIM, "10");
        var e = assertThrows(IllegalArgumentException.class, () -> new DiffusionPipeline(model, null).latents(ddim, null));
        assertTrue(e.getMessage().contains("Stable Diffusion's discrete betas"), e.getMessage());
        SampleRequest em = SampleRequest.of(3).withSampler(SampleRequest.SamplerKind.EULER_MARUYAMA, "10");
        var f = assertThrows(IllegalArgumentException.class, () -> new DiffusionPipeline(model, null).latents(em, null));
        assertTrue(f.getMessage().contains("continuous VP SDE"), f.getMessage());
    }
}
