package org.dit4j.training;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The run driver's housekeeping and the EMA rules. */
class TrainingRunTest {
    @Test
    void emaWarmupFollowsTheCommonRuleAndPlainEmaMatchesTrainPy() {
        INDArray w = Nd4j.zeros(DataType.FLOAT, 2);
        Ema warm = new Ema(Map.of("w", w), 0.9999, true), plain = new Ema(Map.of("w", w), 0.9, false);
        INDArray live = Nd4j.ones(DataType.FLOAT, 2);
        warm.update(Map.of("w", live));
        plain.update(Map.of("w", live));
        // update 0 of the warm-up: decay min(0.9999, 1/10) = 0.1
        assertEquals(1 - 0.1f, warm.weights().get("w").getFloat(0), 1e-6);
        assertEquals(1 - 0.9f, plain.weights().get("w").getFloat(0), 1e-6);
        assertEquals(0.1f, warm.initialShare(), 1e-6);
        assertEquals(0.0, w.getDouble(0), "the EMA keeps its own copy");
    }

    @Test
    void aRunWhoseEmaIsMostlyTheInitialWeightsGetsAWarning() {
        Ema ema = new Ema(Map.of("w", Nd4j.zeros(DataType.FLOAT, 1)), 0.9999, false);
        ema.restore(Map.of("w", Nd4j.zeros(DataType.FLOAT, 1)), 400);
        String warning = TrainingRun.emaWarning(ema);
        assertNotNull(warning);
        assertTrue(warning.contains("96%") && warning.contains("--weights model") && !warning.contains("\n"), warning);
        Ema warm = new Ema(Map.of("w", Nd4j.zeros(DataType.FLOAT, 1)), 0.9999, true);
        warm.restore(Map.of("w", Nd4j.zeros(DataType.FLOAT, 1)), 400);
        assertNull(TrainingRun.emaWarning(warm), "with warm-up 400 updates leave almost nothing of the start");
        assertNull(TrainingRun.emaWarning(null));
    }

    @Test
    void resumingDropsTheLogRowsPastTheCheckpoint(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve(TrainingRun.LOG);
        Files.writeString(csv, "step,loss,lr,grad_norm,steps_per_s,images_per_s\n1,0.5,1e-4,,1,1\n2,0.4,1e-4,,1,1\n3,0.3,1e-4,,1,1\n");
        List<double[]> curve = TrainingRun.prepareLog(csv, 2);
        assertEquals(2, curve.size());
        assertEquals(List.of("step,loss,lr,grad_norm,steps_per_s,images_per_s,fid", "1,0.5,1e-4,,1,1", "2,0.4,1e-4,,1,1"), Files.readAllLines(csv),
                "a log from before the fid column gets its header");
        Files.writeString(csv, "step,loss,lr,grad_norm,steps_per_s,images_per_s,fid\n1,0.5,1e-4,,1,1,\n2,0.4,1e-4,,1,1,81.5\n3,0.3,1e-4,,1,1,\n");
        assertEquals(2, TrainingRun.prepareLog(csv, 2).size());
        assertEquals(List.of("step,loss,lr,grad_norm,steps_per_s,images_per_s,fid", "1,0.5,1e-4,,1,1,", "2,0.4,1e-4,,1,1,81.5"), Files.readAllLines(csv));
        Path fresh = dir.resolve("new.csv");
        assertTrue(TrainingRun.prepareLog(fresh, 0).isEmpty());
        assertEquals(1, Files.readAllLines(fresh).size(), "a new log starts with its header");
    }

    @Test
    void outOfRangeTrainingValuesAreRefusedWhenSet() {
        TrainConfig cfg = TrainConfig.defaultsOnly();
        for (String[] kv : new String[][]{{"ckpt_every", "0"}, {"log_every", "0"}, {"gradient_accumulation_steps", "0"},
                {"ckpt_max_keep", "0"}, {"ckpt_max_keep", "-1"}, {"start_learning_rate", "NaN"}, {"ema_decay", "2"}, {"scheduler", "linear"}}) {
            var e = assertThrows(IllegalArgumentException.class, () -> cfg.set(kv[0], kv[1], "--set " + kv[0]), kv[0]);
            assertTrue(e.getMessage().startsWith("--set " + kv[0] + ": key '" + kv[0] + "'"), e.getMessage());
        }
        cfg.set("ema_warmup", "true", "--set ema_warmup");
        assertTrue(cfg.bool("ema_warmup"));
    }
}
