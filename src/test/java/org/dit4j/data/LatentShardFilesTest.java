package org.dit4j.data;

import org.dit4j.io.HadoopFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Latent shards read row by row, from a path and through Hadoop's FileSystem API (file:// URIs). */
class LatentShardFilesTest {
    /** Two shards of 5 and 3 examples (4, 2, 2) with mirrored latents; example i holds the values i·100 + j. */
    static Path writeShards(Path dir) throws Exception {
        LatentShards.Writer w = new LatentShards.Writer(dir, 16, "ema", true, false, 0);
        int start = 0;
        for (int n : new int[]{5, 3}) {
            INDArray x = Nd4j.arange(start * 16, (start + n) * 16).reshape(n, 4, 2, 2).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
            long[] y = new long[n];
            for (int i = 0; i < n; i++) y[i] = (start + i) % 3;
            w.append(x, y, x.neg());
            start += n;
        }
        return dir;
    }

    @Test
    void rowsReadThroughHadoopOrAPathAreTheInMemoryShardsExamples(@TempDir Path dir) throws Exception {
        writeShards(dir);
        LatentShards memory = new LatentShards(dir);
        long[] indices = {7, 0, 4, 5, 2};
        boolean[] flips = {true, false, false, true, true};
        TrainingData.Batch expected = memory.batch(indices, flips);
        for (String location : new String[]{dir.toString(), dir.toUri().toString()}) {
            LatentShardFiles files = new LatentShardFiles(location);
            assertEquals(8, files.size(), location);
            assertArrayEquals(new long[]{4, 2, 2}, files.exampleShape());
            TrainingData.Batch b = files.batch(indices, flips);
            assertEquals(expected.x(), b.x(), location);
            assertArrayEquals(expected.labels(), b.labels(), location);
            assertEquals(-7 * 16, b.x().getDouble(0, 0, 0, 0), "example 7 of the second shard, mirrored");
        }
        assertTrue(dir.toUri().toString().startsWith("file:/"));
    }

    @Test
    void badLocationsFailInOneLineNamingTheUri(@TempDir Path dir) throws Exception {
        String noScheme = "nosuchfs://host/features";
        var e = assertThrows(IllegalArgumentException.class, () -> new LatentShardFiles(noScheme));
        assertTrue(e.getMessage().startsWith(noScheme) && e.getMessage().contains("No FileSystem for scheme"), e.getMessage());
        String missing = dir.resolve("absent").toUri().toString();
        e = assertThrows(IllegalArgumentException.class, () -> new LatentShardFiles(missing));
        assertTrue(e.getMessage().contains(missing) && e.getMessage().contains("no manifest.json"), e.getMessage());
        String unreachable = "hdfs://127.0.0.1:1/features";
        e = assertThrows(IllegalArgumentException.class, () -> new LatentShardFiles(unreachable));
        assertTrue(e.getMessage().startsWith(unreachable) && e.getMessage().contains("Connection refused"), e.getMessage());
        writeShards(dir.resolve("cut"));
        Path shard = dir.resolve("cut/latents-00001.npy");
        byte[] b = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(b, b.length - 4));
        String cut = dir.resolve("cut").toUri().toString();
        e = assertThrows(IllegalArgumentException.class, () -> new LatentShardFiles(cut));
        assertTrue(e.getMessage().contains("latents-00001.npy") && e.getMessage().contains("needs"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void hadoopWritesGoThroughATemporaryNameThenARename(@TempDir Path dir) {
        String target = dir.resolve("out/state.json").toUri().toString();
        HadoopFiles.write(target, o -> o.write("{\"step\": 2}".getBytes(StandardCharsets.UTF_8)));
        HadoopFiles.write(target, o -> o.write("{\"step\": 4}".getBytes(StandardCharsets.UTF_8)));
        assertEquals("{\"step\": 4}", new String(HadoopFiles.readAll(target), StandardCharsets.UTF_8));
        assertTrue(HadoopFiles.list(dir.resolve("out").toUri().toString()).stream().noneMatch(n -> n.contains(".tmp")),
                "no temporary left: " + HadoopFiles.list(dir.resolve("out").toUri().toString()));
        var e = assertThrows(IllegalArgumentException.class, () -> HadoopFiles.write(target, o -> {
            throw new java.io.IOException("disk full");
        }));
        assertTrue(e.getMessage().startsWith(target) && e.getMessage().contains("disk full"), e.getMessage());
        assertEquals("{\"step\": 4}", new String(HadoopFiles.readAll(target), StandardCharsets.UTF_8), "a failed write leaves the old file");
    }
}
