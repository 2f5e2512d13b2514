package org.dit4j.diffusion;

/**
 * DPM-Solver's continuous-time {@code NoiseScheduleVP('linear')} (Song et al.'s VP SDE with β(t) = β0 + t·(β1 − β0)),
 * the schedule of U-ViT's continuous-time models: log α_t = −¼t²(β1 − β0) − ½tβ0 on (0, 1].
 */
public final class LinearVpSchedule implements Schedule {
    /** {@code NoiseScheduleVP.total_N} of the continuous schedule: DPM-Solver's default end time is 1/1000. */
    private static final int TOTAL_N = 1000;

    private final double beta0, beta1;

    public LinearVpSchedule(double beta0, double beta1) {
        if (!(beta0 > 0 && beta1 > beta0))
            throw new IllegalArgumentException("a linear VP schedule needs 0 < beta_0 < beta_1, got " + beta0 + " and " + beta1);
        this.beta0 = beta0;
        this.beta1 = beta1;
    }

    public double beta0() {
        return beta0;
    }

    public double beta1() {
        return beta1;
    }

    /** The official defaults β0 = 0.1, β1 = 20. */
    public static LinearVpSchedule standard() {
        return new LinearVpSchedule(0.1, 20);
    }

    @Override
    public double endTime() {
        return 1;
    }

    @Override
    public int totalN() {
        return TOTAL_N;
    }

    @Override
    public double logAlpha(double t) {
        return -0.25 * t * t * (beta1 - beta0) - 0.5 * t * beta0;
    }

    /** The positive root of the quadratic in t, written as the official code does to avoid cancellation near t = 0. */
    @Override
    public double inverseLambda(double lambda) {
        double a = -2 * lambda;
        double tmp = 2 * (beta1 - beta0) * (Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a))));   // 2(β1 − β0)·logaddexp(−2λ, 0)
        double delta = beta0 * beta0 + tmp;
        return tmp / (Math.sqrt(delta) + beta0) / (beta1 - beta0);
    }

    @Override
    public String toString() {
        return "LinearVpSchedule[beta_0=" + beta0 + ", beta_1=" + beta1 + "]";
    }
}
