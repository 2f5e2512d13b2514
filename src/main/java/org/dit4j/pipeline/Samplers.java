package org.dit4j.pipeline;

import org.dit4j.diffusion.DdimSampler;
import org.dit4j.diffusion.DdpmSampler;
import org.dit4j.diffusion.DiffusionConfig;
import org.dit4j.diffusion.DiscreteVpSchedule;
import org.dit4j.diffusion.DpmSolver;
import org.dit4j.diffusion.EulerMaruyama;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.diffusion.LinearVpSchedule;
import org.dit4j.diffusion.ModelTime;
import org.dit4j.diffusion.NoiseSchedule;
import org.dit4j.diffusion.Sampler;
import org.dit4j.models.ModelConfig;

/** The sampler a request names, over the diffusion process the model was trained with ({@link ModelConfig#process()}). */
public final class Samplers {
    private Samplers() {}

    public static Sampler create(SampleRequest r, ModelConfig model) {
        if (model.process() != ModelConfig.Process.ADM) return uvit(r, model.process());
        if (r.sampler().isEulerMaruyama())
            throw new IllegalArgumentException("Euler-Maruyama integrates the continuous VP SDE; this model was trained on ADM's discrete process (use ddpm, ddim or a DPM-Solver)");
        if (r.sampler().isDpmSolver()) return dpmSolver(r);
        GaussianDiffusion diffusion = GaussianDiffusion.create(DiffusionConfig.of(r.respacing()).withLearnSigma(model.learnSigma())
                .withFloat32Tables(model.float32DiffusionTables()));
        return switch (r.sampler()) {
            case DDPM -> new DdpmSampler(diffusion, r.clipDenoised());
            case DDIM -> new DdimSampler(diffusion, r.clipDenoised(), r.eta());
            default -> throw new IllegalStateException(r.sampler().name());
        };
    }

    /**
     * DPM-Solver(++) on the discrete-time model through {@code NoiseScheduleVP('discrete', betas)} of its training
     * betas, the network fed (t − 1/N)·1000 as the official {@code model_wrapper} does; learned-σ channels are dropped.
     */
    private static Sampler dpmSolver(SampleRequest r) {
        int steps = steps(r);
        if (r.clipDenoised()) throw new IllegalArgumentException("clipping x0 predictions is not available with DPM-Solver (the official thresholding is left out)");
        DiscreteVpSchedule ns = GaussianDiffusion.create(DiffusionConfig.of("")).schedule();
        SampleRequest.Solver s = r.solver();
        return DpmSolver.builder(ns, ModelTime.discrete(ns.totalN()))
                .algorithm(r.sampler() == SampleRequest.SamplerKind.DPM_SOLVER ? DpmSolver.Algorithm.DPMSOLVER : DpmSolver.Algorithm.DPMSOLVER_PP)
                .steps(steps).order(s.order()).method(s.method()).skipType(s.skipType()).build();
    }

    private static int steps(SampleRequest r) {
        try {
            return Integer.parseInt(r.respacing().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(r.sampler().spelling() + " takes a number of steps, not the respacing '" + r.respacing() + "'");
        }
    }

    /**
     * U-ViT's eval scripts. Discrete (SD betas): {@code dpm_solver_pp.py} on {@code NoiseScheduleVP('discrete', betas)}
     * of float32 betas, the network fed t·1000, t from 1 to 1/1000 ({@code eval_ldm_discrete.py}; a multistep request
     * runs the current release's solver, since that file's multistep cannot run). Continuous (VP SDE): the network fed
     * t·999 ({@code ScoreModel.predict}), DPM-Solver from 1 to 1e-4 as {@code eval_ldm.py} calls it, or Euler–Maruyama.
     */
    private static Sampler uvit(SampleRequest r, ModelConfig.Process process) {
        boolean continuous = process == ModelConfig.Process.VP_CONTINUOUS;
        if (!r.sampler().isDpmSolver() && !r.sampler().isEulerMaruyama())
            throw new IllegalArgumentException("--sampler " + r.sampler().spelling() + " runs ADM's discrete process; this U-ViT was trained on "
                    + (continuous ? "the continuous VP SDE (use dpm-solver, dpm-solver++, euler-maruyama or euler-maruyama-ode)" : "Stable Diffusion's discrete betas (use dpm-solver or dpm-solver++)"));
        if (r.clipDenoised()) throw new IllegalArgumentException("clipping x0 predictions is not available for U-ViT's samplers");
        int steps = steps(r);
        if (r.sampler().isEulerMaruyama()) {
            if (!continuous) throw new IllegalArgumentException("Euler-Maruyama integrates the continuous VP SDE; this U-ViT was trained on Stable Diffusion's discrete betas");
            return new EulerMaruyama(LinearVpSchedule.standard(), steps, 1e-3, r.sampler() == SampleRequest.SamplerKind.EULER_MARUYAMA_ODE);
        }
        SampleRequest.Solver s = r.solver();
        DpmSolver.Algorithm algorithm = r.sampler() == SampleRequest.SamplerKind.DPM_SOLVER ? DpmSolver.Algorithm.DPMSOLVER : DpmSolver.Algorithm.DPMSOLVER_PP;
        DpmSolver.Builder b = continuous
                ? DpmSolver.builder(LinearVpSchedule.standard(), ModelTime.scaled(999)).tStart(1).tEnd(1e-4)
                : DpmSolver.builder(DiscreteVpSchedule.uvitPp(NoiseSchedule.betas("scaled_linear", 1000)), ModelTime.scaled(1000)).tStart(1).tEnd(1.0 / 1000)
                    .variant(s.method() == DpmSolver.Method.MULTISTEP ? DpmSolver.Variant.CURRENT : DpmSolver.Variant.UVIT_PP);
        return b.algorithm(algorithm).steps(steps).order(s.order()).method(s.method()).skipType(s.skipType()).build();
    }
}
