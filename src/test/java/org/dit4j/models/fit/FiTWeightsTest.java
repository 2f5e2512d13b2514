package org.dit4j.models.fit;

import org.dit4j.io.Safetensors;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.io.Weights;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.UnknownArchitectureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.dit4j.models.fit.TinyFiT.*;
import static org.junit.jupiter.api.Assertions.*;

/** FiTv1 weights in and out: the official .pt, dit4j and safetensors round trips, family detection and inference from shapes. */
class FiTWeightsTest {
    @Test
    void officialFileIsRecognisedAsFitAndConvertsBothWaysBitForBit(@TempDir Path dir) throws Exception {
        FiTConfig cfg = config();
        Map<String, INDArray> official = TorchCheckpoint.loadStateDict(fixture("weights/fit-tiny.pt"), TorchCheckpoint.Pick.EMA);
        assertEquals("fit", ModelFamilies.detect(official).name());
        for (Weights.Target t : new Weights.Target[]{Weights.Target.DIT4J, Weights.Target.SAFETENSORS}) {
            Path out = dir.resolve("out-" + t + (t == Weights.Target.SAFETENSORS ? ".safetensors" : ""));
            Weights.export(out, t, cfg, official);
            Weights.Imported back = Weights.load(out, null, null, TorchCheckpoint.Pick.EMA);
            assertEquals(cfg, back.config(), "architecture through " + t);
            assertEquals(official.keySet(), back.weights().keySet());
            official.forEach((k, v) -> assertEquals(v, back.weights().get(k), t + " " + k));
        }
        // a plain safetensors state dict (as FiTv2's release) loads by its keys, once the architecture is named
        Path plain = dir.resolve("plain.safetensors");
        Safetensors.write(plain, official, Map.of());
        assertEquals(cfg, Weights.load(plain, null, cfg, TorchCheckpoint.Pick.EMA).config());
        for (Weights.Target t : new Weights.Target[]{Weights.Target.DIFFUSERS, Weights.Target.MINDSPORE}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Weights.export(dir.resolve("x-" + t), t, cfg, official));
            assertTrue(e.getMessage().contains("FiT"), e.getMessage());
        }
    }

    @Test
    void officialWidthsAreInferredFromShapes() {
        FiTConfig xl = (FiTConfig) ModelFamilies.named("FiT-XL/2");
        Map<String, INDArray> fake = new LinkedHashMap<>();
        // only the keys and the shapes of the tensors infer reads matter
        ModelFamilies.get("fit").shapes(xl).keySet().forEach(k -> fake.put(k, org.nd4j.linalg.factory.Nd4j.scalar(0f)));
        for (String k : new String[]{"x_embedder.proj.weight", "final_layer.linear.weight", "y_embedder.embedding_table.weight", "blocks.0.mlp.fc1_g.weight"})
            fake.put(k, org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, ModelFamilies.get("fit").shapes(xl).get(k)));
        assertEquals(xl, ModelFamilies.get("fit").infer(fake, "fake"));
        Map<String, INDArray> tiny = TorchCheckpoint.loadStateDict(fixture("weights/fit-tiny.pt"), TorchCheckpoint.Pick.EMA);
        var e = assertThrows(UnknownArchitectureException.class, () -> ModelFamilies.get("fit").infer(tiny, "fit-tiny.pt"));
        assertTrue(e.getMessage().contains("hidden size 72"), e.getMessage());
    }
}
