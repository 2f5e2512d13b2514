package org.dit4j.cli;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.dit4j.models.fit.FiTModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.dit4j.cli.ForwardCommandTest.stderrOf;
import static org.junit.jupiter.api.Assertions.*;

/** {@code dit4j forward} and {@code dit4j sample} with the fixture FiTv1: token inputs, any image size, extrapolation flags. */
class FiTCommandsTest {
    private static Path fit(String rel) {
        return Fixtures.root().resolve("fit").resolve(rel);
    }

    /** The fixture's kwargs as a dit4j model config, with the pinned code's clamp or without. */
    private static Path config(Path dir, boolean clamp) throws Exception {
        Path f = dir.resolve(clamp ? "fit-clamp.yaml" : "fit.yaml");
        Files.writeString(f, "family: fit\ncontext_size: 64\npatch_size: 2\nin_channels: 4\nhidden_size: 72\ndepth: 2\nnum_heads: 3\n"
                + "mlp_ratio: 4.0\nclass_dropout_prob: 0.1\nnum_classes: 10\nlearn_sigma: true\nuse_swiglu: true\nuse_swiglu_large: true\n"
                + "rel_pos_embed: rope\nadaln_type: normal\nrope_theta: 10000.0\ntime_clamp: " + clamp + "\n");
        return f;
    }

    private static List<String> forward(Path cfg, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("forward", "--ckpt", fit("weights/fit-tiny.pt").toString(), "--model-config", cfg.toString(),
                "--out", out.toString()));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void forwardOnPaddedTokensReproducesTheOfficialOutput(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.npy");
        assertEquals(0, Dit4j.run(forward(config(dir, true), out, "--x", fit("x.npy").toString(), "--t", fit("t.npy").toString(),
                "--y", fit("y.npy").toString(), "--grid", fit("grid_long.npy").toString(), "--mask", fit("mask.npy").toString(),
                "--size", fit("batch/size.npy").toString()).toArray(String[]::new)));
        Fixtures.assertClose(Npy.read(fit("forward_out.npy")), Npy.read(out), 1e-4, 1e-4, "dit4j forward (FiT tokens)");
        assertEquals(0, Dit4j.run(forward(config(dir, false), out, "--x", fit("x.npy").toString(), "--t", fit("t.npy").toString(),
                "--y", fit("y.npy").toString(), "--grid", fit("grid_long.npy").toString(), "--mask", fit("mask.npy").toString()).toArray(String[]::new)));
        Fixtures.assertClose(Npy.read(fit("noclamp/forward_out.npy")), Npy.read(out), 2e-4, 1e-4, "dit4j forward without the clamp");
    }

    @Test
    void forwardWithLinearInterpolationAt12x10(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.npy");
        Path e = fit("extrapolation");
        assertEquals(0, Dit4j.run(forward(config(dir, true), out, "--x", e.resolve("x.npy").toString(), "--t", e.resolve("t.npy").toString(),
                "--y", e.resolve("y.npy").toString(), "--grid", e.resolve("grid.npy").toString(), "--mask", e.resolve("mask.npy").toString(),
                "--size", e.resolve("size.npy").toString(), "--interpolation", "linear").toArray(String[]::new)));
        Fixtures.assertClose(Npy.read(e.resolve("linear/out.npy")), Npy.read(out), 1e-4, 1e-4, "--interpolation linear");
    }

    @Test
    void forwardOnLatentsAndBadInputsGetOneLine(@TempDir Path dir) throws Exception {
        Path cfg = config(dir, true), out = dir.resolve("out.npy"), x = dir.resolve("x.npy");
        Npy.write(x, FiTModel.unpatchify(Npy.read(fit("x.npy")).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 2)).dup(), 2, 8, 8));
        Path t = dir.resolve("t.npy"), y = dir.resolve("y.npy");
        Npy.write(t, Nd4j.createFromArray(500L));
        Npy.write(y, Nd4j.createFromArray(7L));
        assertEquals(0, Dit4j.run(forward(cfg, out, "--x", x.toString(), "--t", t.toString(), "--y", y.toString()).toArray(String[]::new)));
        assertArrayEquals(new long[]{1, 8, 16, 16}, Npy.read(out).shape());
        Files.delete(out);
        // tokens without a layout, a bad mask, and a latent side that is not a patch multiple
        String err = stderrOf(() -> assertEquals(2, Dit4j.run(forward(cfg, out, "--x", fit("x.npy").toString(), "--t", fit("t.npy").toString(),
                "--y", fit("y.npy").toString()).toArray(String[]::new))));
        assertTrue(err.contains("--grid") && err.strip().lines().count() == 1, err);
        Path mask = dir.resolve("mask.npy");
        Npy.write(mask, Nd4j.ones(DataType.FLOAT, 3, 60));
        err = stderrOf(() -> assertEquals(2, Dit4j.run(forward(cfg, out, "--x", fit("x.npy").toString(), "--t", fit("t.npy").toString(),
                "--y", fit("y.npy").toString(), "--grid", fit("grid_long.npy").toString(), "--mask", mask.toString()).toArray(String[]::new))));
        assertTrue(err.contains(mask.toString()) && err.contains("(3, 64)"), err);
        Path odd = dir.resolve("odd.npy");
        Npy.write(odd, Nd4j.zeros(DataType.FLOAT, 1, 4, 7, 8));
        err = stderrOf(() -> assertEquals(2, Dit4j.run(forward(cfg, out, "--x", odd.toString(), "--t", t.toString(), "--y", y.toString()).toArray(String[]::new))));
        assertTrue(err.contains(odd.toString()) && err.contains("multiples of the patch size"), err);
        assertFalse(Files.exists(out));
    }

    @Test
    void sampleAtAnyHeightAndWidth(@TempDir Path dir) throws Exception {
        Path cfg = config(dir, false), out = dir.resolve("samples"), lat = out.resolve("latents.npy");
        String[] base = {"sample", "--ckpt", fit("weights/fit-tiny.pt").toString(), "--model-config", cfg.toString(), "--labels", "3,8",
                "--sampler", "ddim", "--steps", "3", "--no-decode", "--out", out.toString()};
        List<String> a = new ArrayList<>(List.of(base));
        a.addAll(List.of("--image-height", "48", "--image-width", "96", "--interpolation", "yarn", "--decouple"));
        assertEquals(0, Dit4j.run(a.toArray(String[]::new)));
        INDArray z = Npy.read(lat);
        assertArrayEquals(new long[]{2, 4, 6, 12}, z.shape());
        assertTrue(z.isInfinite().castTo(DataType.INT).sumNumber().intValue() == 0 && z.isNaN().castTo(DataType.INT).sumNumber().intValue() == 0);
        assertTrue(Files.readString(out.resolve("samples.json")).contains("\"interpolation\" : \"yarn (decoupled)\""));
        // 40 px is not a multiple of 8·p = 16; --decouple alone means nothing; one flag of the pair is not enough
        for (String[] bad : new String[][]{{"--image-height", "40", "--image-width", "96"}, {"--decouple"}, {"--image-height", "48"}}) {
            List<String> b = new ArrayList<>(List.of(base));
            b.addAll(List.of(bad));
            String err = stderrOf(() -> assertEquals(2, Dit4j.run(b.toArray(String[]::new))));
            assertEquals(1, err.strip().lines().count(), err);
            assertTrue(err.contains("--image-height") || err.contains("--decouple"), err);
        }
    }

    @Test
    void ditRefusesFitSettings(@TempDir Path dir) {
        String err = stderrOf(() -> assertEquals(2, Dit4j.run("sample", "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--model-config",
                Fixtures.tiny("config.json").toString(), "--labels", "1", "--steps", "2", "--no-decode", "--out", dir.toString(),
                "--image-height", "64", "--image-width", "32")));
        assertTrue(err.contains("samples at its own size only"), err);
        err = stderrOf(() -> assertEquals(2, Dit4j.run("sample", "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--model-config",
                Fixtures.tiny("config.json").toString(), "--labels", "1", "--steps", "2", "--no-decode", "--out", dir.toString(),
                "--interpolation", "linear")));
        assertTrue(err.contains("FiTv1 settings"), err);
    }
}
