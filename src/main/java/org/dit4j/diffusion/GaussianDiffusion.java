package org.dit4j.diffusion;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;
import org.dit4j.util.Slices;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Arrays;

/**
 * The official (ADM/IDDPM) Gaussian diffusion, respaced. Tables are float64; every coefficient is rounded to float32
 * per sample and applied in float32, as {@code _extract_into_tensor(...).float()} does. Timesteps passed in are
 * indices of the respaced process; the model receives the original timesteps through {@link #timestepMap()}.
 */
public final class GaussianDiffusion {
    public enum MeanType { EPSILON, START_X }

    public enum VarType { LEARNED_RANGE, FIXED_SMALL, FIXED_LARGE }

    public enum LossType { MSE, RESCALED_MSE, KL, RESCALED_KL }

    final MeanType meanType;
    final VarType varType;
    final LossType lossType;
    final int numTimesteps;
    final int[] timestepMap;
    final double[] betas, alphasCumprod, alphasCumprodPrev, alphasCumprodNext, sqrtAlphasCumprod,
            sqrtOneMinusAlphasCumprod, logOneMinusAlphasCumprod, sqrtRecipAlphasCumprod, sqrtRecipm1AlphasCumprod,
            posteriorVariance, posteriorLogVarianceClipped, posteriorMeanCoef1, posteriorMeanCoef2, logBetas,
            fixedLargeVariance, fixedLargeLogVariance;

    /** {@code create_diffusion(...)}. */
    public static GaussianDiffusion create(DiffusionConfig c) {
        double[] base = NoiseSchedule.betas(c.noiseSchedule(), c.diffusionSteps());
        LossType loss = c.useKl() ? LossType.RESCALED_KL : c.rescaleLearnedSigmas() ? LossType.RESCALED_MSE : LossType.MSE;
        VarType var = c.learnSigma() ? VarType.LEARNED_RANGE : c.sigmaSmall() ? VarType.FIXED_SMALL : VarType.FIXED_LARGE;
        MeanType mean = c.predictXstart() ? MeanType.START_X : MeanType.EPSILON;
        int[] use = Respacing.spaceTimesteps(c.diffusionSteps(), c.timestepRespacing());
        // SpacedDiffusion: new betas from the cumulative products at the kept timesteps.
        double[] newBetas = new double[use.length];
        if (c.float32Tables()) {
            float[] acBase = cumprodFloat32(base);
            float last = 1f;
            for (int i = 0; i < use.length; i++) {
                newBetas[i] = 1f - acBase[use[i]] / last;
                last = acBase[use[i]];
            }
        } else {
            double[] acBase = cumprod(base);
            double last = 1.0;
            for (int i = 0; i < use.length; i++) {
                newBetas[i] = 1 - acBase[use[i]] / last;
                last = acBase[use[i]];
            }
        }
        return new GaussianDiffusion(newBetas, use, mean, var, loss, c.float32Tables());
    }

    public static GaussianDiffusion create(String respacing) {
        return create(DiffusionConfig.of(respacing));
    }

    GaussianDiffusion(double[] betas, int[] timestepMap, MeanType meanType, VarType varType, LossType lossType) {
        this(betas, timestepMap, meanType, varType, lossType, false);
    }

    /** With {@code float32}, every table is computed in float32 arithmetic as MindONE's port does (and kept as doubles). */
    GaussianDiffusion(double[] betas, int[] timestepMap, MeanType meanType, VarType varType, LossType lossType, boolean float32) {
        for (double b : betas) if (!(b > 0 && b <= 1)) throw new IllegalArgumentException("betas must lie in (0, 1]");
        this.meanType = meanType;
        this.varType = varType;
        this.lossType = lossType;
        this.timestepMap = timestepMap.clone();
        int n = this.numTimesteps = betas.length;
        this.betas = new double[n];
        for (int i = 0; i < n; i++) this.betas[i] = float32 ? (float) betas[i] : betas[i];
        alphasCumprodPrev = new double[n];
        alphasCumprodNext = new double[n];
        sqrtAlphasCumprod = new double[n];
        sqrtOneMinusAlphasCumprod = new double[n];
        logOneMinusAlphasCumprod = new double[n];
        sqrtRecipAlphasCumprod = new double[n];
        sqrtRecipm1AlphasCumprod = new double[n];
        posteriorVariance = new double[n];
        posteriorLogVarianceClipped = new double[n];
        posteriorMeanCoef1 = new double[n];
        posteriorMeanCoef2 = new double[n];
        logBetas = new double[n];
        fixedLargeVariance = new double[n];
        fixedLargeLogVariance = new double[n];
        if (float32) {
            alphasCumprod = new double[n];
            float32Tables(this.betas);
            return;
        }
        alphasCumprod = cumprod(betas);
        for (int i = 0; i < n; i++) {
            double ac = alphasCumprod[i];
            alphasCumprodPrev[i] = i == 0 ? 1.0 : alphasCumprod[i - 1];
            alphasCumprodNext[i] = i == n - 1 ? 0.0 : alphasCumprod[i + 1];
            sqrtAlphasCumprod[i] = Math.sqrt(ac);
            sqrtOneMinusAlphasCumprod[i] = Math.sqrt(1.0 - ac);
            logOneMinusAlphasCumprod[i] = Math.log(1.0 - ac);
            sqrtRecipAlphasCumprod[i] = Math.sqrt(1.0 / ac);
            sqrtRecipm1AlphasCumprod[i] = Math.sqrt(1.0 / ac - 1);
            posteriorVariance[i] = betas[i] * (1.0 - alphasCumprodPrev[i]) / (1.0 - ac);
            posteriorMeanCoef1[i] = betas[i] * Math.sqrt(alphasCumprodPrev[i]) / (1.0 - ac);
            posteriorMeanCoef2[i] = (1.0 - alphasCumprodPrev[i]) * Math.sqrt(1.0 - betas[i]) / (1.0 - ac);
            logBetas[i] = Math.log(betas[i]);
        }
        for (int i = 0; i < n; i++) {
            // The variance is 0 at the start of the chain: its log is clipped to the next value.
            posteriorLogVarianceClipped[i] = n > 1 ? Math.log(i == 0 ? posteriorVariance[1] : posteriorVariance[i]) : 0;
            fixedLargeVariance[i] = i == 0 && n > 1 ? posteriorVariance[1] : betas[i];
            fixedLargeLogVariance[i] = Math.log(fixedLargeVariance[i]);
        }
    }

    /**
     * MindONE's {@code GaussianDiffusion.__init__}: betas cast to float32, {@code np.cumprod} of the float32 alphas (one
     * float32 product after another) and every other table in float32 ops, in the written order.
     */
    private void float32Tables(double[] b) {
        int n = b.length;
        float[] ac = cumprodFloat32(b), pv = new float[n];
        for (int i = 0; i < n; i++) {
            float beta = (float) b[i], prev = i == 0 ? 1f : ac[i - 1], oneMinus = 1f - ac[i];
            alphasCumprod[i] = ac[i];
            alphasCumprodPrev[i] = prev;
            alphasCumprodNext[i] = i == n - 1 ? 0f : ac[i + 1];
            sqrtAlphasCumprod[i] = sqrt32(ac[i]);
            sqrtOneMinusAlphasCumprod[i] = sqrt32(oneMinus);
            logOneMinusAlphasCumprod[i] = log32(oneMinus);
            sqrtRecipAlphasCumprod[i] = sqrt32(1f / ac[i]);
            sqrtRecipm1AlphasCumprod[i] = sqrt32(1f / ac[i] - 1f);
            pv[i] = beta * (1f - prev) / oneMinus;
            posteriorVariance[i] = pv[i];
            posteriorMeanCoef1[i] = beta * sqrt32(prev) / oneMinus;
            posteriorMeanCoef2[i] = (1f - prev) * sqrt32(1f - beta) / oneMinus;
            logBetas[i] = log32(beta);
        }
        for (int i = 0; i < n; i++) {
            posteriorLogVarianceClipped[i] = n > 1 ? log32(i == 0 ? pv[1] : pv[i]) : 0;
            fixedLargeVariance[i] = i == 0 && n > 1 ? pv[1] : (float) b[i];
            fixedLargeLogVariance[i] = log32((float) fixedLargeVariance[i]);
        }
    }

    private static float sqrt32(float x) {
        return (float) Math.sqrt(x);
    }

    private static float log32(float x) {
        return (float) Math.log(x);
    }

    /** {@code np.cumprod(1 − betas.astype(float32))}: sequential float32 products. */
    static float[] cumprodFloat32(double[] betas) {
        float[] out = new float[betas.length];
        float acc = 1f;
        for (int i = 0; i < betas.length; i++) {
            acc *= 1f - (float) betas[i];
            out[i] = acc;
        }
        return out;
    }

    static double[] cumprod(double[] betas) {
        double[] out = new double[betas.length];
        double acc = 1.0;
        for (int i = 0; i < betas.length; i++) {
            acc *= 1.0 - betas[i];
            out[i] = acc;
        }
        return out;
    }

    /**
     * This process as a continuous-time schedule: DPM-Solver's {@code NoiseScheduleVP('discrete', betas)} over its
     * (respaced) betas, piecewise-linear in log α between the discrete steps.
     */
    public DiscreteVpSchedule schedule() {
        return DiscreteVpSchedule.dpmSolver(betas);
    }

    public int numTimesteps() {
        return numTimesteps;
    }

    /** Respaced index → the original timestep the model is given. */
    public int[] timestepMap() {
        return timestepMap.clone();
    }

    public MeanType meanType() {
        return meanType;
    }

    public VarType varType() {
        return varType;
    }

    public LossType lossType() {
        return lossType;
    }

    /** A float64 table by its official attribute name, for tests and tools. */
    public double[] table(String name) {
        double[] t = switch (name) {
            case "betas" -> betas;
            case "alphas_cumprod" -> alphasCumprod;
            case "alphas_cumprod_prev" -> alphasCumprodPrev;
            case "alphas_cumprod_next" -> alphasCumprodNext;
            case "sqrt_alphas_cumprod" -> sqrtAlphasCumprod;
            case "sqrt_one_minus_alphas_cumprod" -> sqrtOneMinusAlphasCumprod;
            case "log_one_minus_alphas_cumprod" -> logOneMinusAlphasCumprod;
            case "sqrt_recip_alphas_cumprod" -> sqrtRecipAlphasCumprod;
            case "sqrt_recipm1_alphas_cumprod" -> sqrtRecipm1AlphasCumprod;
            case "posterior_variance" -> posteriorVariance;
            case "posterior_log_variance_clipped" -> posteriorLogVarianceClipped;
            case "posterior_mean_coef1" -> posteriorMeanCoef1;
            case "posterior_mean_coef2" -> posteriorMeanCoef2;
            default -> throw new IllegalArgumentException("no diffusion table named " + name);
        };
        return t.clone();
    }

    /** {@code _extract_into_tensor(arr, t).float()}: one float32 value per sample. */
    static float[] extract(double[] table, long[] t) {
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) out[i] = (float) table[(int) t[i]];
        return out;
    }

    /** x·c with c broadcast per sample (dimension 0), in float32. */
    static INDArray perSample(INDArray x, float[] c) {
        INDArray out = Nd4j.create(DataType.FLOAT, x.shape());
        return Broadcast.mul(x, Nd4j.createFromArray(c), out, 0);
    }

    /** The original timesteps for respaced indices {@code t}: what the model is given. */
    public double[] modelTimesteps(long[] t) {
        double[] out = new double[t.length];
        for (int i = 0; i < t.length; i++) out[i] = timestepMap[(int) t[i]];
        return out;
    }

    /** {@code q_sample}: √ᾱ·x0 + √(1−ᾱ)·noise. */
    public INDArray qSample(INDArray x0, long[] t, INDArray noise) {
        return perSample(x0, extract(sqrtAlphasCumprod, t)).addi(perSample(noise, extract(sqrtOneMinusAlphasCumprod, t)));
    }

    /** {@code q_posterior_mean_variance}'s mean: coef1·x0 + coef2·x_t. */
    public INDArray qPosteriorMean(INDArray xStart, INDArray xT, long[] t) {
        return perSample(xStart, extract(posteriorMeanCoef1, t)).addi(perSample(xT, extract(posteriorMeanCoef2, t)));
    }

    public INDArray predictXstartFromEps(INDArray xT, long[] t, INDArray eps) {
        return perSample(xT, extract(sqrtRecipAlphasCumprod, t)).subi(perSample(eps, extract(sqrtRecipm1AlphasCumprod, t)));
    }

    public INDArray predictEpsFromXstart(INDArray xT, long[] t, INDArray predXstart) {
        INDArray num = perSample(xT, extract(sqrtRecipAlphasCumprod, t)).subi(predXstart);
        float[] d = extract(sqrtRecipm1AlphasCumprod, t);
        INDArray out = Nd4j.create(DataType.FLOAT, num.shape());
        return Broadcast.div(num, Nd4j.createFromArray(d), out, 0);
    }

    /** What {@code p_mean_variance} returns. */
    public record MeanVariance(INDArray modelOutput, INDArray mean, INDArray logVariance, INDArray predXstart) {}

    /** {@code p_mean_variance}: the model's p(x_{t−1} | x_t) and its x0 prediction. */
    public MeanVariance pMeanVariance(DenoiseFn model, INDArray x, long[] t, boolean clipDenoised) {
        INDArray out = model.apply(x, modelTimesteps(t));
        return pMeanVarianceFromOutput(out, x, t, clipDenoised);
    }

    public MeanVariance pMeanVarianceFromOutput(INDArray modelOutput, INDArray x, long[] t, boolean clipDenoised) {
        long c = x.size(1);
        INDArray eps = modelOutput, logVariance;
        if (varType == VarType.LEARNED_RANGE) {
            if (modelOutput.size(1) != 2 * c)
                throw new IllegalArgumentException("a learned-sigma model must output " + 2 * c + " channels, got " + modelOutput.size(1));
            eps = Slices.range(modelOutput, 1, 0, c);
            INDArray varValues = Slices.range(modelOutput, 1, c, 2 * c);
            INDArray frac = varValues.add(1.0f).divi(2.0f);
            INDArray minLog = broadcastTo(extract(posteriorLogVarianceClipped, t), x.shape());
            INDArray maxLog = broadcastTo(extract(logBetas, t), x.shape());
            // frac·max_log + (1 − frac)·min_log
            logVariance = frac.mul(maxLog).addi(frac.rsub(1.0f).muli(minLog));
        } else {
            if (modelOutput.size(1) != c)
                throw new IllegalArgumentException("a fixed-variance model must output " + c + " channels, got " + modelOutput.size(1));
            double[] table = varType == VarType.FIXED_LARGE ? fixedLargeLogVariance : posteriorLogVarianceClipped;
            logVariance = broadcastTo(extract(table, t), x.shape());
        }
        INDArray predXstart = meanType == MeanType.START_X ? eps.dup() : predictXstartFromEps(x, t, eps);
        if (clipDenoised) predXstart = Transforms.min(Transforms.max(predXstart, -1.0, false), 1.0, false);
        INDArray mean = qPosteriorMean(predXstart, x, t);
        return new MeanVariance(modelOutput, mean, logVariance, predXstart);
    }

    static INDArray broadcastTo(float[] perSample, long[] shape) {
        return perSample(Nd4j.ones(DataType.FLOAT, shape), perSample);
    }

    /** What one sampling step returns. */
    public record Step(INDArray sample, INDArray predXstart) {}

    /** {@code p_sample}: mean + [t ≠ 0]·exp(½·log σ²)·noise. */
    public Step pSample(DenoiseFn model, INDArray x, long[] t, boolean clipDenoised, INDArray noise) {
        MeanVariance mv = pMeanVariance(model, x, t, clipDenoised);
        float[] nonzero = new float[t.length];
        for (int i = 0; i < t.length; i++) nonzero[i] = t[i] != 0 ? 1f : 0f;
        INDArray std = Transforms.exp(mv.logVariance().mul(0.5f), false);
        INDArray sample = perSample(std, nonzero).muli(noise).addi(mv.mean());
        return new Step(sample, mv.predXstart());
    }

    /** {@code ddim_sample} (Song et al., eq. 12); {@code noise} may be null when {@code eta} is 0. */
    public Step ddimSample(DenoiseFn model, INDArray x, long[] t, boolean clipDenoised, double eta, INDArray noise) {
        MeanVariance mv = pMeanVariance(model, x, t, clipDenoised);
        INDArray eps = predictEpsFromXstart(x, t, mv.predXstart());
        float[] ab = extract(alphasCumprod, t), abPrev = extract(alphasCumprodPrev, t);
        float[] sqrtAbPrev = new float[t.length], dirCoef = new float[t.length], sigma = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            float s = (float) eta * (float) Math.sqrt((1f - abPrev[i]) / (1f - ab[i])) * (float) Math.sqrt(1f - ab[i] / abPrev[i]);
            sigma[i] = t[i] != 0 ? s : 0f;
            sqrtAbPrev[i] = (float) Math.sqrt(abPrev[i]);
            dirCoef[i] = (float) Math.sqrt(1f - abPrev[i] - s * s);
        }
        INDArray sample = perSample(mv.predXstart(), sqrtAbPrev).addi(perSample(eps, dirCoef));
        if (eta != 0) sample.addi(perSample(noise, sigma));
        return new Step(sample, mv.predXstart());
    }

    @Override
    public String toString() {
        return "GaussianDiffusion[" + numTimesteps + " steps, " + meanType + ", " + varType + ", " + lossType + ", map "
                + Arrays.toString(Arrays.copyOf(timestepMap, Math.min(5, timestepMap.length))) + "...]";
    }
}
