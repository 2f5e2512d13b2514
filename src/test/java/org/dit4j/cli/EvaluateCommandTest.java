package org.dit4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.io.Npy;
import org.dit4j.io.Npz;
import org.dit4j.io.TorchZipWriter;
import org.dit4j.models.inception.InceptionFixtureWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.dit4j.Fixtures.assertClose;
import static org.dit4j.cli.ForwardCommandTest.stderrOf;
import static org.junit.jupiter.api.Assertions.*;

/** {@code dit4j evaluate}: statistics-only FID, the full image path with every output file, and one-line refusals. */
class EvaluateCommandTest {
    @TempDir
    Path dir;

    private static Path eval(String rel) {
        return InceptionFixtureWeights.eval(rel);
    }

    @Test
    void twoStatisticsFilesGiveTheOfficialFidWithoutTheNetwork() throws Exception {
        Path s = dir.resolve("s.npz"), r = dir.resolve("r.npz"), json = dir.resolve("m.json");
        Npz.write(s, Map.of("mu", Npy.read(eval("fid/pair_d64/mu1.npy")), "sigma", Npy.read(eval("fid/pair_d64/sigma1.npy"))));
        Npz.write(r, Map.of("mu", Npy.read(eval("fid/pair_d64/mu2.npy")), "sigma", Npy.read(eval("fid/pair_d64/sigma2.npy"))));
        String out = ForwardCommandTest.stdoutOf(() -> assertEquals(0, Dit4j.run("evaluate", "--samples", s.toString(), "--ref", r.toString(),
                "--json", json.toString(), "--inception", dir.resolve("absent.pth").toString())));
        double want = new ObjectMapper().readTree(eval("fid/pair_d64/result.json").toFile()).get("pytorch_fid").get("value").asDouble();
        JsonNode m = new ObjectMapper().readTree(json.toFile());
        assertEquals(1, m.size(), m.toString());
        assertEquals(want, m.get("fid").asDouble(), 1e-9 * want);
        assertTrue(out.contains("FID: "), out);
    }

    @Test
    void imagesGiveEveryMetricAndTheirFeaturesAndStatistics() throws Exception {
        Map<String, INDArray> floats = new LinkedHashMap<>();
        InceptionFixtureWeights.stateDict().forEach((k, v) -> {
            if (!k.endsWith("num_batches_tracked")) floats.put(k, v);
        });
        Path pt = dir.resolve("inception.pth");
        TorchZipWriter.write(pt, floats);
        Path folder = Files.createDirectories(dir.resolve("samples"));
        for (int i = 0; i < 3; i++) Files.copy(eval("inception/img" + i + "/image.png"), folder.resolve("img" + i + ".png"));
        Files.copy(eval("inception/img0/image.png"), folder.resolve("img3.png"));
        Path ref = eval("npz/dit_sample_batch.npz");
        Path json = dir.resolve("m.json"), feats = dir.resolve("f.npy"), stats = dir.resolve("stats.npz");
        String err = stderrOf(() -> assertEquals(0, Dit4j.run("evaluate", "--samples", folder.toString(), "--ref", ref.toString(),
                "--json", json.toString(), "--save-features", feats.toString(), "--save-stats", stats.toString(),
                "--preprocess", "pytorch-fid", "--inception", pt.toString(), "--batch-size", "3")));
        JsonNode m = new ObjectMapper().readTree(json.toFile());
        assertEquals(java.util.List.of("fid", "sfid", "inception_score", "precision", "recall"), iterator(m));
        INDArray f = Npy.read(feats);
        assertArrayEquals(new long[]{4, 2048}, f.shape());
        for (int i = 0; i < 3; i++) assertClose(Npy.read(eval("inception/img" + i + "/pool3.npy")), f.slice(i), 1e-4, 0, "img" + i + " pool3 " + err);
        assertEquals(java.util.List.of("mu", "sigma", "mu_s", "sigma_s"), Npz.keys(stats));
        assertArrayEquals(new long[]{2023, 2023}, Npz.read(stats, "sigma_s").shape());
        // the saved statistics are those of the saved features (float64 mean and covariance)
        org.dit4j.evaluation.FidStatistics fromFeatures = org.dit4j.evaluation.FidStatistics.of(f.data().asFloat(), 4, 2048);
        assertClose(fromFeatures.muArray(), Npz.read(stats, "mu"), 1e-12, 0, "mu");
        assertClose(fromFeatures.sigma(), Npz.read(stats, "sigma"), 1e-12, 0, "sigma");
        assertTrue(m.get("fid").asDouble() > 0 && m.get("sfid").asDouble() > 0 && m.get("inception_score").asDouble() >= 1, m.toString());
    }

    private static java.util.List<String> iterator(JsonNode m) {
        java.util.List<String> k = new java.util.ArrayList<>();
        m.fieldNames().forEachRemaining(k::add);
        return k;
    }

    private String refused(String... args) {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--inception";
        all[args.length + 1] = dir.resolve("absent.pth").toString();
        String err = stderrOf(() -> assertEquals(2, Dit4j.run(all)));
        assertEquals(1, err.strip().lines().count(), err);
        return err;
    }

    @Test
    void badInputIsOneLineNamingFileAndKey() throws Exception {
        Path noArr = dir.resolve("noarr.npz");
        Npz.write(noArr, Map.of("x", Nd4j.zeros(DataType.FLOAT, 2)));
        String err = refused("evaluate", "--samples", noArr.toString(), "--ref", eval("npz/dit_sample_batch.npz").toString());
        assertTrue(err.contains(noArr.toString()) && err.contains("neither 'arr_0'") && err.contains("keys: x"), err);

        Path floatImages = dir.resolve("float.npz");
        Npz.write(floatImages, Map.of("arr_0", Nd4j.zeros(DataType.FLOAT, 2, 8, 8, 3)));
        err = refused("evaluate", "--samples", floatImages.toString(), "--ref", eval("npz/dit_sample_batch.npz").toString());
        assertTrue(err.contains(floatImages.toString()) && err.contains("'arr_0' is f4 [2, 8, 8, 3], expected uint8 images (N, H, W, 3)"), err);

        Path noSigma = dir.resolve("nosigma.npz");
        Npz.write(noSigma, Map.of("mu", Nd4j.zeros(DataType.DOUBLE, 4)));
        err = refused("evaluate", "--samples", noSigma.toString(), "--ref", noSigma.toString());
        assertTrue(err.contains(noSigma.toString()) && err.contains("has no 'sigma' array"), err);

        Path sigmaOnly = dir.resolve("sigmaonly.npz");
        Npz.write(sigmaOnly, Map.of("sigma", Nd4j.eye(4).castTo(DataType.DOUBLE)));
        err = refused("evaluate", "--samples", noSigma.toString(), "--ref", sigmaOnly.toString());
        assertTrue(err.contains(noSigma.toString()), err);

        Path folder = Files.createDirectories(dir.resolve("bad"));
        Files.write(folder.resolve("a.png"), new byte[]{1, 2, 3});
        err = refused("evaluate", "--samples", folder.toString(), "--ref", eval("npz/pytorch_fid_stats_dims64_public.npz").toString());
        assertTrue(err.contains(folder.resolve("a.png").toString()), err);

        err = refused("evaluate", "--samples", eval("npz/pytorch_fid_stats_dims64_public.npz").toString(), "--ref", noSigma.toString(), "--preprocess", "tf");
        assertTrue(err.contains("--preprocess must be adm or pytorch-fid"), err);

        Path s64 = eval("npz/pytorch_fid_stats_dims64_public.npz");
        Path s4 = dir.resolve("s4.npz");
        Npz.write(s4, Map.of("mu", Nd4j.zeros(DataType.DOUBLE, 4), "sigma", Nd4j.eye(4).castTo(DataType.DOUBLE)));
        err = refused("evaluate", "--samples", s64.toString(), "--ref", s4.toString());
        assertTrue(err.contains("different feature extractors"), err);
    }
}
