package org.dit4j.models.fitmindone;

import org.dit4j.Fixtures;
import org.dit4j.cli.Dit4j;
import org.dit4j.io.MindSporeCheckpoint;
import org.dit4j.io.Weights;
import org.dit4j.io.WeightsFormat;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.UnknownArchitectureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.dit4j.models.fitmindone.TinyMindOneFiT.fixture;
import static org.junit.jupiter.api.Assertions.*;

/** MindONE FiT weights: MindSpore .ckpt (network. prefix, optimizer state), torch and safetensors, detection, export. */
class MindOneFiTWeightsTest {
    private static void assertSameTensors(Map<String, INDArray> expected, Map<String, INDArray> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String k : expected.keySet()) assertEquals(expected.get(k), actual.get(k), k);
    }

    /** An official width (FiT-S) one block deep: small enough to write, recognisable without naming the architecture. */
    private static MindOneFiTConfig small(String ffn) {
        return new MindOneFiTConfig(8, 4, 384, 1, 6, 4.0, 0.1, 1000, true, ffn, "rotate", 32);
    }

    @Test
    void theTorchPortAndTheMindSporeCheckpointHoldTheSameTensors() {
        MindOneFiTConfig cfg = TinyMindOneFiT.config();
        Weights.Imported ms = Weights.load(fixture("weights/fit-mindone-tiny.ckpt"), null, cfg, null);
        Weights.Imported pt = Weights.load(fixture("weights/fit-mindone-tiny.pt"), null, cfg, null);
        assertEquals(WeightsFormat.MINDSPORE, ms.format());
        assertEquals(WeightsFormat.PYTORCH, pt.format());
        assertSameTensors(ms.weights(), pt.weights());
        assertTrue(pt.weights().containsKey(MindOneFiTFamily.TABLE));
        // hidden 64 is no official width: without a config the one-line answer says what to name
        UnknownArchitectureException e = assertThrows(UnknownArchitectureException.class,
                () -> Weights.load(fixture("weights/fit-mindone-tiny.ckpt"), null, null, null));
        assertTrue(e.getMessage().contains("hidden size 64"), e.getMessage());
    }

    @Test
    void aTrainingCheckpointIsRecognisedAndItsArchitectureInferred(@TempDir Path dir) throws Exception {
        for (String ffn : new String[]{"swiglu", "mlp"}) {
            MindOneFiTConfig cfg = small(ffn);
            Map<String, INDArray> w = ModelFamilies.get(MindOneFiTFamily.NAME).initialWeights(cfg, 5);
            Map<String, INDArray> file = new LinkedHashMap<>();
            w.forEach((k, v) -> file.put("network." + k, v));
            file.put("adam_m.network.x_embedder.weight", w.get("x_embedder.weight"));
            file.put("global_step", org.nd4j.linalg.factory.Nd4j.createFromArray(100f));
            Path ckpt = dir.resolve(ffn + ".ckpt");
            MindSporeCheckpoint.write(ckpt, file);
            Weights.Imported back = Weights.load(ckpt, null, null, null);
            assertEquals(cfg, back.config(), ffn);
            assertEquals("mindspore", back.naming());
            assertSameTensors(w, back.weights());
        }
    }

    @Test
    void modelLoaderTakesSamplePysImageSizeAsTheLargestGrid(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("tiny.yaml");
        Files.writeString(yaml, TinyMindOneFiT.config().toYaml());
        MindOneFiTModel m = (MindOneFiTModel) org.dit4j.io.ModelLoader.load(fixture("weights/fit-mindone-tiny.ckpt"), null, yaml, 256, 0, null);
        assertEquals(32, m.config().inputSize());
        assertEquals(256, m.config().maxLength());   // sample.py: 256 · 256 // 8 // 8 // 2 // 2
    }

    @Test
    void ditCheckpointsStayDiT() {
        // MindSpore DiT checkpoints have x_embedder.proj (a conv), FiTv1 files x_embedder.proj as a Linear
        assertEquals("dit", ModelFamilies.detect(MindSporeCheckpoint.read(Fixtures.tiny("weights/DiT-tiny.ckpt"))).name());
        assertEquals(MindOneFiTFamily.NAME, ModelFamilies.detect(MindSporeCheckpoint.read(fixture("weights/fit-mindone-tiny.ckpt"))).name());
    }

    @Test
    void exportToMindSporeIsWhatSaveCheckpointWritesAndReadsBackBitExactly(@TempDir Path dir) throws Exception {
        MindOneFiTConfig cfg = TinyMindOneFiT.config();
        Weights.Imported pt = Weights.load(fixture("weights/fit-mindone-tiny.pt"), null, cfg, null);
        Path out = dir.resolve("fit.ckpt");
        Weights.export(out, Weights.Target.MINDSPORE, cfg, pt.weights());
        Map<String, INDArray> written = MindSporeCheckpoint.read(out), reference = MindSporeCheckpoint.read(fixture("weights/fit-mindone-tiny.ckpt"));
        assertEquals(new java.util.ArrayList<>(reference.keySet()), new java.util.ArrayList<>(written.keySet()), "MindSpore names in Cell order");
        assertSameTensors(reference, written);
        assertEquals(-1, Files.mismatch(out, fixture("weights/fit-mindone-tiny.ckpt")), "byte for byte the fixture's ms.save_checkpoint file");
        assertSameTensors(pt.weights(), Weights.load(out, null, cfg, null).weights());
    }

    @Test
    void convertCarriesTheArchitectureThroughSafetensorsAndWritesCkpt(@TempDir Path dir) throws Exception {
        MindOneFiTConfig cfg = TinyMindOneFiT.config().withPos("absolute");
        Path yaml = dir.resolve("fit-mindone-tiny.yaml");
        Files.writeString(yaml, cfg.toYaml());
        Path st = dir.resolve("fit.safetensors"), ckpt = dir.resolve("fit.ckpt");
        assertEquals(0, Dit4j.run("convert", "--in", fixture("weights/fit-mindone-tiny.ckpt").toString(), "--model-config", yaml.toString(),
                "--to", "safetensors", "--out", st.toString()));
        Weights.Imported back = Weights.load(st, null, null, null);
        assertEquals(cfg, back.config());
        assertEquals(0, Dit4j.run("convert", "--in", st.toString(), "--to", "mindspore", "--out", ckpt.toString()));
        assertSameTensors(back.weights(), Weights.load(ckpt, null, cfg, null).weights());
    }
}
