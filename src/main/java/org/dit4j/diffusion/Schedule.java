package org.dit4j.diffusion;

/**
 * A variance-preserving noise schedule in continuous time t ∈ (0, T]: q(x_t | x_0) = N(α_t·x_0, σ_t²·I) with
 * α_t² + σ_t² = 1, in DPM-Solver's terms ({@code NoiseScheduleVP}). Samplers and losses read the schedule; they never
 * see betas or tables.
 */
public interface Schedule {
    /** The end of the time interval (1 for every schedule dit4j has). */
    double endTime();

    /**
     * N of {@code NoiseScheduleVP.total_N}: the discrete model's step count (1000 for the continuous VP schedule).
     * DPM-Solver ends at t = 1/N by default, and a discrete model sees (t − 1/N)·1000.
     */
    int totalN();

    /** log α_t ({@code marginal_log_mean_coeff}). */
    double logAlpha(double t);

    /** α_t² = ᾱ_t. */
    default double alphaBar(double t) {
        return Math.exp(2 * logAlpha(t));
    }

    /** σ_t = √(1 − α_t²) ({@code marginal_std}). */
    default double sigma(double t) {
        return Math.sqrt(1 - Math.exp(2 * logAlpha(t)));
    }

    /** λ_t = log α_t − log σ_t, the half log-SNR ({@code marginal_lambda}). */
    default double lambda(double t) {
        double la = logAlpha(t);
        return la - 0.5 * Math.log(1 - Math.exp(2 * la));
    }

    /** The t with λ_t = {@code lambda} ({@code inverse_lambda}). */
    double inverseLambda(double lambda);
}
