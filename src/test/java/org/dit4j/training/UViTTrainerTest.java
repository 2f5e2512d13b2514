package org.dit4j.training;

import org.dit4j.data.TensorData;
import org.dit4j.diffusion.EpsilonObjective;
import org.dit4j.models.Conditioning;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.StateDicts;
import org.dit4j.models.uvit.UViTConfig;
import org.dit4j.models.uvit.UViTFamily;
import org.dit4j.models.uvit.UViTModel;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code Trainer} on U-ViT models: the family's objective, the config's AdamW betas, label dropout to the null row. */
class UViTTrainerTest {
    static UViTConfig pixelUViT(String schedule) {
        return (UViTConfig) ModelFamilies.fromYaml("family: uvit\nschedule: " + schedule + "\nimg_size: 16\npatch_size: 4\nin_chans: 3\n"
                + "embed_dim: 32\ndepth: 2\nnum_heads: 2\nnum_classes: 4\np_uncond: 0.1\n", "tiny");
    }

    @Test
    void theCustomizedScheduleWarmsUpFromZeroAsUViTsLambdaLR() {
        TrainConfig c = TrainConfig.defaultsOnly().set("scheduler", "customized", "t").set("warmup_steps", 4, "t").set("start_learning_rate", 2e-4, "t");
        assertEquals(0, c.learningRate(0, 100));
        assertEquals(1e-4, c.learningRate(2, 100), 1e-18);
        assertEquals(2e-4, c.learningRate(50, 100));
    }

    @Test
    void aTrainerStepIsTheObjectivesStepFollowedByAdamWWithTheConfigsBetas() {
        for (String schedule : new String[]{"continuous", "discrete"}) {
            UViTConfig cfg = pixelUViT(schedule);
            UViTFamily f = new UViTFamily(UViTFamily.NAME);
            Map<String, INDArray> init = f.initialWeights(cfg, 2);
            UViTModel trained = (UViTModel) f.create(cfg, StateDicts.copy(init), "init");
            TensorData data = TrainerTest.colours(4);
            TrainConfig tc = TrainerTest.config(2).set("beta1", 0.99, "test").set("beta2", 0.99, "test").set("weight_decay", 0.03, "test")
                    .set("start_learning_rate", 2e-4, "test");
            Trainer t = new Trainer(trained, data, tc);
            double loss = t.trainStep().loss();

            // the same draw by hand: EpsilonObjective's step on a second model, then AdamW(2e-4, 0.99, 0.99, wd 0.03)
            EpsilonObjective objective = schedule.equals("continuous") ? EpsilonObjective.continuousVp() : EpsilonObjective.stableDiffusionDiscrete();
            MicroBatches.Draw d = new MicroBatches(data, cfg, tc, objective).draw(0, 8);
            assertNull(d.t());
            for (double v : d.times()) assertTrue(schedule.equals("continuous") ? v >= 0 && v < 1 : v >= 1 && v <= 1000 && v == Math.rint(v), "time " + v);
            UViTModel byHand = (UViTModel) f.create(cfg, StateDicts.copy(init), "init");
            TrainingStep step = new TrainingStep(byHand, objective);
            TrainingStep.Result r = step.compute(d.x0(), d.times(), d.noise(), Conditioning.labels(d.y()));
            assertEquals(r.lossMean(), loss, 1e-6 * loss, schedule);
            new AdamW(2e-4, 0.99, 0.99, 1e-8, 0.03).step(step.trainableParameters(), r.gradients());
            for (var e : byHand.stateDict().entrySet())
                assertEquals(0, e.getValue().sub(trained.stateDict().get(e.getKey())).amaxNumber().doubleValue(), 1e-7, schedule + " " + e.getKey());
            assertNotEquals(0, init.get("pos_embed").sub(trained.stateDict().get("pos_embed")).amaxNumber().doubleValue(), "pos_embed trains");
        }
    }
}
