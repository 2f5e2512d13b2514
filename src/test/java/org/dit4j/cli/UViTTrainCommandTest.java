package org.dit4j.cli;

import org.dit4j.io.Checkpoint;
import org.dit4j.models.uvit.UViTConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code dit4j train} on a tiny pixel-space U-ViT over the bundled photos, then {@code dit4j sample} of the run. */
class UViTTrainCommandTest {
    @Test
    void aUViTTrainsOnOneDeviceAndItsCheckpointSamples(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("uvit-toy.yaml");
        Files.writeString(yaml, """
                family: uvit
                schedule: continuous
                img_size: 16
                patch_size: 4
                in_chans: 3
                embed_dim: 32
                depth: 2
                num_heads: 2
                num_classes: 1001
                p_uncond: 0.1
                sample: {algorithm: euler_maruyama_sde, sample_steps: 3, scale: 0.5}
                """);
        Path run = dir.resolve("run");
        int code = Dit4j.run("train", "--model-config", yaml.toString(), "--data", "datasets/toy/train", "--vae", "none",
                "--max-steps", "2", "--batch-size", "2", "--out", run.toString(), "--set", "ckpt_every=2", "--set", "beta1=0.99",
                "--set", "scheduler=customized", "--set", "warmup_steps=1", "--set", "weight_decay=0.03",
                "--set", "sample_every=2", "--set", "sample_sampler=euler-maruyama", "--set", "sample_steps=2", "--set", "sample_labels=281");
        assertEquals(0, code);
        Path ckpt = run.resolve("checkpoints/step-00000002");
        assertTrue(Files.isRegularFile(run.resolve("samples/step-00000002.png")), "the training grid");
        assertTrue(Checkpoint.config(ckpt) instanceof UViTConfig u && u.sample().algorithm().equals("euler_maruyama_sde"), "the config survives the checkpoint");
        int sampled = Dit4j.run("sample", "--ckpt", run.toString(), "--labels", "281,504", "--out", dir.resolve("samples").toString());
        assertEquals(0, sampled);
        assertTrue(Files.readString(dir.resolve("samples/samples.json")).contains("euler-maruyama"));
    }

    /** An unconditional U-ViT (cifar10's kind) draws its training grids without labels, and its checkpoint samples by count. */
    @Test
    void anUnconditionalUViTDrawsItsGridsWithoutLabels(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("uncond.yaml");
        Files.writeString(yaml, """
                family: uvit
                img_size: 16
                patch_size: 4
                in_chans: 3
                embed_dim: 32
                depth: 2
                num_heads: 2
                num_classes: -1
                sample: {algorithm: euler_maruyama_sde, sample_steps: 2}
                """);
        Path run = dir.resolve("run");
        String[] train = {"train", "--model-config", yaml.toString(), "--data", "datasets/toy/train", "--vae", "none", "--max-steps", "1",
                "--batch-size", "2", "--out", run.toString(), "--set", "sample_every=1", "--set", "sample_sampler=euler-maruyama", "--set", "sample_steps=2"};
        assertEquals(0, Dit4j.run(train));
        assertTrue(Files.isRegularFile(run.resolve("samples/step-00000001.png")), "the training grid");
        String[] labelled = java.util.Arrays.copyOf(train, train.length + 2);
        labelled[train.length] = "--set";
        labelled[train.length + 1] = "sample_labels=3";
        labelled[9] = dir.resolve("run2").toString();
        assertEquals(2, Dit4j.run(labelled), "an unconditional model takes no sample_labels");
        assertEquals(0, Dit4j.run("sample", "--ckpt", run.toString(), "--num-samples", "2", "--out", dir.resolve("samples").toString()));
        assertTrue(Files.isRegularFile(dir.resolve("samples/000001.png")));
    }
}
