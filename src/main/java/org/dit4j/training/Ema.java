package org.dit4j.training;

import org.dit4j.models.StateDicts;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exponential moving average of the weights, {@code train.py}'s {@code update_ema}: every tensor of the state dict,
 * frozen buffers included, as the official code iterates {@code named_parameters()}. With warm-up, the decay of update n
 * is min(d, (1 + n)/(10 + n)), as common EMA implementations do, so short runs are not dominated by the initial weights.
 */
public final class Ema {
    private final Map<String, INDArray> shadow = new LinkedHashMap<>();
    private final double decay;
    private final boolean warmup;
    private final Scratch scratch = new Scratch();
    private long updates;

    /** Starts from a copy of {@code initial} (train.py initialises the EMA from the model). */
    public Ema(Map<String, INDArray> initial, double decay, boolean warmup) {
        if (!(decay >= 0 && decay <= 1)) throw new IllegalArgumentException("ema_decay must lie in [0, 1], got " + decay);
        this.decay = decay;
        this.warmup = warmup;
        shadow.putAll(StateDicts.copy(initial));
    }

    /** The decay of update number {@code n} (from 0). */
    double decayAt(long n) {
        return warmup ? Math.min(decay, (1.0 + n) / (10.0 + n)) : decay;
    }

    /** ema ← d·ema + (1 − d)·live for every tensor; {@code live} holds the model's current values under the same names. */
    public void update(Map<String, INDArray> live) {
        // Both factors are the float32 roundings of Python doubles, as torch's mul_(d).add_(p, alpha=1 − d) uses them
        // (not 1 − float(d), which is 1.00017e-4 for d = 0.9999).
        double decayNow = decayAt(updates);
        float d = (float) decayNow, rest = (float) (1 - decayNow);
        for (var e : shadow.entrySet()) {
            INDArray w = live.get(e.getKey());
            if (w == null) throw new IllegalArgumentException("no live value for the EMA tensor " + e.getKey());
            e.getValue().muli(d).addi(w.mul(rest, scratch.like(w)));
        }
        updates++;
    }

    /** Replaces the average (a resumed run): {@code weights} after {@code updates} updates. */
    public void restore(Map<String, INDArray> weights, long updates) {
        for (String k : shadow.keySet()) {
            INDArray w = weights.get(k);
            if (w == null) throw new IllegalArgumentException("the checkpoint's EMA has no tensor " + k);
            if (!java.util.Arrays.equals(w.shape(), shadow.get(k).shape()))
                throw new IllegalArgumentException("the checkpoint's EMA tensor " + k + " has shape " + java.util.Arrays.toString(w.shape())
                        + ", the model " + java.util.Arrays.toString(shadow.get(k).shape()));
            shadow.get(k).assign(w);
        }
        this.updates = updates;
    }

    /** The share of the initial weights still in the average: Π (decay of each update so far). */
    public double initialShare() {
        double share = 1;
        for (long n = 0; n < updates; n++) share *= (float) decayAt(n);
        return share;
    }

    public long updates() {
        return updates;
    }

    public double decay() {
        return decay;
    }

    /** The live average (updated in place). */
    public Map<String, INDArray> weights() {
        return shadow;
    }

    public Map<String, INDArray> copy() {
        return StateDicts.copy(shadow);
    }
}
