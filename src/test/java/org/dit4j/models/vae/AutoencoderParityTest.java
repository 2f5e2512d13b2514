package org.dit4j.models.vae;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.Fixtures;
import org.dit4j.io.KeyMapping;
import org.dit4j.io.Npy;
import org.dit4j.io.VaeWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.*;

import static org.dit4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.*;

/** The autoencoder against the official LDM code's outputs and intermediates (max|Δ| ≤ 1e-4), from every weight layout. */
class AutoencoderParityTest {
    private static final double TOL = 1e-4;
    private static AutoencoderKL cached;

    private static Path vae(String rel) {
        return Fixtures.root().resolve("vae-tiny").resolve(rel);
    }

    private static INDArray npy(String rel) {
        return Npy.read(vae(rel));
    }

    private static synchronized AutoencoderKL model() {
        if (cached == null) cached = VaeWeights.loadModel(vae("weights/ldm/vae-tiny.pt"), null);
        return cached;
    }

    @ParameterizedTest
    @ValueSource(strings = {"weights/ldm/vae-tiny.pt", "weights/ldm/vae-tiny-ema-pruned.ckpt", "weights/diffusers",
            "weights/diffusers/diffusion_pytorch_model.bin", "weights/diffusers/diffusion_pytorch_model.safetensors"})
    void everyLayoutGivesTheSameLdmWeights(String rel) {
        VaeWeights.Imported ref = VaeWeights.load(vae("weights/ldm/vae-tiny.pt"), null);
        VaeWeights.Imported w = VaeWeights.load(vae(rel), null);
        assertEquals(124, w.weights().size());
        assertEquals(658_375L, w.weights().values().stream().mapToLong(INDArray::length).sum());
        assertEquals(ref.config(), w.config(), rel + ": inferred architecture");
        ref.weights().forEach((k, v) -> assertEquals(v, w.weights().get(k), rel + ": " + k));
    }

    @Test
    void architectureIsInferredAsTheFixtureConfig() {
        VaeConfig c = VaeWeights.load(vae("weights/ldm/vae-tiny.pt"), null).config();
        assertEquals(new VaeConfig(32, List.of(1, 2), 1, 4, 4, 3, 3, true, 0.18215), c);
    }

    @Test
    void encoderMomentsPosteriorAndIntermediatesMatch() {
        AutoencoderKL m = model();
        INDArray x = npy("x.npy");
        Map<String, INDArray> got = m.outputs(AutoencoderKL.IMAGE, x, "enc_conv_in_out", "enc_down0_out", "enc_mid_out", "enc_out", AutoencoderKL.MOMENTS);
        for (String n : new String[]{"enc_conv_in_out", "enc_down0_out", "enc_mid_out", "enc_out"})
            assertClose(npy("intermediates/" + n + ".npy"), got.get(n), TOL, 0, n);
        assertClose(npy("moments.npy"), got.get(AutoencoderKL.MOMENTS), TOL, 0, "moments");
        AutoencoderKL.Posterior p = m.encode(x);
        assertClose(npy("mean.npy"), p.mean(), TOL, 0, "mean");
        assertClose(npy("logvar.npy"), p.logvar(), TOL, 0, "logvar");
        assertClose(npy("std.npy"), p.std(), TOL, 0, "std");
        INDArray sample = p.sample(npy("eps.npy"));
        assertClose(npy("sample.npy"), sample, TOL, 0, "sample");
        assertClose(npy("latent_scaled.npy"), m.scale(sample), TOL, 0, "latent_scaled");
    }

    @Test
    void decoderMatchesOnTheModeAndOnASampledLatent() {
        AutoencoderKL m = model();
        assertClose(npy("decode_mode.npy"), m.decode(npy("mean.npy")), TOL, 0, "decode(mode)");
        INDArray zDiv = m.unscale(npy("z.npy"));
        assertEquals(npy("z_div.npy"), zDiv, "z / 0.18215 as a float32 division");
        assertClose(npy("decode_z.npy"), m.decode(zDiv), TOL, 0, "decode(z / 0.18215)");
        assertClose(npy("decode_z_f64.npy"), m.decode(zDiv), TOL, 0, "decode vs float64");
        Map<String, INDArray> inter = m.outputs(AutoencoderKL.LATENT, Nd4j.concat(0, zDiv), "dec_mid_out", "dec_conv_out_in");
        assertClose(npy("intermediates/dec_mid_out.npy"), inter.get("dec_mid_out"), TOL, 0, "dec_mid_out");
        assertClose(npy("intermediates/dec_conv_out_in.npy"), inter.get("dec_conv_out_in"), TOL, 0, "dec_conv_out_in");
    }

    @Test
    void fullSizeSdVaeNamesAndShapesMatchTheOfficialMapping() throws Exception {
        JsonNode table = new ObjectMapper().readTree(vae("key_mapping_sd_vae_ft_mse.json").toFile());
        VaeConfig cfg = VaeConfig.named("sd-vae-ft-mse");
        Map<String, long[]> ours = AutoencoderKL.parameterShapes(cfg);
        assertEquals(248, ours.size());
        assertEquals(83_653_863L, ours.values().stream().mapToLong(s -> Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum());
        Map<String, INDArray> ldm = new LinkedHashMap<>();
        ours.forEach((k, s) -> ldm.put(k, Nd4j.zeros(s.length == 4 && s[2] == 1 ? new long[]{s[0], s[1], 1, 1} : new long[]{1})));
        Map<String, INDArray> diffusers = KeyMapping.load("vae-diffusers").fromOfficial(ldm, 0, cfg.levels());
        Set<String> expectedDiffusers = new HashSet<>();
        for (JsonNode t : table.path("tensors")) {
            String name = t.path("ldm").asText();
            long[] shape = new ObjectMapper().convertValue(t.path("shape"), long[].class);
            assertArrayEquals(shape, ours.get(name), name);
            expectedDiffusers.add(t.path("diffusers").asText());
            // legacy diffusers names map back to the LDM name
            Map<String, INDArray> legacy = KeyMapping.load("vae-diffusers").toOfficial(Map.of(t.path("diffusers_legacy").asText(), Nd4j.zeros(1)), 0, cfg.levels(), "legacy");
            assertEquals(Set.of(name), legacy.keySet(), t.path("diffusers_legacy").asText());
        }
        assertEquals(expectedDiffusers, diffusers.keySet());
    }
}
