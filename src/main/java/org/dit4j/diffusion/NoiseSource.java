package org.dit4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

/** Where samplers draw their Gaussian noise: a seeded generator, or recorded noise to replay another run exactly. */
@FunctionalInterface
public interface NoiseSource {
    INDArray next(long... shape);

    /** Standard normal float32 noise from the JDK's generator: the same values for a seed on every backend. */
    static NoiseSource seeded(long seed) {
        return seeded(seed, 0);
    }

    /**
     * The generator of {@code seeded(seed)} after {@code skip} values: where a shard of a run picks up the one stream
     * (the Gaussian sampler takes a varying number of raw draws per value, so the values themselves are drawn and dropped).
     */
    static NoiseSource seeded(long seed, long skip) {
        if (skip < 0) throw new IllegalArgumentException("cannot skip " + skip + " noise values");
        SplittableRandom rng = new SplittableRandom(seed);
        for (long i = 0; i < skip; i++) rng.nextGaussian();
        return shape -> {
            long n = 1;
            for (long d : shape) n *= d;
            float[] v = new float[Math.toIntExact(n)];
            for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian();
            return Nd4j.create(v, shape, 'c');
        };
    }

    /** Replays {@code steps} (K, ...) one slice per call, in order. */
    static NoiseSource replay(INDArray steps) {
        int[] i = {0};
        return shape -> {
            if (i[0] >= steps.size(0)) throw new IllegalStateException("recorded noise has only " + steps.size(0) + " steps");
            return steps.slice(i[0]++).dup().reshape(shape);
        };
    }
}
