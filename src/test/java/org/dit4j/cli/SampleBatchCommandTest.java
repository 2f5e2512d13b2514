package org.dit4j.cli;

import org.dit4j.Fixtures;
import org.dit4j.io.Images;
import org.dit4j.io.Npz;
import org.dit4j.pipeline.SampleBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code dit4j sample-batch}: PNGs and an arr_0 batch of their pixels, labels from the seed, and a resumed run redrawing only what is missing. */
class SampleBatchCommandTest {
    @TempDir
    Path dir;

    private String run(Path out) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            assertEquals(0, Dit4j.run("sample-batch", "--model-config", Fixtures.tiny("config.json").toString(),
                    "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--vae", Fixtures.root().resolve("vae-tiny/weights/diffusers").toString(),
                    "--num-samples", "5", "--batch-size", "2", "--steps", "2", "--seed", "3", "--out", out.toString()));
        } finally {
            System.setOut(old);
        }
        return buf.toString();
    }

    @Test
    void writesPngsAndTheirBatchAndResumes() throws Exception {
        Path out = dir.resolve("samples"), npz = dir.resolve("samples.npz");
        assertTrue(run(out).contains("sampled 5 of 5"));
        byte[][] pngs = new byte[5][];
        for (int i = 0; i < 5; i++) pngs[i] = Files.readAllBytes(SampleBatch.png(out, i));
        byte[] batch = Files.readAllBytes(npz);
        try (Npz.ArrayStream s = Npz.stream(npz, "arr_0")) {
            assertEquals("u1", s.dtype);
            long[] shape = s.shape;
            assertEquals(5, shape[0]);
            assertEquals(3, shape[3]);
            int n = (int) (shape[1] * shape[2] * 3);
            byte[] b = new byte[n];
            for (int i = 0; i < 5; i++) {
                s.readFully(b, n);
                assertArrayEquals(Images.rgbBytes(Images.decode(SampleBatch.png(out, i)).image()), b, "image " + i);
            }
        }
        long[] labels = SampleBatch.labels(3, 5, 10);
        for (int i = 0; i < 5; i++)
            assertEquals(String.valueOf(labels[i]), Images.readPngText(SampleBatch.png(out, i)).get("class"));

        // a crash after the first two batches lost index 3: only its batch (2, 3) is sampled again, to the same pixels
        Files.delete(SampleBatch.png(out, 3));
        long before = Files.getLastModifiedTime(SampleBatch.png(out, 0)).toMillis();
        assertTrue(run(out).contains("sampled 2 of 5"));
        assertEquals(before, Files.getLastModifiedTime(SampleBatch.png(out, 0)).toMillis());
        assertArrayEquals(pngs[3], Files.readAllBytes(SampleBatch.png(out, 3)));
        assertArrayEquals(batch, Files.readAllBytes(npz));
    }

    @Test
    void officialSampleBatchMemberIsReproducedByteForByte() throws Exception {
        // fixtures/eval/npz: sample_ddp.py's uint8 conversion of dit_samples_float.npy, then create_npz_from_sample_folder
        org.nd4j.linalg.api.ndarray.INDArray x = org.dit4j.io.Npy.read(Fixtures.root().resolve("eval/npz/dit_samples_float.npy"));   // (4, 3, 32, 32)
        Path ours = dir.resolve("batch.npz");
        Npz.writeImages(ours, 4, 32, 32, i -> SampleBatch.toUint8(x.slice(i)));
        // the arr_0.npy member (header and pixels) is numpy's, byte for byte; the zip framing is Java's
        assertArrayEquals(member(Fixtures.root().resolve("eval/npz/dit_sample_batch.npz")), member(ours));
        assertEquals(java.util.List.of("arr_0"), Npz.keys(ours));
    }

    private static byte[] member(Path npz) throws Exception {
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(npz.toFile())) {
            java.util.zip.ZipEntry e = z.getEntry("arr_0.npy");
            assertEquals(java.util.zip.ZipEntry.STORED, e.getMethod());
            return z.getInputStream(e).readAllBytes();
        }
    }

    @Test
    void ditsUint8RoundingIsTruncationAfterPlus128() {
        // x = 0 -> 128 (ADM's image_sample.py would give 127), -1 -> 0.5 -> 0, 1 -> 255.5 -> 255, 0.00392 -> 128.4998 -> 128
        org.nd4j.linalg.api.ndarray.INDArray x = org.nd4j.linalg.factory.Nd4j.create(new float[]{0f, -1f, 1f, 0.00392f, -1.2f, 1.2f, 0.5f, -0.99608f, 0.0039f, 0f, 0f, 0f},
                new long[]{3, 2, 2}, 'c');
        byte[] b = SampleBatch.toUint8(x);
        int[] want = {128, 0, 255, 128};
        for (int i = 0; i < 4; i++) assertEquals(want[i], b[3 * i] & 0xff, "pixel " + i);
    }
}
