package org.dit4j.diffusion;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

/**
 * U-ViT's training objectives, both {@code LSimple}: x_t from x_0 and ε, the network's ε prediction, per sample the
 * mean of squares {@code mos(ε − ε̂)} over every non-batch axis, and their batch mean as what is differentiated.
 * <ul>
 * <li>{@link #continuousVp()} — {@code sde.py} ({@code train.py}, {@code train_ldm.py}): the VP SDE with β from 0.1 to 20,
 * t ~ U(0, 1), ᾱ_t = exp(−(β0·t + (β1 − β0)·t²/2)), network time t·999; the coefficients in float32 in the written order.</li>
 * <li>{@link #stableDiffusionDiscrete()} — {@code train_ldm_discrete.py}, {@code train_t2i_discrete.py}: Stable
 * Diffusion's scaled-linear betas, n uniform in 1..1000 (1-based: n = 0 is the data), {@code cum_alphas} and
 * {@code cum_betas} of {@code get_skip} in float64, their square roots cast to float32; network time n.</li>
 * </ul>
 */
public final class EpsilonObjective {
    public static final String NOISE = "eps_target", LOSS = "loss", LOSS_MEAN = "loss_mean";

    /** x_t and the timesteps the network is given for it. */
    public record Noised(INDArray xt, double[] modelTimes) {}

    private final boolean continuous;
    private final float beta0, betaRange;         // continuous: β0 and β1 − β0 as float32 (torch scalar ops)
    private final double[] cumAlphas, cumBetas;   // discrete: index n = 0..N

    private EpsilonObjective(boolean continuous, double beta0, double beta1, double[] betas) {
        this.continuous = continuous;
        this.beta0 = (float) beta0;
        this.betaRange = (float) (beta1 - beta0);
        if (betas == null) {
            cumAlphas = cumBetas = null;
            return;
        }
        // train_ldm_discrete.Schedule: betas with 0 prepended, alphas = 1 − betas, get_skip's first rows
        int n = betas.length;
        double[] b = new double[n + 1], a = new double[n + 1];
        a[0] = 1;
        for (int i = 1; i <= n; i++) {
            b[i] = betas[i - 1];
            a[i] = 1 - b[i];
        }
        cumAlphas = new double[n + 1];
        cumBetas = new double[n + 1];
        cumAlphas[0] = 1;
        for (int t = 1; t <= n; t++) cumAlphas[t] = cumAlphas[t - 1] * a[t];
        // skip_betas[0, t] = Σ_{s=1..t} β_s·skip_alphas[s, t], summed from s = t down (prod[::-1].cumsum()), with
        // skip_alphas[s, t] = α_{s+1}···α_t accumulated from s + 1 upwards (alphas[s+1:].cumprod()).
        double[][] skip = new double[n + 1][];
        for (int s = 1; s <= n; s++) {
            skip[s] = new double[n + 1];
            skip[s][s] = 1;
            double p = 1;
            for (int t = s + 1; t <= n; t++) skip[s][t] = p *= a[t];
        }
        for (int t = 1; t <= n; t++) {
            double sum = 0;
            for (int s = t; s >= 1; s--) sum += b[s] * skip[s][t];
            cumBetas[t] = sum;
        }
    }

    /** {@code sde.VPSDE()}: β0 = 0.1, β1 = 20. */
    public static EpsilonObjective continuousVp() {
        return new EpsilonObjective(true, 0.1, 20, null);
    }

    /** {@code stable_diffusion_beta_schedule()}: linspace(√0.00085, √0.012, 1000)² in float64. */
    public static EpsilonObjective stableDiffusionDiscrete() {
        return new EpsilonObjective(false, 0, 0, NoiseSchedule.betas("scaled_linear", 1000));
    }

    public boolean isContinuous() {
        return continuous;
    }

    /** Discrete: N (the last n); continuous: 0. */
    public int steps() {
        return continuous ? 0 : cumAlphas.length - 1;
    }

    /** ᾱ_n of the discrete objective (index 0 = 1). */
    public double cumAlpha(int n) {
        return cumAlphas[n];
    }

    /** {@code cum_betas[n]} of the discrete objective. */
    public double cumBeta(int n) {
        return cumBetas[n];
    }

    /** One time per sample: t ~ U[0, 1) as a float32 ({@code torch.rand}), or n uniform in 1..N. */
    public double[] drawTimes(int batch, SplittableRandom rng) {
        double[] t = new double[batch];
        for (int i = 0; i < batch; i++) t[i] = continuous ? (float) rng.nextDouble() : 1 + rng.nextInt(steps());
        return t;
    }

    /** x_t = √ᾱ·x_0 + √(1 − ᾱ)·ε per sample (float32), and the network's timesteps. */
    public Noised noise(INDArray x0, double[] times, INDArray eps) {
        int n = (int) x0.size(0);
        if (times.length != n || !java.util.Arrays.equals(x0.shape(), eps.shape()))
            throw new IllegalArgumentException("x0 " + java.util.Arrays.toString(x0.shape()) + ", noise " + java.util.Arrays.toString(eps.shape())
                    + " and " + times.length + " timesteps do not match");
        float[] a = new float[n], s = new float[n];
        double[] modelTimes = new double[n];
        for (int i = 0; i < n; i++) {
            if (continuous) {
                float t = (float) times[i];
                if (!(t >= 0 && t <= 1)) throw new IllegalArgumentException("continuous time " + times[i] + " is outside [0, 1]");
                // squared_diffusion_integral(0, t) = β0·(t − 0) + (β1 − β0)·(t² − 0²)·0.5, then skip_alpha = exp(−·)
                float integral = beta0 * t + betaRange * (t * t) * 0.5f;
                float alpha = (float) Math.exp(-integral), beta = 1f - alpha;
                a[i] = (float) Math.sqrt(alpha);
                s[i] = (float) Math.sqrt(beta);
                modelTimes[i] = t * 999f;                          // ScoreModel.predict: nnet(x_t, t·999), float32
            } else {
                int k = (int) times[i];
                if (k != times[i] || k < 1 || k > steps())
                    throw new IllegalArgumentException("discrete step " + times[i] + " is outside 1.." + steps());
                a[i] = (float) Math.sqrt(cumAlphas[k]);
                s[i] = (float) Math.sqrt(cumBetas[k]);
                modelTimes[i] = k;
            }
        }
        INDArray x = x0.castTo(DataType.FLOAT).reshape(n, -1), e = eps.castTo(DataType.FLOAT).reshape(n, -1);
        INDArray xt = x.mulColumnVector(Nd4j.createFromArray(a).reshape(n, 1))
                .addi(e.mulColumnVector(Nd4j.createFromArray(s).reshape(n, 1)));   // stp(√ᾱ, x0) + stp(√(1−ᾱ), ε)
        return new Noised(xt.reshape(x0.shape()), modelTimes);
    }

    /**
     * The loss over {@code prediction} (N, sample shape) against the placeholder {@link #NOISE}: {@link #LOSS} (N) =
     * {@code mos(ε − ε̂)}, and the returned {@link #LOSS_MEAN} = {@code loss.mean()}.
     */
    public static SDVariable build(SameDiff sd, SDVariable prediction, long... sampleShape) {
        long[] batched = new long[sampleShape.length + 1];
        batched[0] = -1;
        System.arraycopy(sampleShape, 0, batched, 1, sampleShape.length);
        SDVariable diff = sd.placeHolder(NOISE, DataType.FLOAT, batched).sub(prediction);
        int[] axes = new int[sampleShape.length];
        for (int i = 0; i < axes.length; i++) axes[i] = i + 1;                  // positive axes (the M2.1 mean trap)
        SDVariable perSample = diff.mul(diff).mean(false, axes).rename(LOSS);   // (N)
        return perSample.mean().rename(LOSS_MEAN);
    }
}
