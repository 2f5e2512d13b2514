package org.dit4j.diffusion;

import org.dit4j.util.Slices;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code training_losses} as a SameDiff graph over the model's output, so gradients flow into the model: the MSE on
 * epsilon (or x0) plus, for learned σ, the VLB term with the mean frozen (decoder NLL at t = 0, KL otherwise).
 * Per-sample coefficients are computed on the host in float32 and fed as (N,1,1,1) placeholders.
 */
public final class DiffusionLoss {
    public static final String X_START = "loss_x_start", X_T = "loss_x_t", NOISE = "loss_noise", T_IS_ZERO = "loss_t_is_zero";
    /** The optional mask (N, sample shape) of real positions, and the per-sample ratio (N) of all to real positions. */
    public static final String MASK = "loss_mask", RATIO = "loss_ratio";
    public static final String MSE = "mse", VB = "vb", LOSS = "loss", LOSS_MEAN = "loss_mean";
    private static final String[] COEFS = {"coef_posterior1", "coef_posterior2", "coef_true_logvar", "coef_min_log",
            "coef_max_log", "coef_sqrt_recip", "coef_sqrt_recipm1"};
    private static final double LN2 = Math.log(2.0);

    private final GaussianDiffusion diffusion;

    public DiffusionLoss(GaussianDiffusion diffusion) {
        if (diffusion.lossType == GaussianDiffusion.LossType.KL || diffusion.lossType == GaussianDiffusion.LossType.RESCALED_KL)
            throw new UnsupportedOperationException("KL-only training losses (use_kl) are not implemented; use the MSE losses");
        if (diffusion.varType != GaussianDiffusion.VarType.LEARNED_RANGE && diffusion.lossType == GaussianDiffusion.LossType.RESCALED_MSE)
            throw new IllegalArgumentException("rescale_learned_sigmas needs learn_sigma");
        this.diffusion = diffusion;
    }

    /**
     * Adds the loss to {@code sd} with its inputs as placeholders; {@code modelOutput} is (N, C or 2C, ...) for samples of
     * {@code sampleShape} (C, ...) — images (C, H, W) or token sequences alike. Returns the scalar mean loss.
     */
    public SDVariable build(SameDiff sd, SDVariable modelOutput, long... sampleShape) {
        return build(sd, modelOutput, false, sampleShape);
    }

    /**
     * With {@code masked}, padded batches (FiT): the target is multiplied by the {@link #MASK} and both terms by the
     * per-sample {@link #RATIO} N / real, as FiT's masked {@code training_losses} does (it does not mask the VB term).
     */
    public SDVariable build(SameDiff sd, SDVariable modelOutput, boolean masked, long... sampleShape) {
        long[] batched = batched(sampleShape), perSample = perSample(sampleShape.length);
        Map<String, SDVariable> k = new HashMap<>();
        for (String name : COEFS) k.put(name, sd.placeHolder(name, DataType.FLOAT, perSample));
        Targets targets = new Targets(sd.placeHolder(X_START, DataType.FLOAT, batched), sd.placeHolder(NOISE, DataType.FLOAT, batched),
                sd.placeHolder(X_T, DataType.FLOAT, batched), k,
                diffusion.varType == GaussianDiffusion.VarType.LEARNED_RANGE ? sd.placeHolder(T_IS_ZERO, DataType.FLOAT, -1) : null,
                masked ? sd.placeHolder(MASK, DataType.FLOAT, batched) : null, masked ? sd.placeHolder(RATIO, DataType.FLOAT, -1) : null);
        return build(sd, modelOutput, sampleShape[0], sampleShape.length + 1, targets).mean().rename(LOSS_MEAN);
    }

    private static long[] batched(long[] sampleShape) {
        long[] s = new long[sampleShape.length + 1];
        s[0] = -1;
        System.arraycopy(sampleShape, 0, s, 1, sampleShape.length);
        return s;
    }

    /** (-1, 1, ..., 1): a per-sample coefficient broadcast over a sample of rank {@code rank}. */
    private static long[] perSample(int rank) {
        long[] s = new long[rank + 1];
        Arrays.fill(s, 1);
        s[0] = -1;
        return s;
    }

    /** What the loss compares the model's output with: x0, noise and x_t, per-sample coefficients, optional mask. */
    private record Targets(SDVariable xStart, SDVariable noise, SDVariable xT, Map<String, SDVariable> coefs, SDVariable tIsZero,
                           SDVariable mask, SDVariable ratio) {}

    /** Values per example in {@link #packLabels}: x0, noise and x_t, then the coefficients and the t = 0 flag. */
    public static long packedLabelWidth(long... sampleShape) {
        long size = 1;
        for (long d : sampleShape) size *= d;
        return 3 * size + COEFS.length + 1;
    }

    /**
     * The loss with every target read from one (N, {@link #packedLabelWidth}) label matrix, the form a DL4J output
     * layer receives them in. Returns the per-example loss (N).
     */
    public SDVariable buildFromPacked(SameDiff sd, SDVariable modelOutput, SDVariable labels, long... sampleShape) {
        long size = 1;
        for (long d : sampleShape) size *= d;
        long[] batched = batched(sampleShape), perSample = perSample(sampleShape.length);
        SDVariable xStart = sd.reshape(columns(labels, 0, size), batched);                 // (N, sample)
        SDVariable noise = sd.reshape(columns(labels, size, 2 * size), batched);           // (N, sample)
        SDVariable xT = sd.reshape(columns(labels, 2 * size, 3 * size), batched);          // (N, sample)
        Map<String, SDVariable> k = new HashMap<>();
        for (int i = 0; i < COEFS.length; i++)
            k.put(COEFS[i], sd.reshape(columns(labels, 3 * size + i, 3 * size + i + 1), perSample));     // (N, 1, ..., 1)
        SDVariable isZero = sd.reshape(columns(labels, 3 * size + COEFS.length, 3 * size + COEFS.length + 1), -1);   // (N)
        return build(sd, modelOutput, sampleShape[0], sampleShape.length + 1, new Targets(xStart, noise, xT, k, isZero, null, null));
    }

    private static SDVariable columns(SDVariable m, long from, long to) {
        return m.get(SDIndex.all(), SDIndex.interval(from, to));
    }

    /** The per-example loss (N): MSE, plus the VLB term for learned σ. */
    private SDVariable build(SameDiff sd, SDVariable modelOutput, long channels, int rank, Targets in) {
        Map<String, SDVariable> k = in.coefs();
        SDVariable xStart = in.xStart(), noise = in.noise(), xT = in.xT();
        boolean learned = diffusion.varType == GaussianDiffusion.VarType.LEARNED_RANGE;
        SDVariable out = learned ? modelOutput.get(SDIndex.all(), SDIndex.interval(0L, channels)) : modelOutput;   // (N, C, ...)
        SDVariable target = diffusion.meanType == GaussianDiffusion.MeanType.EPSILON ? noise : xStart;
        // FiT: mean_flat((target·mask − output)²), so padding counts (target 0 there) wherever the output is not 0.
        SDVariable diff = (in.mask() != null ? target.mul(in.mask()) : target).sub(out);
        SDVariable mse = meanFlat(diff.mul(diff), rank);                                                                          // (N)
        if (in.ratio() != null) mse = mse.mul(in.ratio());
        mse = mse.rename(MSE);
        SDVariable loss = mse;
        if (learned) {
            SDVariable varValues = modelOutput.get(SDIndex.all(), SDIndex.interval(channels, 2 * channels));     // (N, C, ...)
            SDVariable frozen = new StopGradient(sd, out).outputVariable();
            SDVariable predXstart = diffusion.meanType == GaussianDiffusion.MeanType.EPSILON
                    ? k.get("coef_sqrt_recip").mul(xT).sub(k.get("coef_sqrt_recipm1").mul(frozen))
                    : frozen;
            SDVariable modelMean = k.get("coef_posterior1").mul(predXstart).add(k.get("coef_posterior2").mul(xT));
            SDVariable frac = varValues.add(1.0).div(2.0);
            SDVariable modelLogVar = frac.mul(k.get("coef_max_log")).add(frac.rsub(1.0).mul(k.get("coef_min_log")));
            SDVariable trueMean = k.get("coef_posterior1").mul(xStart).add(k.get("coef_posterior2").mul(xT));
            SDVariable kl = meanFlat(normalKl(sd, trueMean, k.get("coef_true_logvar"), modelMean, modelLogVar), rank).div(LN2);
            SDVariable nll = meanFlat(discretizedGaussianLogLikelihood(sd, xStart, modelMean, modelLogVar.mul(0.5)).neg(), rank).div(LN2);
            SDVariable isZero = in.tIsZero();
            SDVariable vb = isZero.mul(nll).add(isZero.rsub(1.0).mul(kl));
            if (diffusion.lossType == GaussianDiffusion.LossType.RESCALED_MSE) vb = vb.mul(diffusion.numTimesteps / 1000.0);
            if (in.ratio() != null) vb = vb.mul(in.ratio());
            vb = vb.rename(VB);
            loss = mse.add(vb);
        }
        return loss.rename(LOSS);
    }

    /** {@code mean_flat}: the mean over every axis but the batch axis, whatever the rank. */
    private static SDVariable meanFlat(SDVariable x, int rank) {
        int[] axes = new int[rank - 1];
        for (int i = 1; i < rank; i++) axes[i - 1] = i;
        return x.mean(false, axes);
    }

    /** KL(N(m1, e^lv1) ‖ N(m2, e^lv2)), elementwise. */
    private static SDVariable normalKl(SameDiff sd, SDVariable mean1, SDVariable logvar1, SDVariable mean2, SDVariable logvar2) {
        SDVariable d = mean1.sub(mean2);
        SDVariable sum = logvar2.sub(logvar1).add(-1.0).add(sd.math.exp(logvar1.sub(logvar2)))
                .add(d.mul(d).mul(sd.math.exp(logvar2.neg())));
        return sum.mul(0.5);
    }

    private static SDVariable approxStandardNormalCdf(SameDiff sd, SDVariable x) {
        SDVariable inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2.0 / Math.PI));
        return sd.math.tanh(inner).add(1.0).mul(0.5);
    }

    /** Log-likelihood of 8-bit data in [-1, 1] under a discretised Gaussian; the branches are masks on x (data, no gradient). */
    private static SDVariable discretizedGaussianLogLikelihood(SameDiff sd, SDVariable x, SDVariable means, SDVariable logScales) {
        SDVariable centered = x.sub(means);
        SDVariable invStdv = sd.math.exp(logScales.neg());
        SDVariable cdfPlus = approxStandardNormalCdf(sd, invStdv.mul(centered.add(1.0 / 255.0)));
        SDVariable cdfMin = approxStandardNormalCdf(sd, invStdv.mul(centered.sub(1.0 / 255.0)));
        SDVariable floor = sd.constant(1e-12f);
        SDVariable logCdfPlus = sd.math.log(sd.math.max(cdfPlus, floor));
        SDVariable logOneMinusCdfMin = sd.math.log(sd.math.max(cdfMin.rsub(1.0), floor));
        SDVariable logCdfDelta = sd.math.log(sd.math.max(cdfPlus.sub(cdfMin), floor));
        SDVariable low = sd.lt(x, -0.999).castTo(DataType.FLOAT), high = sd.gt(x, 0.999).castTo(DataType.FLOAT);
        SDVariable mid = low.add(high).rsub(1.0);
        return low.mul(logCdfPlus).add(high.mul(logOneMinusCdfMin)).add(mid.mul(logCdfDelta));
    }

    /** The placeholders for a batch: x0, the noise (N, sample shape), respaced timesteps {@code t}; x_t = q_sample(x0, t, noise). */
    public Map<String, INDArray> placeholders(INDArray xStart, long[] t, INDArray noise) {
        GaussianDiffusion d = diffusion;
        Map<String, INDArray> ph = new HashMap<>();
        int rank = xStart.rank() - 1;
        ph.put(X_START, xStart);
        ph.put(NOISE, noise);
        ph.put(X_T, d.qSample(xStart, t, noise));
        put(ph, "coef_posterior1", GaussianDiffusion.extract(d.posteriorMeanCoef1, t), rank);
        put(ph, "coef_posterior2", GaussianDiffusion.extract(d.posteriorMeanCoef2, t), rank);
        put(ph, "coef_true_logvar", GaussianDiffusion.extract(d.posteriorLogVarianceClipped, t), rank);
        put(ph, "coef_min_log", GaussianDiffusion.extract(d.posteriorLogVarianceClipped, t), rank);
        put(ph, "coef_max_log", GaussianDiffusion.extract(d.logBetas, t), rank);
        put(ph, "coef_sqrt_recip", GaussianDiffusion.extract(d.sqrtRecipAlphasCumprod, t), rank);
        put(ph, "coef_sqrt_recipm1", GaussianDiffusion.extract(d.sqrtRecipm1AlphasCumprod, t), rank);
        if (d.varType == GaussianDiffusion.VarType.LEARNED_RANGE) {
            float[] z = new float[t.length];
            for (int i = 0; i < t.length; i++) z[i] = t[i] == 0 ? 1f : 0f;
            ph.put(T_IS_ZERO, Nd4j.createFromArray(z));
        }
        return ph;
    }

    /**
     * {@code get_flexible_mask_and_ratio} of a token mask (N, T): {@link #MASK} broadcast to (N, {@code channels}, T) and
     * {@link #RATIO} = T / (real tokens) in float32.
     */
    public static Map<String, INDArray> maskPlaceholders(INDArray tokenMask, long channels) {
        if (tokenMask.rank() != 2) throw new IllegalArgumentException("token mask has shape " + Arrays.toString(tokenMask.shape()) + ", expected (N, T)");
        long n = tokenMask.size(0), tokens = tokenMask.size(1);
        INDArray m = tokenMask.castTo(DataType.FLOAT);
        float[] ratio = new float[(int) n];
        for (int i = 0; i < n; i++) {
            long real = 0;
            for (long j = 0; j < tokens; j++) if (m.getFloat(i, j) != 0f) real++;
            if (real == 0) throw new IllegalArgumentException("sample " + i + " of the batch has no real token");
            ratio[i] = (float) tokens / real;
        }
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(MASK, m.reshape(n, 1, tokens).broadcast(n, channels, tokens).dup('c'));
        ph.put(RATIO, Nd4j.createFromArray(ratio));
        return ph;
    }

    /** {@link #placeholders} as one (N, {@link #packedLabelWidth}) matrix for {@link #buildFromPacked}. */
    public INDArray packLabels(INDArray xStart, long[] t, INDArray noise) {
        Map<String, INDArray> ph = placeholders(xStart, t, noise);
        long n = t.length;
        List<INDArray> parts = new ArrayList<>();
        for (String name : List.of(X_START, NOISE, X_T)) parts.add(ph.get(name).castTo(DataType.FLOAT).reshape('c', n, -1));
        for (String name : COEFS) parts.add(ph.get(name).reshape('c', n, 1));
        float[] zero = new float[(int) n];
        for (int i = 0; i < n; i++) zero[i] = t[i] == 0 ? 1f : 0f;
        parts.add(Nd4j.createFromArray(zero).reshape(n, 1));
        return Nd4j.concat(1, parts.toArray(INDArray[]::new));
    }

    /** The inverse of {@link #packLabels}: the {@link #placeholders} of a batch from its packed label rows (N, {@link #packedLabelWidth}). */
    public Map<String, INDArray> unpackLabels(INDArray packed, long... sampleShape) {
        long size = 1;
        for (long d : sampleShape) size *= d;
        long n = packed.size(0);
        if (packed.rank() != 2 || packed.size(1) != packedLabelWidth(sampleShape))
            throw new IllegalArgumentException("packed labels have shape " + Arrays.toString(packed.shape()) + ", expected (N, "
                    + packedLabelWidth(sampleShape) + ")");
        long[] batched = batched(sampleShape), perSample = perSample(sampleShape.length);
        batched[0] = perSample[0] = n;
        Map<String, INDArray> ph = new HashMap<>();
        String[] samples = {X_START, NOISE, X_T};
        for (int i = 0; i < samples.length; i++) ph.put(samples[i], Slices.range(packed, 1, i * size, (i + 1) * size).reshape('c', batched));
        for (int i = 0; i < COEFS.length; i++) ph.put(COEFS[i], Slices.range(packed, 1, 3 * size + i, 3 * size + i + 1).reshape('c', perSample));
        if (diffusion.varType == GaussianDiffusion.VarType.LEARNED_RANGE)
            ph.put(T_IS_ZERO, Slices.range(packed, 1, 3 * size + COEFS.length, 3 * size + COEFS.length + 1).reshape(n));
        return ph;
    }

    private static void put(Map<String, INDArray> ph, String name, float[] v, int sampleRank) {
        long[] shape = perSample(sampleRank);
        shape[0] = v.length;
        ph.put(name, Nd4j.createFromArray(v).reshape(shape));
    }
}
