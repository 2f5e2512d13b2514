package org.dit4j.diffusion;

import org.dit4j.util.Slices;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * DPM-Solver and DPM-Solver++ (Lu et al. 2022), the {@code DPM_Solver.sample} of LuChengTHU/dpm-solver's
 * {@code dpm_solver_pytorch.py}: exponential integrators of the diffusion ODE in λ = log(α/σ), of order 1 to 3,
 * singlestep or multistep. The network is called through a {@link DenoiseFn} that is already guided; its first C
 * output channels are the noise prediction. Deterministic: the {@link NoiseSource} is not used.
 *
 * <p>Schedule scalars are double, samples float32. Left out of the official class: the {@code 'adaptive'} method,
 * {@code solver_type='taylor'}, {@code correcting_x0_fn} / dynamic thresholding and {@code correcting_xt_fn}.
 */
public final class DpmSolver implements Sampler {
    /** {@code algorithm_type}: which prediction the integrator is written in. */
    public enum Algorithm {
        /** "dpmsolver": the noise prediction ε. */
        DPMSOLVER,
        /** "dpmsolver++": the data prediction x0 = (x − σ_t·ε)/α_t. */
        DPMSOLVER_PP;

    }

    public enum Method {
        /** Each update reuses the model values of the previous {@code order − 1} steps; NFE = steps. */
        MULTISTEP,
        /** "DPM-Solver-fast": singlestep updates of orders ≤ order that use up exactly {@code steps} evaluations. */
        SINGLESTEP,
        /** steps / order singlestep updates, all of the given order. */
        SINGLESTEP_FIXED;

    }

    /** {@code skip_type}: how the time grid is spaced. */
    public enum SkipType {
        TIME_UNIFORM, LOG_SNR, TIME_QUADRATIC;

    }

    /** Which official implementation the plan follows; the updates themselves are the same formulas in both. */
    public enum Variant {
        /** LuChengTHU/dpm-solver's current {@code dpm_solver_pytorch.py}. */
        CURRENT,
        /**
         * U-ViT's older {@code dpm_solver_pp.py} ({@code predict_x0} = DPMSOLVER_PP): its {@code 'fast'} method is
         * {@link Method#SINGLESTEP} and its {@code 'singlestep'} is {@link Method#SINGLESTEP_FIXED}; its multistep
         * method cannot run (it reads {@code timesteps} before assigning it), so it is refused here.
         */
        UVIT_PP
    }

    /**
     * The updates of one run: update k goes from {@code times[k]} to {@code times[k+1]} with order {@code orders[k]};
     * a singlestep update of order o also evaluates the model at λ_s + r·h for the o − 1 fractions r of
     * {@code ratios[k]} (multistep updates reuse earlier evaluations and have none).
     */
    public record Plan(double[] times, int[] orders, double[][] ratios) {}

    private final Schedule ns;
    private final ModelTime modelTime;
    private final Variant variant;
    private final Algorithm algorithm;
    private final Method method;
    private final SkipType skipType;
    private final int order;
    private final boolean denoiseToZero;
    private final double tStart, tEnd;
    private final Plan plan;

    private DpmSolver(Builder b) {
        ns = b.schedule;
        modelTime = b.modelTime;
        variant = b.variant;
        algorithm = b.algorithm;
        method = b.method;
        skipType = b.skipType;
        order = b.order;
        denoiseToZero = b.denoiseToZero;
        tStart = Double.isNaN(b.tStart) ? ns.endTime() : b.tStart;
        tEnd = Double.isNaN(b.tEnd) ? 1.0 / ns.totalN() : b.tEnd;
        validate(b.steps);
        plan = method == Method.MULTISTEP ? multistepPlan(b.steps, b.lowerOrderFinal) : singlestepPlan(b.steps);
    }

    /**
     * A solver with the official {@code sample()} defaults: DPM-Solver++, 20 steps, order 2, multistep,
     * time_uniform, lower_order_final, no denoise_to_zero, t from T to 1/N.
     */
    public static Builder builder(Schedule schedule, ModelTime modelTime) {
        return new Builder(schedule, modelTime);
    }

    public static final class Builder {
        private final Schedule schedule;
        private final ModelTime modelTime;
        private Variant variant = Variant.CURRENT;
        private Algorithm algorithm = Algorithm.DPMSOLVER_PP;
        private Method method = Method.MULTISTEP;
        private SkipType skipType = SkipType.TIME_UNIFORM;
        private int steps = 20, order = 2;
        private boolean lowerOrderFinal = true, denoiseToZero;
        private double tStart = Double.NaN, tEnd = Double.NaN;

        private Builder(Schedule schedule, ModelTime modelTime) {
            this.schedule = schedule;
            this.modelTime = modelTime;
        }

        public Builder variant(Variant v) { variant = v; return this; }
        public Builder algorithm(Algorithm a) { algorithm = a; return this; }
        public Builder method(Method m) { method = m; return this; }
        public Builder skipType(SkipType s) { skipType = s; return this; }
        public Builder steps(int n) { steps = n; return this; }
        public Builder order(int o) { order = o; return this; }
        /** Multistep only, and (as officially) only when steps < 10: lower the order of the last updates. */
        public Builder lowerOrderFinal(boolean on) { lowerOrderFinal = on; return this; }
        /** One more model call at t_end that returns its x0 prediction. */
        public Builder denoiseToZero(boolean on) { denoiseToZero = on; return this; }
        public Builder tStart(double t) { tStart = t; return this; }
        public Builder tEnd(double t) { tEnd = t; return this; }

        public DpmSolver build() {
            return new DpmSolver(this);
        }
    }

    private void validate(int steps) {
        if (order < 1 || order > 3) throw new IllegalArgumentException("DPM-Solver order must be 1, 2 or 3, got " + order);
        if (steps < 1) throw new IllegalArgumentException("DPM-Solver needs at least one step, got " + steps);
        if (!(tEnd > 0 && tStart > tEnd))
            throw new IllegalArgumentException("DPM-Solver integrates from t_start down to t_end > 0, got t_start " + tStart + " and t_end " + tEnd);
        if (method != Method.SINGLESTEP && steps < order)
            throw new IllegalArgumentException(method.name().toLowerCase(Locale.ROOT) + " DPM-Solver of order " + order
                    + " needs at least " + order + " steps, got " + steps);
        if (variant == Variant.UVIT_PP) {
            if (method == Method.MULTISTEP)
                throw new IllegalArgumentException("U-ViT's dpm_solver_pp.py has no working multistep method (use the current variant)");
            if (method == Method.SINGLESTEP && order == 1)
                throw new IllegalArgumentException("U-ViT's dpm_solver_pp.py fast method needs order 2 or 3, got 1");
            // its denoise_fn feeds the x0 prediction into the noise formula: a wrong result rather than a variant
            if (denoiseToZero && algorithm == Algorithm.DPMSOLVER_PP)
                throw new IllegalArgumentException("U-ViT's dpm_solver_pp.py denoises a data prediction as if it were noise (use the current variant)");
        }
    }

    public Plan plan() {
        return new Plan(plan.times.clone(), plan.orders.clone(), Arrays.stream(plan.ratios).map(double[]::clone).toArray(double[][]::new));
    }

    /** The number of updates, i.e. of listener calls (one more with denoise_to_zero). */
    @Override
    public int steps() {
        return plan.orders.length + (denoiseToZero ? 1 : 0);
    }

    @Override
    public long noiseDraws(long[] shape) {
        return 0;
    }

    // ---------------------------------------------------------------- plans

    /** {@code get_time_steps}: N + 1 times from tT down to t0. */
    double[] timeSteps(SkipType skip, double tT, double t0, int n) {
        return switch (skip) {
            case LOG_SNR -> {
                double[] t = NoiseSchedule.linspace(ns.lambda(tT), ns.lambda(t0), n + 1);
                for (int i = 0; i <= n; i++) t[i] = ns.inverseLambda(t[i]);
                yield t;
            }
            case TIME_UNIFORM -> NoiseSchedule.linspace(tT, t0, n + 1);
            case TIME_QUADRATIC -> variant == Variant.UVIT_PP ? uvitQuadratic(tT, t0, n) : squared(NoiseSchedule.linspace(Math.sqrt(tT), Math.sqrt(t0), n + 1));
        };
    }

    private static double[] squared(double[] v) {
        for (int i = 0; i < v.length; i++) v[i] *= v[i];
        return v;
    }

    /**
     * U-ViT's {@code time_quadratic}: N + 1 points uniform in √t, each moved up to the first of 10⁷ uniform times
     * whose root reaches it ({@code searchsorted}), t_T last (the current release takes the squares as they are).
     */
    private static double[] uvitQuadratic(double tT, double t0, int n) {
        final int m = 10_000_000;
        double dt = (tT - t0) / (m - 1), q0 = Math.sqrt(t0), qT = Math.sqrt(tT);
        double[] t = new double[n + 1];
        t[0] = tT;
        for (int j = 0; j < n; j++) {
            double target = q0 + j * (qT - q0) / n;
            int lo = 0, hi = m - 1;   // the first k with √t_k ≥ target
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (Math.sqrt(t0 + mid * dt) < target) lo = mid + 1;
                else hi = mid;
            }
            t[n - j] = t0 + lo * dt;
        }
        return t;
    }

    /**
     * The singlestep orders that spend exactly {@code steps} evaluations: order 3 takes K = steps/3 + 1 updates
     * ending [.., 2, 1], [.., 1] or [.., 2] by steps mod 3; order 2 takes steps/2 updates of order 2 and one of
     * order 1 when steps is odd; order 1 takes steps updates. Both variants share these formulas.
     */
    static int[] fastOrders(int steps, int order) {
        List<Integer> o = new ArrayList<>();
        switch (order) {
            case 3 -> {
                int k = steps / 3 + 1;
                switch (steps % 3) {
                    case 0 -> { for (int i = 0; i < k - 2; i++) o.add(3); o.add(2); o.add(1); }
                    case 1 -> { for (int i = 0; i < k - 1; i++) o.add(3); o.add(1); }
                    default -> { for (int i = 0; i < k - 1; i++) o.add(3); o.add(2); }
                }
            }
            case 2 -> {
                for (int i = 0; i < steps / 2; i++) o.add(2);
                if (steps % 2 == 1) o.add(1);
            }
            default -> { for (int i = 0; i < steps; i++) o.add(1); }
        }
        return o.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Warm-up: update k (1-based) has order min(k, order); with lower_order_final and steps < 10 the last ones drop
     * to min(order, steps + 1 − k).
     */
    private Plan multistepPlan(int steps, boolean lowerOrderFinal) {
        int[] orders = new int[steps];
        for (int k = 1; k <= steps; k++)
            orders[k - 1] = k < order ? k : lowerOrderFinal && steps < 10 ? Math.min(order, steps + 1 - k) : order;
        return new Plan(timeSteps(skipType, tStart, tEnd, steps), orders, new double[steps][0]);
    }

    private Plan singlestepPlan(int steps) {
        if (method == Method.SINGLESTEP_FIXED) {
            int k = steps / order;
            int[] orders = new int[k];
            Arrays.fill(orders, order);
            double[] outer = timeSteps(skipType, tStart, tEnd, k);
            double[][] ratios = new double[k][];
            for (int i = 0; i < k; i++)
                // U-ViT passes no r: the defaults 1/2 and (1/3, 2/3) in λ; the current release measures them on the inner grid
                ratios[i] = variant == Variant.UVIT_PP ? defaultRatios(order) : innerRatios(outer[i], outer[i + 1], order);
            return new Plan(outer, orders, ratios);
        }
        int[] orders = fastOrders(steps, order);
        int k = orders.length;
        double[] outer, fine = null;
        if (variant == Variant.CURRENT && skipType == SkipType.LOG_SNR) {
            outer = timeSteps(skipType, tStart, tEnd, k);   // "to reproduce the results in DPM-Solver paper"
        } else {
            // every update spans `order` intervals of the steps-interval grid
            fine = timeSteps(skipType, tStart, tEnd, steps);
            outer = new double[k + 1];
            for (int i = 0, at = 0; i <= k; i++) {
                outer[i] = fine[at];
                if (i < k) at += orders[i];
            }
        }
        double[][] ratios = new double[k][];
        for (int i = 0, at = 0; i < k; at += orders[i], i++) {
            if (variant == Variant.CURRENT) {
                ratios[i] = innerRatios(outer[i], outer[i + 1], orders[i]);
            } else {
                // U-ViT's fast method: the intermediate points are the fine grid's own points between s and t
                double l0 = ns.lambda(fine[at]), h = ns.lambda(fine[at + orders[i]]) - l0;
                ratios[i] = new double[orders[i] - 1];
                for (int j = 1; j < orders[i]; j++) ratios[i][j - 1] = (ns.lambda(fine[at + j]) - l0) / h;
            }
        }
        return new Plan(outer, orders, ratios);
    }

    private static double[] defaultRatios(int order) {
        return order == 3 ? new double[]{1.0 / 3, 2.0 / 3} : order == 2 ? new double[]{0.5} : new double[0];
    }

    /** r_j = (λ(u_j) − λ(u_0)) / (λ(u_o) − λ(u_0)) on the grid u of {@code order} steps from s to t. */
    private double[] innerRatios(double s, double t, int order) {
        double[] inner = timeSteps(skipType, s, t, order);
        double l0 = ns.lambda(inner[0]), h = ns.lambda(inner[order]) - l0;
        double[] r = new double[order - 1];
        for (int j = 1; j < order; j++) r[j - 1] = (ns.lambda(inner[j]) - l0) / h;
        return r;
    }

    // ---------------------------------------------------------------- sampling

    @Override
    public INDArray sample(DenoiseFn model, INDArray noise, NoiseSource rng, StepListener listener) {
        INDArray x = noise.castTo(DataType.FLOAT);   // (N, C, H, W)
        int updates = plan.orders.length;
        List<Eval> history = new ArrayList<>();
        for (int k = 0; k < updates; k++) {
            double s = plan.times[k], t = plan.times[k + 1];
            Eval e = evaluate(model, x, s);
            int o = plan.orders[k];
            if (method == Method.MULTISTEP) {
                history.add(e);
                if (history.size() > order) history.remove(0);
                int n = history.size();
                x = switch (o) {
                    case 1 -> firstUpdate(x, e, t);
                    case 2 -> multistepSecondUpdate(x, history.get(n - 2), e, t);
                    default -> multistepThirdUpdate(x, history.get(n - 3), history.get(n - 2), e, t);
                };
            } else {
                double[] r = plan.ratios[k];
                x = switch (o) {
                    case 1 -> firstUpdate(x, e, t);
                    case 2 -> singlestepSecondUpdate(model, x, e, t, r[0]);
                    default -> singlestepThirdUpdate(model, x, e, t, r[0], r[1]);
                };
            }
            if (listener != null) listener.onStep(k, e.modelT(), x, e.x0());
        }
        if (denoiseToZero) {
            Eval e = evaluate(model, x, tEnd);
            x = e.x0();
            if (listener != null) listener.onStep(updates, e.modelT(), x, e.x0());
        }
        return x;
    }

    /** One model call at time t: the value the integrator uses (x0 or ε) and the x0 prediction. */
    private record Eval(double t, double modelT, INDArray value, INDArray x0) {}

    private Eval evaluate(DenoiseFn model, INDArray x, double t) {
        double mt = modelTime.of(t);
        double[] ts = new double[(int) x.size(0)];
        Arrays.fill(ts, mt);
        INDArray eps = noisePrediction(model.apply(x, ts), x.size(1));   // (N, C, H, W)
        double alpha = Math.exp(ns.logAlpha(t)), sigma = ns.sigma(t);
        INDArray x0 = x.sub(eps.mul((float) sigma)).divi((float) alpha);   // (N, C, H, W)
        return new Eval(t, mt, algorithm == Algorithm.DPMSOLVER_PP ? x0 : eps, x0);
    }

    /** The first C channels: a learned-sigma model's variance channels play no part in the ODE. */
    private static INDArray noisePrediction(INDArray out, long c) {
        long k = out.size(1);
        if (k != c && k != 2 * c)
            throw new IllegalArgumentException("the model returned " + k + " channels for a " + c + "-channel input (expected " + c + " or " + 2 * c + ")");
        // a copy either way: the history outlives the caller's output buffer, which SameDiff recycles
        INDArray eps = k == c ? out.dup('c') : Slices.range(out, 1, 0, c);   // (N, C, H, W)
        return eps.castTo(DataType.FLOAT);
    }

    /*
     * The updates are written once for both algorithms. DPM-Solver++ is DPM-Solver applied to the data prediction
     * with h → −h and the roles of α and σ swapped: x_t = decay·x − weight_t·φ(h')·m + corrections, where decay is
     * α_t/α_s (noise) or σ_t/σ_s (data), weight_t is σ_t (noise) or α_t (data), h' = h (noise) or −h (data), and the
     * official φ's with +1 for the data prediction are the negated φ's with −1 at h' (e.g. expm1(−h)/h + 1 =
     * −(expm1(h')/h' − 1)).
     */

    private boolean dataPrediction() {
        return algorithm == Algorithm.DPMSOLVER_PP;
    }

    private double decay(double s, double t) {
        return dataPrediction() ? ns.sigma(t) / ns.sigma(s) : Math.exp(ns.logAlpha(t) - ns.logAlpha(s));
    }

    private double weight(double t) {
        return dataPrediction() ? Math.exp(ns.logAlpha(t)) : ns.sigma(t);
    }

    private double signed(double h) {
        return dataPrediction() ? -h : h;
    }

    /** acc += c·v in float32 (c rounded once). */
    private static INDArray axpy(INDArray acc, double c, INDArray v) {
        return acc.addi(v.mul((float) c));
    }

    /** DPM-Solver-1 (DDIM) from s to t. */
    private INDArray firstUpdate(INDArray x, Eval s, double t) {
        double h = signed(ns.lambda(t) - ns.lambda(s.t()));
        return axpy(x.mul((float) decay(s.t(), t)), -weight(t) * Math.expm1(h), s.value());   // (N, C, H, W)
    }

    /** Singlestep DPM-Solver-2: one extra evaluation at λ_s + r1·h. */
    private INDArray singlestepSecondUpdate(DenoiseFn model, INDArray x, Eval s, double t, double r1) {
        double ls = ns.lambda(s.t()), hRaw = ns.lambda(t) - ls, h = signed(hRaw);
        double s1 = ns.inverseLambda(ls + r1 * hRaw);
        INDArray xS1 = axpy(x.mul((float) decay(s.t(), s1)), -weight(s1) * Math.expm1(r1 * h), s.value());   // (N, C, H, W)
        Eval e1 = evaluate(model, xS1, s1);
        double phi1 = Math.expm1(h), w = weight(t);
        INDArray xt = axpy(x.mul((float) decay(s.t(), t)), -w * phi1, s.value());   // (N, C, H, W)
        return axpy(xt, -(0.5 / r1) * w * phi1, e1.value().sub(s.value()));
    }

    /** Singlestep DPM-Solver-3: extra evaluations at λ_s + r1·h and λ_s + r2·h. */
    private INDArray singlestepThirdUpdate(DenoiseFn model, INDArray x, Eval s, double t, double r1, double r2) {
        double ls = ns.lambda(s.t()), hRaw = ns.lambda(t) - ls, h = signed(hRaw);
        double s1 = ns.inverseLambda(ls + r1 * hRaw), s2 = ns.inverseLambda(ls + r2 * hRaw);
        INDArray xS1 = axpy(x.mul((float) decay(s.t(), s1)), -weight(s1) * Math.expm1(r1 * h), s.value());   // (N, C, H, W)
        Eval e1 = evaluate(model, xS1, s1);
        double phi12 = Math.expm1(r2 * h), phi22 = phi12 / (r2 * h) - 1, w2 = weight(s2);
        INDArray xS2 = axpy(x.mul((float) decay(s.t(), s2)), -w2 * phi12, s.value());   // (N, C, H, W)
        xS2 = axpy(xS2, -(r2 / r1) * w2 * phi22, e1.value().sub(s.value()));
        Eval e2 = evaluate(model, xS2, s2);
        double phi1 = Math.expm1(h), phi2 = phi1 / h - 1, w = weight(t);
        INDArray xt = axpy(x.mul((float) decay(s.t(), t)), -w * phi1, s.value());   // (N, C, H, W)
        return axpy(xt, -(1 / r2) * w * phi2, e2.value().sub(s.value()));
    }

    /** Multistep DPM-Solver-2 from p0 to t with the previous value p1. */
    private INDArray multistepSecondUpdate(INDArray x, Eval p1, Eval p0, double t) {
        double l1 = ns.lambda(p1.t()), l0 = ns.lambda(p0.t()), hRaw = ns.lambda(t) - l0;
        double r0 = (l0 - l1) / hRaw, phi1 = Math.expm1(signed(hRaw)), w = weight(t);
        INDArray d10 = p0.value().sub(p1.value()).divi((float) r0);   // (N, C, H, W) D1_0
        INDArray xt = axpy(x.mul((float) decay(p0.t(), t)), -w * phi1, p0.value());   // (N, C, H, W)
        return axpy(xt, -0.5 * w * phi1, d10);
    }

    /** Multistep DPM-Solver-3 from p0 to t with the previous values p1, p2. */
    private INDArray multistepThirdUpdate(INDArray x, Eval p2, Eval p1, Eval p0, double t) {
        double l2 = ns.lambda(p2.t()), l1 = ns.lambda(p1.t()), l0 = ns.lambda(p0.t()), hRaw = ns.lambda(t) - l0;
        double r0 = (l0 - l1) / hRaw, r1 = (l1 - l2) / hRaw, h = signed(hRaw);
        INDArray d10 = p0.value().sub(p1.value()).divi((float) r0);   // (N, C, H, W) D1_0
        INDArray d11 = p1.value().sub(p2.value()).divi((float) r1);   // (N, C, H, W) D1_1
        INDArray diff = d10.sub(d11);   // (N, C, H, W)
        INDArray d1 = axpy(d10.dup(), r0 / (r0 + r1), diff);   // (N, C, H, W)
        INDArray d2 = diff.divi((float) (r0 + r1));   // (N, C, H, W)
        double phi1 = Math.expm1(h), phi2 = phi1 / h - 1, phi3 = phi2 / h - 0.5, w = weight(t);
        INDArray xt = axpy(x.mul((float) decay(p0.t(), t)), -w * phi1, p0.value());   // (N, C, H, W)
        return axpy(axpy(xt, -w * phi2, d1), -w * phi3, d2);
    }

    @Override
    public String toString() {
        return "DpmSolver[" + variant + ", " + algorithm + ", " + method + " order " + order + ", " + skipType + ", "
                + plan.orders.length + " updates, t " + tStart + " -> " + tEnd + (denoiseToZero ? ", denoise_to_zero" : "") + "]";
    }
}
