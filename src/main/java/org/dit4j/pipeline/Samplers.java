package org.dit4j.pipeline;

import org.dit4j.diffusion.DdimSampler;
import org.dit4j.diffusion.DdpmSampler;
import org.dit4j.diffusion.DiffusionConfig;
import org.dit4j.diffusion.DiscreteVpSchedule;
import org.dit4j.diffusion.DpmSolver;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.diffusion.ModelTime;
import org.dit4j.diffusion.Sampler;
import org.dit4j.models.ModelConfig;

/** The sampler a request names, over the diffusion process the model was trained with. */
public final class Samplers {
    private Samplers() {}

    public static Sampler create(SampleRequest r, ModelConfig model) {
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
        int steps;
        try {
            steps = Integer.parseInt(r.respacing().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("DPM-Solver takes a number of steps, not the respacing '" + r.respacing() + "'");
        }
        if (r.clipDenoised()) throw new IllegalArgumentException("clipping x0 predictions is not available with DPM-Solver (the official thresholding is left out)");
        DiscreteVpSchedule ns = GaussianDiffusion.create(DiffusionConfig.of("")).schedule();
        SampleRequest.Solver s = r.solver();
        return DpmSolver.builder(ns, ModelTime.discrete(ns.totalN()))
                .algorithm(r.sampler() == SampleRequest.SamplerKind.DPM_SOLVER ? DpmSolver.Algorithm.DPMSOLVER : DpmSolver.Algorithm.DPMSOLVER_PP)
                .steps(steps).order(s.order()).method(s.method()).skipType(s.skipType()).build();
    }
}
