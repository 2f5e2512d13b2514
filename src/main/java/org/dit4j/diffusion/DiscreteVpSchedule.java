package org.dit4j.diffusion;

/**
 * DPM-Solver's {@code NoiseScheduleVP('discrete', betas)}: log α_t interpolated piecewise-linearly through one
 * keypoint per discrete step, t_n = (n+1)/N, with linear extrapolation outside [1/N, 1]. The keypoints are float32
 * as in the official code; the interpolation runs in double.
 */
public final class DiscreteVpSchedule implements Schedule {
    /** Half log-SNR below which {@code numerical_clip_alpha} drops the tail of the table. */
    private static final double CLIPPED_LAMBDA = -5.1;

    private final double[] tArray, logAlphaArray;
    /** The same keypoints in ascending log α (the table runs downwards), for {@link #inverseLambda}. */
    private final double[] flippedLogAlpha, flippedT;

    private DiscreteVpSchedule(float[] t, float[] logAlpha) {
        int n = t.length;
        tArray = new double[n];
        logAlphaArray = new double[n];
        flippedLogAlpha = new double[n];
        flippedT = new double[n];
        for (int i = 0; i < n; i++) {
            tArray[i] = t[i];
            logAlphaArray[i] = logAlpha[i];
            flippedT[n - 1 - i] = t[i];
            flippedLogAlpha[n - 1 - i] = logAlpha[i];
        }
    }

    /**
     * The current LuChengTHU/dpm-solver release: {@code 0.5·cumsum(log(1 − β))} in float64, the tail with
     * λ < −5.1 dropped ({@code numerical_clip_alpha}), then cast to float32; {@code t_array = linspace(0, 1, N+1)[1:]}
     * in float32, N counted after the clipping.
     */
    public static DiscreteVpSchedule dpmSolver(double[] betas) {
        int n = betas.length;
        double[] logAlphas = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.log(1 - betas[i]);
            logAlphas[i] = 0.5 * sum;
        }
        int keep = n;
        while (keep > 0 && lambdaOf(logAlphas[keep - 1]) < CLIPPED_LAMBDA) keep--;
        float[] logAlpha = new float[keep];
        for (int i = 0; i < keep; i++) logAlpha[i] = (float) logAlphas[i];
        float[] t = new float[keep];
        System.arraycopy(torchLinspaceF32(0, 1, keep + 1), 1, t, 0, keep);
        return new DiscreteVpSchedule(t, logAlpha);
    }

    /**
     * U-ViT's {@code dpm_solver_pp.py} with the betas U-ViT passes it ({@code torch.tensor(betas).float()}):
     * {@code 0.5·cumsum(log(1 − β))} in float32 (torch's CPU cumsum adds in double and rounds each partial sum),
     * no clipping, {@code t_discrete = linspace(1/N, 1, N)} in float32.
     */
    public static DiscreteVpSchedule uvitPp(double[] betas) {
        int n = betas.length;
        float[] logAlpha = new float[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float oneMinusBeta = 1f - (float) betas[i];
            sum += (float) Math.log(oneMinusBeta);
            logAlpha[i] = 0.5f * (float) sum;
        }
        return new DiscreteVpSchedule(torchLinspaceF32(1.0 / n, 1, n), logAlpha);
    }

    private static double lambdaOf(double logAlpha) {
        return logAlpha - 0.5 * Math.log(1 - Math.exp(2 * logAlpha));
    }

    @Override
    public double endTime() {
        return 1;
    }

    @Override
    public int totalN() {
        return tArray.length;
    }

    /** The keypoint times t_n (float32 values). */
    public double[] tArray() {
        return tArray.clone();
    }

    /** log α at the keypoints (float32 values). */
    public double[] logAlphaArray() {
        return logAlphaArray.clone();
    }

    @Override
    public double logAlpha(double t) {
        return interpolate(t, tArray, logAlphaArray);
    }

    /** log α = −½·logaddexp(0, −2λ), then t through the table read backwards. */
    @Override
    public double inverseLambda(double lambda) {
        double a = -2 * lambda;
        double logAlpha = -0.5 * (Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a))));
        return interpolate(logAlpha, flippedLogAlpha, flippedT);
    }

    /**
     * {@code interpolate_fn}: the segment around x (x sorted before equal keypoints), or the first / last segment
     * extended when x lies outside the keypoints.
     */
    static double interpolate(double x, double[] xp, double[] yp) {
        int k = xp.length;
        int lo = 0, hi = k;   // the number of keypoints < x
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (xp[mid] < x) lo = mid + 1;
            else hi = mid;
        }
        int start = lo == 0 ? 0 : lo == k ? k - 2 : lo - 1;
        return yp[start] + (x - xp[start]) * (yp[start + 1] - yp[start]) / (xp[start + 1] - xp[start]);
    }

    /**
     * {@code torch.linspace(start, end, n)} in float32, bit for bit as torch 1.13's CPU kernel computes it on AVX2
     * (the fixtures' build): indices below n/2 count up from start, the others down from end, each as one fused
     * multiply-add; in blocks of two 8-lane vectors a lane adds j·step to its vector's first value; the tail of
     * fewer than 16 is scalar. A plain i·step formula differs in ~25% of the entries by one ulp.
     */
    static float[] torchLinspaceF32(double start, double end, int n) {
        float a = (float) start, b = (float) end;
        float[] out = new float[n];
        if (n == 1) {
            out[0] = a;
            return out;
        }
        float step = (b - a) / (float) (n - 1);
        int half = n / 2, i = 0;
        for (; i + 16 <= n; i += 16)
            for (int v = i; v < i + 16; v += 8) {
                float base = linspaceEntry(a, b, step, half, n, v);
                out[v] = base;
                for (int j = 1; j < 8; j++) out[v + j] = base + (float) j * step;
            }
        for (; i < n; i++) out[i] = linspaceEntry(a, b, step, half, n, i);
        return out;
    }

    private static float linspaceEntry(float a, float b, float step, int half, int n, int i) {
        return i < half ? Math.fma(step, (float) i, a) : Math.fma(-step, (float) (n - i - 1), b);
    }

    @Override
    public String toString() {
        return "DiscreteVpSchedule[N=" + tArray.length + "]";
    }
}
