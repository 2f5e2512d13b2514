package org.dit4j.cli;

import org.dit4j.Fixtures;
import org.dit4j.pipeline.SampleBatch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code sample-batch} and {@code sample} with {@code --devices 2} and (slow tag) {@code --spark local[2]}: the one-device
 * files, byte for byte.
 */
class ShardedSamplingCommandTest {
    private static final String VAE = Fixtures.root().resolve("vae-tiny/weights/diffusers").toString();

    @TempDir
    Path dir;

    private static String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            assertEquals(0, Dit4j.run(args), String.join(" ", args));
        } finally {
            System.setOut(old);
        }
        return buf.toString();
    }

    private static String[] with(String[] common, String... more) {
        String[] all = Arrays.copyOf(common, common.length + more.length);
        System.arraycopy(more, 0, all, common.length, more.length);
        return all;
    }

    private static String[] sampleBatch(Path out, String... more) {
        return with(new String[]{"sample-batch", "--model-config", Fixtures.tiny("config.json").toString(), "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(),
                "--vae", VAE, "--num-samples", "5", "--batch-size", "2", "--steps", "2", "--seed", "3", "--out", out.toString()}, more);
    }

    private static String[] sample(Path out, String... more) {
        return with(new String[]{"sample", "--model-config", Fixtures.tiny("config.json").toString(), "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(),
                "--vae", VAE, "--labels", "1,4,9,2,7", "--batch-size", "2", "--steps", "2", "--seed", "5",
                "--save-latents", out.resolveSibling(out.getFileName() + ".npy").toString(), "--out", out.toString()}, more);
    }

    /** Every file under {@code out} and beside it (OUT.npz, OUT.npy), by name, as bytes. */
    private static List<String> files(Path out) throws IOException {
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(out)) {
            s.sorted().forEach(p -> names.add(p.getFileName().toString()));
        }
        return names;
    }

    private static void assertSameFiles(Path expected, Path actual, String what) throws IOException {
        assertEquals(files(expected), files(actual), what);
        for (String f : files(expected))
            if (f.equals(SampleCommand.METADATA))   // it names the grid's path, which is in the output folder
                assertEquals(Files.readString(expected.resolve(f)), Files.readString(actual.resolve(f)).replace(actual.toString(), expected.toString()), what + ": " + f);
            else assertArrayEquals(Files.readAllBytes(expected.resolve(f)), Files.readAllBytes(actual.resolve(f)), what + ": " + f);
        for (String ext : new String[]{".npz", ".npy"}) {
            Path e = expected.resolveSibling(expected.getFileName() + ext), a = actual.resolveSibling(actual.getFileName() + ext);
            assertEquals(Files.exists(e), Files.exists(a), what + ": " + a);
            if (Files.exists(e)) assertArrayEquals(Files.readAllBytes(e), Files.readAllBytes(a), what + ": " + a);
        }
    }

    @Test
    void sampleBatchOnTwoDevicesIsTheOneDeviceBatchAndResumes() throws Exception {
        Path one = dir.resolve("one"), two = dir.resolve("two");
        assertTrue(run(sampleBatch(one)).contains("sampled 5 of 5"));
        assertTrue(run(sampleBatch(two, "--devices", "2")).contains("sampled 5 of 5"));
        assertSameFiles(one, two, "--devices 2");
        // a stopped run lost images 1 and 4: their batches (0, 1) and (4) are sampled again, the rest kept
        long kept = Files.getLastModifiedTime(SampleBatch.png(two, 2)).toMillis();
        Files.delete(SampleBatch.png(two, 1));
        Files.delete(SampleBatch.png(two, 4));
        Files.delete(two.resolveSibling("two.npz"));
        assertTrue(run(sampleBatch(two, "--devices", "2")).contains("sampled 3 of 5"));
        assertEquals(kept, Files.getLastModifiedTime(SampleBatch.png(two, 2)).toMillis());
        assertSameFiles(one, two, "resumed on 2 devices");
    }

    @Test
    void sampleOnTwoDevicesIsTheOneDeviceRun() throws Exception {
        // DDPM with guidance draws noise at every step: the second shard picks up the one-device stream at batch 1
        Path one = dir.resolve("one"), two = dir.resolve("two");
        run(sample(one));
        run(sample(two, "--devices", "2"));
        assertSameFiles(one, two, "--devices 2");
        assertTrue(files(one).contains("000004-class7.png") && files(one).contains("grid.png"), files(one).toString());
    }

    /** The CLI's own local[2] contexts (ShardedSamplingTest runs the same executor in the default suite). */
    @Test
    @Tag("slow")
    void sampleBatchAndSampleOnSparkAreTheOneDeviceFilesAndResume() throws Exception {
        Path one = dir.resolve("one"), spark = dir.resolve("spark");
        run(sampleBatch(one));
        assertTrue(run(sampleBatch(spark, "--spark", "local[2]", "--devices", "2")).contains("sampled 5 of 5"));
        assertSameFiles(one, spark, "sample-batch --spark local[2]");
        Files.delete(SampleBatch.png(spark, 0));
        assertTrue(run(sampleBatch(spark, "--spark", "local[2]", "--devices", "2")).contains("sampled 2 of 5"));
        assertSameFiles(one, spark, "resumed on Spark");
        Path sOne = dir.resolve("s-one"), sSpark = dir.resolve("s-spark");
        run(sample(sOne));
        run(sample(sSpark, "--spark", "local[2]", "--devices", "2"));
        assertSameFiles(sOne, sSpark, "sample --spark local[2]");
    }

    @Test
    void anUnreachableMasterOrNoDevicesIsOneLineBeforeAnyWork() {
        for (String[] args : new String[][]{sampleBatch(dir.resolve("a"), "--spark", "spark://127.0.0.1:1"), sample(dir.resolve("b"), "--spark", "spark://127.0.0.1:1")}) {
            String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(args)));
            assertEquals(1, err.strip().lines().count(), err);
            assertTrue(err.contains("--spark spark://127.0.0.1:1: cannot reach the Spark master"), err);
        }
        for (String[] args : new String[][]{sampleBatch(dir.resolve("a"), "--devices", "0"), sample(dir.resolve("b"), "--devices", "0")}) {
            String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(args)));
            assertTrue(err.strip().endsWith("--devices must be at least 1, got 0"), err);
        }
        assertFalse(Files.exists(dir.resolve("a")) || Files.exists(dir.resolve("b")));
    }
}
