package org.dit4j.data;

import java.util.SplittableRandom;

/**
 * Which examples, flips, timesteps and noise a training step uses, derived from (seed, step) alone: a run resumed at
 * step k sees exactly what an uninterrupted run sees, with no generator state to save. Each epoch is a fresh
 * permutation of the examples.
 */
public final class DataOrder {
    private final int size;
    private final long seed;
    private int cachedEpoch = -1;
    private int[] cachedPerm;

    public DataOrder(int size, long seed) {
        if (size <= 0) throw new IllegalArgumentException("no training examples");
        this.size = size;
        this.seed = seed;
    }

    /** A generator for one purpose of one step (e.g. "noise" at step 12), independent of every other. */
    public static SplittableRandom stream(long seed, long step, String purpose) {
        return new SplittableRandom(seed ^ (step * 0x9E3779B97F4A7C15L) ^ ((long) purpose.hashCode() << 32));
    }

    /** The example indices of the {@code batch} examples starting at global position {@code position}. */
    public long[] indices(long position, int batch) {
        long[] out = new long[batch];
        for (int i = 0; i < batch; i++) {
            long p = position + i;
            out[i] = permutation((int) (p / size))[(int) (p % size)];
        }
        return out;
    }

    public int epochOf(long position) {
        return (int) (position / size);
    }

    private synchronized int[] permutation(int epoch) {
        if (epoch != cachedEpoch) {
            int[] perm = new int[size];
            for (int i = 0; i < size; i++) perm[i] = i;
            SplittableRandom r = stream(seed, epoch, "epoch");
            for (int i = size - 1; i > 0; i--) {
                int j = r.nextInt(i + 1), t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            cachedPerm = perm;
            cachedEpoch = epoch;
        }
        return cachedPerm;
    }
}
