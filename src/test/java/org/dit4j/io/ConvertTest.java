package org.dit4j.io;

import org.dit4j.models.dit.DiT;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.models.dit.DiTModels;
import org.dit4j.models.Denoiser;
import org.dit4j.models.dit.DiTFamily;
import org.dit4j.Fixtures;
import org.dit4j.cli.Dit4j;
import org.dit4j.diffusion.DdimSampler;
import org.dit4j.diffusion.GaussianDiffusion;
import org.dit4j.diffusion.NoiseSource;
import org.dit4j.models.*;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

/** Every weight layout to the official tensors, bit for bit; exports that round-trip; refusal of corrupt .ckpt files. */
class ConvertTest {
    private static final Path RES = Paths.get("src/test/resources/convert");

    private static Map<String, INDArray> reference() {
        Map<String, INDArray> ref = new LinkedHashMap<>();
        for (String k : new DiTFamily().shapes(DiTConfig.load(Fixtures.tiny("config.json"))).keySet())
            ref.put(k, Npy.read(Fixtures.tiny("weights/npy/" + k + ".npy")));
        return ref;
    }

    private static void assertBitExact(Map<String, INDArray> expected, Map<String, INDArray> got, String what) {
        assertEquals(expected.keySet(), got.keySet(), what + ": key set");
        expected.forEach((k, v) -> assertEquals(v, got.get(k), what + ": " + k));
    }

    private static Path input(String name) {
        return switch (name) {
            case "pt", "train.pt", "ckpt", "torchnames.ckpt" -> Fixtures.tiny("weights/DiT-tiny" + (name.equals("pt") ? ".pt"
                    : name.equals("train.pt") ? "-train.pt" : name.equals("ckpt") ? ".ckpt" : ".torchnames.ckpt"));
            default -> RES.resolve(name);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"pt", "train.pt", "ckpt", "torchnames.ckpt", "DiT-tiny-legacy.pt", "DiT-tiny-nnet.pth", "diffusers-tiny", "diffusers-pipeline"})
    void everyLayoutImportsToTheOfficialTensorsBitForBit(String name) {
        // Only diffusers folders describe their architecture; the tiny width (64) is not official, so give it otherwise.
        DiTConfig given = name.startsWith("diffusers") ? null : tinyConfig();
        Weights.Imported w = Weights.load(input(name), null, given, TorchCheckpoint.Pick.EMA);
        assertBitExact(reference(), w.weights(), name);
        assertEquals(DiTConfig.load(Fixtures.tiny("config.json")), w.config(), name + ": architecture");
    }

    private static DiTConfig tinyConfig() {
        return DiTConfig.load(Fixtures.tiny("config.json"));
    }

    @Test
    void officialArchitecturesAreInferredFromShapesAndOthersNeedAConfig(@TempDir Path dir) throws Exception {
        DiTModel s8 = DiTModel.create(DiTModels.get("DiT-S/8"));
        Path file = dir.resolve("s8.pt.safetensors");
        Safetensors.write(file, s8.stateDict(), Map.of());
        assertEquals(DiTModels.get("DiT-S/8"), Weights.load(file, null, null, TorchCheckpoint.Pick.EMA).config());
        var e = assertThrows(org.dit4j.models.UnknownArchitectureException.class, () -> Weights.load(input("pt"), null, null, TorchCheckpoint.Pick.EMA));
        assertTrue(e.getMessage().contains("model config") && !e.getMessage().contains("--"), "the library names no flag: " + e.getMessage());
        // the CLI says which flag
        String err = org.dit4j.cli.ForwardCommandTest.stderrOf(() -> assertEquals(2, org.dit4j.cli.Dit4j.run("convert", "--in", input("pt").toString(),
                "--out", dir.resolve("o").toString())));
        assertTrue(err.contains("--model-config") && err.strip().lines().count() == 1, err);
    }

    @Test
    void formatsAndNamingsAreRecognised() {
        assertEquals(WeightsFormat.PYTORCH, WeightsFormat.sniff(input("DiT-tiny-legacy.pt")));
        assertEquals(WeightsFormat.MINDSPORE, WeightsFormat.sniff(input("ckpt")));
        assertEquals(WeightsFormat.DIFFUSERS, WeightsFormat.sniff(input("diffusers-pipeline")));
        assertEquals("mindone", Weights.load(input("ckpt"), null, tinyConfig(), TorchCheckpoint.Pick.EMA).naming());
        assertEquals("diffusers", Weights.load(input("diffusers-tiny"), null, null, TorchCheckpoint.Pick.EMA).naming());
    }

    @Test
    void halfPrecisionCheckpointsAreWidenedToFloat32() {
        Map<String, INDArray> ref = reference();
        for (String[] c : new String[][]{{"DiT-tiny-fp16.pt", "1e-3"}, {"DiT-tiny-bf16.pt", "8e-3"}}) {
            Map<String, INDArray> w = Weights.load(RES.resolve(c[0]), null, tinyConfig(), TorchCheckpoint.Pick.EMA).weights();
            double tol = Double.parseDouble(c[1]);
            ref.forEach((k, v) -> {
                assertEquals(DataType.FLOAT, w.get(k).dataType());
                double err = v.sub(w.get(k)).amaxNumber().doubleValue(), scale = v.amaxNumber().doubleValue();
                assertTrue(err <= tol * scale, c[0] + " " + k + ": " + err);
            });
        }
    }

    @Test
    void exportsRoundTripBitExactly(@TempDir Path dir) throws Exception {
        Map<String, INDArray> ref = reference();
        DiTConfig cfg = DiTConfig.load(Fixtures.tiny("config.json"));
        for (Weights.Target t : Weights.Target.values()) {
            Path out = dir.resolve("out-" + t + (t == Weights.Target.SAFETENSORS ? ".safetensors" : t == Weights.Target.MINDSPORE ? ".ckpt" : ""));
            Weights.export(out, t, cfg, ref);
            // every export describes itself but a MindSpore .ckpt, which holds tensors only (as dit_converter.py writes it)
            Weights.Imported back = Weights.load(out, null, t == Weights.Target.MINDSPORE ? cfg : null, TorchCheckpoint.Pick.EMA);
            assertBitExact(ref, back.weights(), "round trip through " + t);
            assertEquals(cfg, back.config(), "architecture through " + t);
        }
        // The diffusers export has no pos_embed (non-persistent there) and one embedder copy per block.
        Map<String, INDArray> d = Safetensors.read(dir.resolve("out-DIFFUSERS").resolve(Diffusers.SAFETENSORS));
        assertFalse(d.containsKey("pos_embed"));
        assertTrue(d.containsKey("transformer_blocks.1.norm1.emb.class_embedder.embedding_table.weight"));
        assertEquals(Safetensors.read(RES.resolve("diffusers-pipeline/transformer/diffusion_pytorch_model.safetensors")).keySet(), d.keySet());
    }

    @Test
    void samplingFromAConvertedMindOneCheckpointGivesTheOfficialTrajectory(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("converted");
        assertEquals(0, Dit4j.run("convert", "--in", input("ckpt").toString(), "--out", out.toString(),
                "--model-config", Fixtures.tiny("config.json").toString()));
        Denoiser m = ModelLoader.load(out, null, null, 0, 0, TorchCheckpoint.Pick.EMA);
        long[] y = Fixtures.longs("ddim10/y.npy");
        INDArray fin = new DdimSampler(GaussianDiffusion.create("10"), false, 0).sample(
                Fixtures.forwardWithCfg(m, y, 4.0, 3), Fixtures.npy("ddim10/noise.npy"), NoiseSource.seeded(0), null);
        INDArray expected = Fixtures.npy("ddim10/final.npy");
        assertTrue(Fixtures.maxAbsDiff(expected, fin) / expected.amaxNumber().doubleValue() < 1e-4);
    }

    @Test
    void fullSizeDiTXL2ArchitectureHas292TensorsAnd675MValues() {
        Map<String, long[]> shapes = new DiTFamily().shapes(DiTModels.get("DiT-XL/2"));
        assertEquals(292, shapes.size());
        assertEquals(675_129_632L, shapes.values().stream().mapToLong(s -> Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum());
    }

    @Test
    void diffusersBlocksWithDifferentEmbeddersAreRefused(@TempDir Path dir) throws Exception {
        Map<String, INDArray> d = new LinkedHashMap<>(Safetensors.read(RES.resolve("diffusers-pipeline/transformer/diffusion_pytorch_model.safetensors")));
        String k = "transformer_blocks.1.norm1.emb.class_embedder.embedding_table.weight";
        d.put(k, d.get(k).add(1f));
        Path folder = dir.resolve("tuned");
        Files.createDirectories(folder);
        Files.copy(RES.resolve("diffusers-pipeline/transformer/config.json"), folder.resolve("config.json"));
        Safetensors.write(folder.resolve(Diffusers.SAFETENSORS), d, Map.of());
        var e = assertThrows(IllegalArgumentException.class, () -> Weights.load(folder, null, null, TorchCheckpoint.Pick.EMA));
        assertTrue(e.getMessage().contains(k), e.getMessage());
    }

    @Test
    void wrongArchitectureIsReportedByKeyAndShape() {
        var e = assertThrows(StateDictMismatchException.class,
                () -> Weights.load(input("pt"), null, DiTModels.get("DiT-S/2"), TorchCheckpoint.Pick.EMA));
        assertTrue(e.getMessage().startsWith(input("pt").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("missing keys: blocks.2."), e.getMessage());
        assertTrue(e.getMessage().contains("shape mismatches"), e.getMessage());
    }

    /** A protobuf Checkpoint with one value whose tensor fields are given raw. */
    private static byte[] ckpt(String tag, byte[] tensor) {
        ByteArrayOutputStream value = new ByteArrayOutputStream();
        value.write(0x0A);
        value.write(tag.length());
        value.writeBytes(tag.getBytes());
        value.write(0x12);
        varint(value, tensor.length);
        value.writeBytes(tensor);
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.write(0x0A);
        varint(file, value.size());
        file.writeBytes(value.toByteArray());
        return file.toByteArray();
    }

    private static void varint(ByteArrayOutputStream o, long v) {
        while ((v & ~0x7FL) != 0) {
            o.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        o.write((int) v);
    }

    private static byte[] tensor(long[] dims, String type, int contentBytes) {
        ByteArrayOutputStream t = new ByteArrayOutputStream();
        for (long d : dims) {
            t.write(0x08);
            varint(t, d);
        }
        t.write(0x12);
        t.write(type.length());
        t.writeBytes(type.getBytes());
        t.write(0x1A);
        varint(t, contentBytes);
        t.writeBytes(new byte[contentBytes]);
        return t.toByteArray();
    }

    @Test
    void corruptMindSporeCheckpointsAreRefused(@TempDir Path dir) throws Exception {
        Map<String, byte[]> corpus = new LinkedHashMap<>();
        byte[] good = Files.readAllBytes(input("ckpt"));
        corpus.put("truncated.ckpt", Arrays.copyOf(good, good.length / 3));
        byte[] badVarint = good.clone();
        Arrays.fill(badVarint, 1, 11, (byte) 0xFF);
        corpus.put("bad-varint.ckpt", badVarint);
        corpus.put("huge-shape.ckpt", ckpt("w", tensor(new long[]{1L << 40, 1L << 40}, "Float32", 16)));
        corpus.put("short-content.ckpt", ckpt("w", tensor(new long[]{4, 4}, "Float32", 12)));
        corpus.put("bad-type.ckpt", ckpt("w", tensor(new long[]{2}, "Complex64", 16)));
        for (var e : corpus.entrySet()) {
            Path p = dir.resolve(e.getKey());
            Files.write(p, e.getValue());
            var ex = assertThrows(WeightsFormatException.class, () -> MindSporeCheckpoint.read(p), e.getKey());
            assertTrue(ex.getMessage().startsWith(p.toString()), ex.getMessage());
        }
        // A well-formed file of two slices of one tensor is assembled.
        ByteArrayOutputStream two = new ByteArrayOutputStream();
        two.writeBytes(ckpt("w", tensor(new long[]{2, 2}, "Float32", 8)));
        two.writeBytes(ckpt("w", tensor(new long[]{2, 2}, "Float32", 8)));
        Path sliced = dir.resolve("sliced.ckpt");
        Files.write(sliced, two.toByteArray());
        assertEquals(Nd4j.zeros(DataType.FLOAT, 2, 2), MindSporeCheckpoint.read(sliced).get("w"));
    }

    @Test
    void mindSporeExportsAreWhatMindOnesConvertersWrite(@TempDir Path dir) throws Exception {
        // DiT: dit_converter.py keeps the PyTorch names; the file reads back bit for bit.
        Path dit = dir.resolve("dit.ckpt");
        assertEquals(0, Dit4j.run("convert", "--in", input("pt").toString(), "--out", dit.toString(), "--to", "mindspore",
                "--model-config", Fixtures.tiny("config.json").toString()));
        assertEquals(WeightsFormat.MINDSPORE, WeightsFormat.sniff(dit));
        Map<String, INDArray> raw = MindSporeCheckpoint.read(dit);
        assertBitExact(reference(), raw, "DiT .ckpt");
        // The protobuf layout MindSpore's load_checkpoint parses: Checkpoint.value (1) → Value.tag (1), Value.tensor (2)
        // → TensorProto.dims (1, int64, one field each: proto2 does not pack), tensor_type (2) "Float32", tensor_content (3)
        // little-endian.
        var in = com.google.protobuf.CodedInputStream.newInstance(Files.readAllBytes(dit));
        assertEquals((1 << 3) | 2, in.readTag());
        int limit = in.pushLimit(in.readRawVarint32());
        assertEquals((1 << 3) | 2, in.readTag());
        String first = in.readString();
        assertEquals(raw.keySet().iterator().next(), first);
        assertEquals((2 << 3) | 2, in.readTag());
        in.pushLimit(in.readRawVarint32());
        java.util.List<Long> shape = new java.util.ArrayList<>();
        int tag;
        while ((tag = in.readTag()) == (1 << 3)) shape.add(in.readInt64());
        assertArrayEquals(raw.get(first).shape(), shape.stream().mapToLong(Long::longValue).toArray());
        assertEquals((2 << 3) | 2, tag);
        assertEquals("Float32", in.readString());
        assertEquals((3 << 3) | 2, in.readTag());
        assertEquals(raw.get(first).length() * 4, in.readBytes().size());
        in.popLimit(limit);

        // The SD VAE: vae_converter.py writes LDM names and shapes (its norm gamma/beta become weight/bias).
        Path vaeIn = Fixtures.root().resolve("vae-tiny/weights/diffusers"), vae = dir.resolve("vae.ckpt");
        assertEquals(0, Dit4j.run("convert", "--vae", "--in", vaeIn.toString(), "--out", vae.toString(), "--to", "mindspore"));
        Map<String, INDArray> ldm = org.dit4j.io.VaeWeights.load(Fixtures.root().resolve("vae-tiny/weights/ldm/vae-tiny.pt"), null).weights();
        Map<String, INDArray> written = MindSporeCheckpoint.read(vae);
        assertEquals(ldm.keySet(), written.keySet());
        ldm.forEach((k, v) -> assertEquals(v.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT), written.get(k), "VAE " + k));
        assertEquals(2, Dit4j.run("convert", "--vae", "--in", vaeIn.toString(), "--out", dir.resolve("v").toString(), "--to", "dit4j"));
    }

    @Test
    void convertCommandPrintsASummaryAndRefusesBadInput(@TempDir Path dir) {
        assertEquals(0, Dit4j.run("convert", "--in", input("diffusers-tiny").toString(), "--out", dir.resolve("o").toString(), "--to", "safetensors"));
        assertEquals(2, Dit4j.run("convert", "--in", input("pt").toString(), "--out", dir.resolve("x").toString(), "--to", "onnx"));
        assertEquals(2, Dit4j.run("convert", "--in", dir.resolve("missing.pt").toString(), "--out", dir.resolve("y").toString()));
        assertFalse(Files.exists(dir.resolve("x")));
        assertFalse(Files.exists(dir.resolve("y")));
    }
}
