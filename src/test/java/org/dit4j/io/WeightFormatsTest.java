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
    void littleEndianBytesDecodeToEveryTypeFromAnyWindow() {
        // the window starts 8 bytes in and ends 8 bytes early, as a tensor's view of a larger storage does
        java.nio.ByteBuffer raw = java.nio.ByteBuffer.allocate(8 + 6 * 8 + 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (org.nd4j.linalg.api.buffer.DataType type : new org.nd4j.linalg.api.buffer.DataType[]{org.nd4j.linalg.api.buffer.DataType.FLOAT,
                org.nd4j.linalg.api.buffer.DataType.DOUBLE, org.nd4j.linalg.api.buffer.DataType.LONG, org.nd4j.linalg.api.buffer.DataType.INT}) {
            raw.clear();
            raw.putLong(0, -1L);
            for (int i = 0; i < 6; i++) {
                switch (type) {
                    case FLOAT -> raw.putFloat(8 + 4 * i, 1.5f * i - 2);
                    case DOUBLE -> raw.putDouble(8 + 8 * i, 1.5 * i - 2);
                    case LONG -> raw.putLong(8 + 8 * i, 3L * i - (1L << 40));
                    default -> raw.putInt(8 + 4 * i, 3 * i - 7);
                }
            }
            int size = type == org.nd4j.linalg.api.buffer.DataType.FLOAT || type == org.nd4j.linalg.api.buffer.DataType.INT ? 4 : 8;
            INDArray a = TensorShapes.fromLittleEndian(raw.position(8).slice().limit(6 * size + 8), type, new long[]{2, 3});
            assertEquals(type, a.dataType());
            assertArrayEquals(new long[]{2, 3}, a.shape());
            for (int i = 0; i < 6; i++) {
                double want = switch (type) {
                    case FLOAT, DOUBLE -> 1.5 * i - 2;
                    case LONG -> 3L * i - (1L << 40);
                    default -> 3 * i - 7;
                };
                assertEquals(want, a.getDouble(i / 3, i % 3), 0, type + " element " + i);
            }
        }
        assertArrayEquals(new long[]{0, 4}, TensorShapes.fromLittleEndian(java.nio.ByteBuffer.allocate(0), org.nd4j.linalg.api.buffer.DataType.FLOAT,
                new long[]{0, 4}).shape());
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
