package org.dit4j.data;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.file.Path;

/** The fixture's three latents (4×8, 8×8, 6×5 tokens) as a FiT latent dataset of target_len 64. */
public final class FitFixtureLatents {
    private FitFixtureLatents() {}

    /** (C, H, W) mirrored along W (Nd4j.reverse would reverse every element). */
    public static INDArray flipW(INDArray x) {
        long w = x.size(2);
        long[] idx = new long[(int) w];
        for (int i = 0; i < w; i++) idx[i] = w - 1 - i;
        return x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.indices(idx)).dup('c');
    }

    /** Writes sample0..2 into {@code dir}/from_16_to_64 with {@code labels} and returns {@code dir}. */
    public static Path write(Path dir, long... labels) throws IOException {
        FitLatents.Writer w = new FitLatents.Writer(dir, 64, 2, "ema", false, 0);
        for (int i = 0; i < 3; i++) {
            INDArray latent = Npy.read(Fixtures.root().resolve("fit").resolve("data/sample" + i + "/latent.npy"));
            w.write(dir.resolve(FitLatents.fromFolder(64)).resolve("sample" + i + ".safetensors"), FitLatents.item(latent, flipW(latent), 2, labels[i]));
        }
        return dir;
    }
}
