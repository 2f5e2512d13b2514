package org.dit4j.cli;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.dit4j.cli.ForwardCommandTest.stderrOf;
import static org.junit.jupiter.api.Assertions.*;

/** Flags and inputs that used to end in an internal error or all-NaN output: one line, exit 2, nothing written. */
class HostileFlagsTest {
    private static final Path VAE = Fixtures.root().resolve("vae-tiny/weights/ldm/vae-tiny.pt");

    private static String refused(String... args) {
        String err = stderrOf(() -> assertEquals(2, Dit4j.run(args), String.join(" ", args)));
        assertEquals(1, err.strip().lines().count(), err);
        assertFalse(err.contains("internal error") || err.contains("Exception"), err);
        return err;
    }

    private static String[] sample(Path out, String... more) {
        String[] common = {"sample", "--model-config", Fixtures.tiny("config.json").toString(), "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(),
                "--labels", "1,4", "--steps", "2", "--no-decode", "--out", out.toString()};
        String[] all = java.util.Arrays.copyOf(common, common.length + more.length);
        System.arraycopy(more, 0, all, common.length, more.length);
        return all;
    }

    @Test
    void anUnknownBenchExecutorIsRefused() {
        String err = refused("bench", "--models", "DiT-S/2", "--executor", "fast");
        assertTrue(err.contains("--executor") && err.contains("samediff, planned or compare"), err);
    }

    @Test
    void emptyRespacingSectionsAreRefused(@TempDir Path dir) {
        for (String spec : new String[]{",,,", "10,", ",10", "5,,5"}) {
            String err = refused(sample(dir.resolve("o"), "--respacing", spec));
            assertTrue(err.contains("respacing '" + spec + "'"), err);
        }
        assertFalse(Files.exists(dir.resolve("o")));
    }

    @Test
    void oneNonFiniteValueInTheInitialNoiseIsRefused(@TempDir Path dir) {
        INDArray z = Nd4j.zeros(DataType.FLOAT, 2, 4, 8, 8);
        z.putScalar(new long[]{1, 2, 3, 4}, Float.NaN);
        Path file = dir.resolve("z.npy");
        for (float bad : new float[]{Float.NaN, Float.POSITIVE_INFINITY}) {
            z.putScalar(new long[]{1, 2, 3, 4}, bad);
            try {
                Npy.write(file, z);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            String err = refused(sample(dir.resolve("o"), "--noise", file.toString()));
            assertTrue(err.contains("initial noise") && err.contains("non-finite"), err);
        }
        assertFalse(Files.exists(dir.resolve("o")));
    }

    @Test
    void decodeRefusesAZeroGridRowAnEmptyBatchAndWrongLatents(@TempDir Path dir) throws Exception {
        Path z = Fixtures.root().resolve("vae-tiny/z.npy");
        assertTrue(refused("decode", "--vae", VAE.toString(), "--latents", z.toString(), "--out", dir.resolve("a").toString(), "--grid-nrow", "0")
                .contains("--grid-nrow"));
        Path empty = dir.resolve("empty.npy");
        Npy.write(empty, Nd4j.zeros(DataType.FLOAT, 0, 4, 8, 8));
        assertTrue(refused("decode", "--vae", VAE.toString(), "--latents", empty.toString(), "--out", dir.resolve("b").toString())
                .contains(empty.toString()));
        Path channels = dir.resolve("c3.npy");
        Npy.write(channels, Nd4j.zeros(DataType.FLOAT, 1, 3, 8, 8));
        assertTrue(refused("decode", "--vae", VAE.toString(), "--latents", channels.toString(), "--out", dir.resolve("c").toString())
                .contains(channels.toString()));
        Path ints = dir.resolve("int.npy");
        Npy.write(ints, Nd4j.zeros(DataType.INT, 1, 4, 8, 8));
        assertTrue(refused("decode", "--vae", VAE.toString(), "--latents", ints.toString(), "--out", dir.resolve("d").toString())
                .contains(ints.toString()));
        for (String out : new String[]{"a", "b", "c", "d"}) assertFalse(Files.exists(dir.resolve(out)), out);
        Path file = Files.writeString(dir.resolve("file"), "keep");
        assertTrue(refused("decode", "--vae", VAE.toString(), "--latents", z.toString(), "--out", file.toString()).contains(file + " exists and is not a folder"));
        assertEquals("keep", Files.readString(file));
    }

    @Test
    void decodeTakesFloat64LatentsAsFloat32(@TempDir Path dir) throws Exception {
        Path z = Fixtures.root().resolve("vae-tiny/z.npy"), z64 = dir.resolve("z64.npy");
        Npy.write(z64, Npy.read(z).castTo(DataType.DOUBLE));
        assertEquals(0, Dit4j.run("decode", "--vae", VAE.toString(), "--latents", z.toString(), "--out", dir.resolve("a").toString(),
                "--save-npy", dir.resolve("a.npy").toString()));
        assertEquals(0, Dit4j.run("decode", "--vae", VAE.toString(), "--latents", z64.toString(), "--out", dir.resolve("b").toString(),
                "--save-npy", dir.resolve("b.npy").toString()));
        INDArray b = Npy.read(dir.resolve("b.npy"));
        assertEquals(DataType.FLOAT, b.dataType());
        assertEquals(Npy.read(dir.resolve("a.npy")), b);
    }

    @Test
    void benchRefusesEmptyBatches() {
        assertTrue(refused("bench", "--batches", "0", "--models", "DiT-S/8").contains("--batches"));
        assertTrue(refused("bench", "--batches", "1", "--vae-sizes", "0", "--vae-only").contains("--vae-sizes"));
    }
}
