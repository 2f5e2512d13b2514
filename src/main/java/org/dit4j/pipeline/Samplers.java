package org.dit4j.pipeline;

import org.dit4j.diffusion.DdimSampler;
import org.dit4j.diffusion.DdpmSampler;
import org.dit4j.diffusion.DiffusionConfig;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.diffusion.Sampler;
import org.dit4j.models.ModelConfig;

/** The sampler a request names, over the diffusion process the model was trained with. */
public final class Samplers {
    private Samplers() {}

    public static Sampler create(SampleRequest r, ModelConfig model) {
        GaussianDiffusion diffusion = GaussianDiffusion.create(DiffusionConfig.of(r.respacing()).withLearnSigma(model.learnSigma()));
        return switch (r.sampler()) {
            case DDPM -> new DdpmSampler(diffusion, r.clipDenoised());
            case DDIM -> new DdimSampler(diffusion, r.clipDenoised(), r.eta());
        };
    }
}
