package org.dit4j.diffusion;

import org.dit4j.util.Slices;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * U-ViT's {@code sde.euler_maruyama} on the reverse VP SDE {@code dx = [f(x, t) − g(t)²·s(x, t)] dt + g(t) dw} with
 * β(t) = β0 + t·(β1 − β0) ({@code sde.VPSDE}), or on its probability-flow ODE (drift with ½·g²·s, no noise). Time grid
 * {@code [0, linspace(eps, 1, steps)]} in float32 as the official code casts it; the score is −ε̂/√(1 − ᾱ_t), the
 * network sees t·999 (U-ViT's {@code ScoreModel.predict}); the last step (to t = 0) adds no noise.
 */
public final class EulerMaruyama implements Sampler {
    private final float beta0, betaSpan;
    private final boolean ode;
    private final float[] times;   // times[0] = 0, then linspace(eps, 1, steps)

    /** {@code ode}: the probability-flow ODE instead of the reverse SDE. */
    public EulerMaruyama(LinearVpSchedule sde, int steps, double eps, boolean ode) {
        if (steps < 1) throw new IllegalArgumentException("Euler-Maruyama needs at least one step, got " + steps);
        if (!(eps > 0 && eps < 1)) throw new IllegalArgumentException("the end time eps must lie in (0, 1), got " + eps);
        this.beta0 = (float) sde.beta0();
        this.betaSpan = (float) (sde.beta1() - sde.beta0());
        this.ode = ode;
        this.times = new float[steps + 1];
        for (int i = 0; i < steps; i++) times[i + 1] = (float) (steps == 1 ? eps : eps + (1 - eps) * i / (steps - 1));   // np.linspace
        if (steps > 1) times[steps] = 1f;
    }

    /** U-ViT's defaults: eps = 1e-3, the reverse SDE. */
    public EulerMaruyama(LinearVpSchedule sde, int steps) {
        this(sde, steps, 1e-3, false);
    }

    @Override
    public int steps() {
        return times.length - 1;
    }

    /** The SDE draws at every step but the last (to t = 0); the ODE never. */
    @Override
    public long noiseDraws(long[] shape) {
        return ode ? 0 : (steps() - 1) * Sampler.elements(shape);
    }

    /** β(t) in float32, as {@code squared_diffusion} computes it on a float32 t. */
    private float beta(float t) {
        return beta0 + t * betaSpan;
    }

    /** 1 − ᾱ_t = 1 − exp(−∫₀ᵗ β) ({@code cum_beta}). */
    private float cumBeta(float t) {
        return 1f - (float) Math.exp(-(beta0 * t + betaSpan * (t * t) * 0.5f));
    }

    @Override
    public INDArray sample(DenoiseFn model, INDArray noise, NoiseSource rng, StepListener listener) {
        INDArray x = noise.castTo(DataType.FLOAT);
        long channels = x.size(1);
        int n = (int) x.size(0);
        for (int k = 0, i = times.length - 1; i >= 1; i--, k++) {
            float t = times[i], s = times[i - 1], dt = s - t;
            double[] modelT = new double[n];
            java.util.Arrays.fill(modelT, t * 999f);
            INDArray out = model.apply(x, modelT);                                     // (N, C or 2C, ...)
            INDArray eps = out.size(1) == channels ? out : Slices.range(out, 1, 0, channels);
            float b = beta(t), cb = cumBeta(t);
            // drift = f − c·g²·s with f = −½βx, s = −ε̂/√cum_beta, c = 1 (SDE) or ½ (ODE)
            float scoreCoef = (ode ? 0.5f : 1f) * b / (float) Math.sqrt(cb);
            INDArray drift = x.mul(-0.5f * b).addi(eps.mul(scoreCoef));
            INDArray mean = x.add(drift.muli(dt));
            INDArray x0 = x.mul((float) (1 / Math.sqrt(1 - cb))).subi(eps.mul((float) Math.sqrt(cb / (1 - cb))));
            x = ode || s == 0 ? mean : mean.addi(rng.next(x.shape()).muli((float) Math.sqrt(b) * (float) Math.sqrt(-dt)));
            if (listener != null) listener.onStep(k, t * 999f, x, x0);
        }
        return x;
    }
}
