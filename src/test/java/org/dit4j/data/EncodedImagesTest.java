package org.dit4j.data;

import org.dit4j.Fixtures;
import org.dit4j.io.Images;
import org.dit4j.io.VaeWeights;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTInit;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.training.TrainConfig;
import org.dit4j.training.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Training on an image folder through the VAE on the fly (train.py's input path). */
class EncodedImagesTest {
    @Test
    void latentsAreFreshPosteriorSamplesDeterminedByTheDraw(@TempDir Path dir) throws Exception {
        for (int k = 0; k < 2; k++) {
            Path cls = dir.resolve("data/c" + k);
            Files.createDirectories(cls);
            for (int i = 0; i < 2; i++)
                Images.writePng(cls.resolve(i + ".png"), Images.toImage(Nd4j.rand(3, 20, 20).muli(2).subi(1)));
        }
        AutoencoderKL vae = VaeWeights.loadModel(Fixtures.root().resolve("vae-tiny/weights/ldm/vae-tiny.pt"), null);
        EncodedImages data = new EncodedImages(new ImageFolderData(dir.resolve("data"), 16), vae, 3);
        assertArrayEquals(new long[]{4, 8, 8}, data.exampleShape());
        long[] idx = {0, 3};
        boolean[] flips = {false, true};
        INDArray a = data.batch(idx, flips, 5).x(), b = data.batch(idx, flips, 5).x(), c = data.batch(idx, flips, 6).x();
        assertEquals(a, b, "the same draw gives the same latents (resume)");
        assertNotEquals(a, c, "another draw samples the posterior again");
        // (z / 0.18215 − mean) / std is the posterior's standard-normal noise.
        AutoencoderKL.Posterior p = vae.encode(new ImageFolderData(dir.resolve("data"), 16).batch(idx, flips).x());
        INDArray eps = vae.unscale(a).sub(p.mean()).div(p.std());
        assertEquals(0, eps.meanNumber().doubleValue(), 0.15, "noise mean");
        assertEquals(1, eps.stdNumber().doubleValue(), 0.15, "noise std");

        DiTModel m = DiTModel.create(new DiTConfig(8, 2, 4, 32, 1, 2, 2.0, 0.1, 2, true));
        DiTInit.initialize(m, 0);
        Trainer t = new Trainer(m, data, TrainConfig.defaultsOnly().set("train_batch_size", 2, "test").set("max_steps", 2, "test"));
        assertTrue(Double.isFinite(t.trainStep().loss()));
        assertTrue(Double.isFinite(t.trainStep().loss()));
    }
}
