package org.dit4j.io;

import org.dit4j.Fixtures;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.models.StateDictMismatchException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class WeightFormatsTest {
    @Test
    void trainPyCheckpointPicksEmaOrModel() {
        Map<String, INDArray> bare = TorchCheckpoint.loadStateDict(Fixtures.tiny("weights/DiT-tiny.pt"), TorchCheckpoint.Pick.EMA);
        Map<String, INDArray> ema = TorchCheckpoint.loadStateDict(Fixtures.tiny("weights/DiT-tiny-train.pt"), TorchCheckpoint.Pick.EMA);
        Map<String, INDArray> model = TorchCheckpoint.loadStateDict(Fixtures.tiny("weights/DiT-tiny-train.pt"), TorchCheckpoint.Pick.MODEL);
        assertEquals(bare.keySet(), ema.keySet());
        bare.forEach((k, v) -> assertEquals(v, ema.get(k), k));
        // model = the weights after one AdamW step
        INDArray stepped = org.dit4j.io.Npy.read(Fixtures.tiny("train_step/after_adamw/blocks.0.attn.qkv.weight.npy"));
        assertEquals(stepped, model.get("blocks.0.attn.qkv.weight"));
        // args is an inert argparse.Namespace
        Object root = TorchCheckpoint.load(Fixtures.tiny("weights/DiT-tiny-train.pt"));
        assertEquals("DiT-tiny", ((Map<?, ?>) ((Map<?, ?>) root).get("args")).get("model"));
    }

    @Test
    void dit4jCheckpointRoundTripsBitExactly(@TempDir Path dir) throws Exception {
        DiTConfig cfg = DiTConfig.load(Fixtures.tiny("config.json"));
        Map<String, INDArray> w = TorchCheckpoint.loadStateDict(Fixtures.tiny("weights/DiT-tiny.pt"), TorchCheckpoint.Pick.EMA);
        Path ckpt = dir.resolve("ckpt");
        Checkpoint.save(ckpt, cfg, w);
        assertTrue(Checkpoint.isCheckpointDir(ckpt));
        assertEquals(cfg, Checkpoint.config(ckpt));
        Map<String, INDArray> back = Weights.load(ckpt, null, null, TorchCheckpoint.Pick.EMA).weights();
        assertEquals(w.keySet(), back.keySet());
        w.forEach((k, v) -> assertEquals(v, back.get(k), k));
        // Saving again replaces the directory atomically and leaves no temporary files behind.
        Checkpoint.save(ckpt, cfg, w);
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void mismatchedStateDictListsEveryProblemByName() {
        DiTModel m = DiTModel.create(DiTConfig.load(Fixtures.tiny("config.json")));
        Map<String, INDArray> w = new LinkedHashMap<>(TorchCheckpoint.loadStateDict(Fixtures.tiny("weights/DiT-tiny.pt"), TorchCheckpoint.Pick.EMA));
        w.remove("final_layer.linear.bias");
        w.put("blocks.9.attn.qkv.weight", Nd4j.zeros(1));
        w.put("x_embedder.proj.bias", Nd4j.zeros(65));
        var e = assertThrows(StateDictMismatchException.class, () -> m.loadStateDict(w, "tiny.pt"));
        assertTrue(e.getMessage().contains("missing keys: final_layer.linear.bias"), e.getMessage());
        assertTrue(e.getMessage().contains("unexpected keys: blocks.9.attn.qkv.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("x_embedder.proj.bias [65] (expected [64])"), e.getMessage());
    }

    @Test
    void halfPrecisionIsWidenedExactly() {
        assertEquals(1.0f, TensorShapes.halfToFloat((short) 0x3c00));
        assertEquals(-2.0f, TensorShapes.halfToFloat((short) 0xc000));
        assertEquals(65504f, TensorShapes.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, TensorShapes.halfToFloat((short) 0x0001));
        assertTrue(Float.isInfinite(TensorShapes.halfToFloat((short) 0x7c00)));
    }
}
