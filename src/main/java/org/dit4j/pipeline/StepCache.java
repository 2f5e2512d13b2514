package org.dit4j.pipeline;

import org.dit4j.models.BlockCaching;
import org.dit4j.models.Conditioning;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ForwardingDenoiser;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * FORA's static caching ({@code boost_infer_static}) in front of a model for one batch's sampling run: the model
 * evaluations are counted, and at FORA's refresh steps the model runs in full and its blocks' attention and MLP outputs
 * are kept; at the others the blocks reuse them. The sampler never knows. Evaluations, not sampler steps, are counted
 * (the same for DDPM/DDIM; DPM-Solver's multistep method also evaluates once per step), and each call is one
 * evaluation of the whole sampler batch — DiT's batched guidance, where the cache holds the guided batch's rows.
 * A fresh instance per batch: the cache belongs to one run of one batch on one replica.
 */
final class StepCache extends ForwardingDenoiser {
    private final BlockCaching cacheable;
    private final int interval, evaluations;
    private int evaluation;
    private BlockCaching.BlockOutputs cached;

    /** {@code evaluations}: the sampler's number of network evaluations, {@code numstep} in FORA. */
    StepCache(Denoiser model, int interval, int evaluations) {
        super(model);
        if (!(model instanceof BlockCaching c))
            throw new IllegalArgumentException("caching block outputs across steps is implemented for DiT, not for a " + model.config().family() + " model");
        if (interval < 1) throw new IllegalArgumentException("the cache interval must be at least 1, got " + interval);
        this.cacheable = c;
        this.interval = interval;
        this.evaluations = evaluations;
    }

    /**
     * FORA's rule: with the loop index i = numstep − 1 − evaluation running from numstep − 1 down to 0, the blocks
     * compute (and store) at {@code i == numstep - 1 or i % interval == 0} and reuse the stored outputs otherwise.
     */
    static boolean refreshes(int evaluation, int evaluations, int interval) {
        return evaluation == 0 || Math.floorMod(evaluations - 1 - evaluation, interval) == 0;
    }

    @Override
    public INDArray forward(INDArray x, double[] t, Conditioning c) {
        if (!refreshes(evaluation++, evaluations, interval)) return cacheable.forwardCached(x, t, c, cached);   // evaluation 0 always refreshes
        BlockCaching.Step step = cacheable.forwardStoring(x, t, c);
        cached = step.blocks();
        return step.output();
    }
}
