package org.dit4j.diffusion;

/**
 * Named β schedules in float64: {@code get_named_beta_schedule}'s, and Stable Diffusion's {@code scaled_linear}
 * (U-ViT's {@code stable_diffusion_beta_schedule}).
 */
public final class NoiseSchedule {
    private NoiseSchedule() {}

    public static double[] betas(String name, int steps) {
        return switch (name) {
            case "linear" -> {
                double scale = 1000.0 / steps, start = scale * 0.0001, end = scale * 0.02;
                yield linspace(start, end, steps);
            }
            case "scaled_linear" -> {
                // linspace(√0.00085, √0.012, steps)², fixed endpoints whatever the step count (no 1000/steps scaling)
                double[] b = linspace(Math.sqrt(0.00085), Math.sqrt(0.012), steps);
                for (int i = 0; i < steps; i++) b[i] *= b[i];
                yield b;
            }
            case "squaredcos_cap_v2" -> {
                double[] b = new double[steps];
                for (int i = 0; i < steps; i++) {
                    double t1 = (double) i / steps, t2 = (double) (i + 1) / steps;
                    b[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), 0.999);
                }
                yield b;
            }
            default -> throw new IllegalArgumentException("unknown noise schedule '" + name + "' (expected linear, scaled_linear or squaredcos_cap_v2)");
        };
    }

    private static double alphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /** {@code np.linspace}: start + i·step, with the last value exactly {@code end}. */
    static double[] linspace(double start, double end, int n) {
        double[] out = new double[n];
        if (n == 1) {
            out[0] = start;
            return out;
        }
        double step = (end - start) / (n - 1);
        for (int i = 0; i < n; i++) out[i] = start + i * step;
        out[n - 1] = end;
        return out;
    }
}
