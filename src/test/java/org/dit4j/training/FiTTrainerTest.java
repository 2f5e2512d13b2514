package org.dit4j.training;

import org.dit4j.data.FitFixtureLatents;
import org.dit4j.data.FitLatents;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.fit.FiTConfig;
import org.dit4j.models.fit.FiTModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** FiT through Trainer on the fixture's three latents: padded batches of varying length, exact resume. */
class FiTTrainerTest {
    private static FiTModel fresh() {
        FiTConfig cfg = (FiTConfig) ModelFamilies.load(Path.of("configs/models/FiT-tiny.yaml"));
        return (FiTModel) ModelFamilies.of(cfg).create(cfg, ModelFamilies.of(cfg).initialWeights(cfg, 3), "test");
    }

    /** Batches of 2 from 3 examples: lengths 64 and 32 (and 30 + 32 = 32) both occur. */
    private static TrainConfig config() {
        return TrainConfig.defaultsOnly().set("train_batch_size", 2, "test").set("start_learning_rate", 1e-3, "test")
                .set("max_steps", 3, "test").set("seed", 5, "test").set("clip_grad", true, "test").set("ema_decay", 0.9, "test");
    }

    @Test
    void aResumedRunReachesTheSameWeightsBitForBit(@TempDir Path dir) throws Exception {
        FitLatents data = new FitLatents(FitFixtureLatents.write(dir.resolve("data"), 3, 7, 5), 64, "resize");
        FiTModel straight = fresh();
        Trainer a = new Trainer(straight, data, config());
        assertTrue(a.describeEngine().contains("longest"), a.describeEngine());
        double first = a.trainStep().loss();
        for (int i = 1; i < 3; i++) assertTrue(Double.isFinite(a.trainStep().loss()));
        assertTrue(first > 0.5, "loss " + first);

        FiTModel before = fresh();
        Trainer b = new Trainer(before, data, config());
        b.trainStep();
        Path ckpt = b.checkpoint(dir.resolve("run"));
        FiTModel after = fresh();
        Trainer c = new Trainer(after, data, config());
        c.restore(TrainingCheckpoint.load(ckpt));
        assertEquals(1, c.currentStep());
        for (int i = 0; i < 2; i++) c.trainStep();

        Map<String, INDArray> wa = straight.stateDict(), wc = after.stateDict();
        wa.forEach((k, v) -> assertEquals(v, wc.get(k), "weights " + k));
        a.ema().weights().forEach((k, v) -> assertEquals(v, c.ema().weights().get(k), "EMA " + k));
        assertNotEquals(fresh().stateDict().get("final_layer.linear.weight"), wa.get("final_layer.linear.weight"), "training moved the weights");
    }

    @Test
    void twoReplicasTakeTheOneDeviceStep(@TempDir Path dir) throws Exception {
        FitLatents data = new FitLatents(FitFixtureLatents.write(dir.resolve("data"), 3, 7, 5), 64, "resize");
        FiTModel one = fresh(), two = fresh();
        Trainer a = new Trainer(one, data, config()), b = new Trainer(two, data, config(), 2);
        assertTrue(b.describeEngine().contains("2 synchronous data-parallel replicas"), b.describeEngine());
        for (int i = 0; i < 3; i++) {
            double la = a.trainStep().loss(), lb = b.trainStep().loss();
            assertEquals(la, lb, 1e-5 * Math.abs(la) + 1e-6, "loss of step " + i);
        }
        one.stateDict().forEach((k, v) -> {
            double err = v.sub(two.stateDict().get(k)).amaxNumber().doubleValue(), scale = v.amaxNumber().doubleValue();
            assertTrue(err <= 1e-4 * scale + 1e-7, k + ": " + err + " of " + scale);
        });
        assertThrows(IllegalArgumentException.class, () -> new Trainer(fresh(), data, config(), 3), "more devices than examples");
    }
}
