package org.dit4j.data;

import org.dit4j.Fixtures;
import org.dit4j.cli.Dit4j;
import org.dit4j.io.Images;
import org.dit4j.io.WeightsFormatException;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTInit;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.training.TrainConfig;
import org.dit4j.training.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.zip.CRC32;

import static org.dit4j.cli.ForwardCommandTest.stderrOf;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Image files and folders that must not exhaust memory, hang, or pass unnoticed; class ids that must be classes. */
class HostileInputsTest {
    /** A PNG that declares {@code w}×{@code h} RGB pixels: the header alone, which is all a size check may read. */
    static byte[] pngHeader(int w, int h) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(b);
        o.write(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(ihdr);
        d.writeBytes("IHDR");
        d.writeInt(w);
        d.writeInt(h);
        d.write(new byte[]{8, 2, 0, 0, 0});
        o.writeInt(13);
        o.write(ihdr.toByteArray());
        CRC32 crc = new CRC32();
        crc.update(ihdr.toByteArray());
        o.writeInt((int) crc.getValue());
        return b.toByteArray();
    }

    private static Path jpeg(Path file, int side) throws IOException {
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) img.setRGB(x, y, (x * 37 + y * 11) & 0xffffff ^ (x * y * 2654435761L > 0 ? 0x5a5a5a : 0));
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "jpg", file.toFile());
        return file;
    }

    private static void truncate(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(b, b.length * 6 / 10));
    }

    @Test
    void aHugeImageIsRefusedFromItsHeaderAndSkippedInAFolder(@TempDir Path dir) throws Exception {
        Path huge = Files.write(Files.createDirectories(dir.resolve("data/c0")).resolve("huge.png"), pngHeader(20000, 20000));
        var e = assertThrows(WeightsFormatException.class, () -> Images.decode(huge));
        assertTrue(e.getMessage().contains(huge.toString()) && e.getMessage().contains("20000x20000") && e.getMessage().contains("64-megapixel"), e.getMessage());
        Images.writePng(dir.resolve("data/c0/ok.png"), Images.toImage(Nd4j.rand(3, 16, 16).muli(2).subi(1)));
        ImageFolderData data = new ImageFolderData(dir.resolve("data"), 16);
        String err = stderrOf(() -> {
            assertNull(data.load(0, false));   // huge.png sorts first
            assertNull(data.load(0, false));
            assertEquals(2, data.batch(new long[]{0, 1}, new boolean[2]).x().size(0), "the batch keeps its size");
        });
        assertEquals(1, err.strip().lines().count(), "one warning: " + err);
        assertTrue(err.contains("huge.png") && err.contains("megapixel"), err);
        assertTrue(data.problem(0).contains("20000x20000"), data.problem(0));
        assertTrue(data.describe().contains("1 unreadable skipped"), data.describe());
    }

    @Test
    void aTruncatedJpegIsRefusedAloneAndWarnedAboutInAFolder(@TempDir Path dir) throws Exception {
        Path single = jpeg(dir.resolve("one/a.jpg"), 64);
        truncate(single);
        var e = assertThrows(WeightsFormatException.class, () -> Images.readRgb(single));
        assertTrue(e.getMessage().contains(single.toString()) && e.getMessage().contains("damaged image"), e.getMessage());
        Path vae = Fixtures.root().resolve("vae-tiny/weights/ldm/vae-tiny.pt");
        Path z = dir.resolve("z.npy");
        String err = stderrOf(() -> assertEquals(2, Dit4j.run("encode", "--vae", vae.toString(), "--images", single.toString(), "--out", z.toString())));
        assertTrue(err.contains(single.toString()) && err.contains("damaged image"), err);
        assertEquals(1, err.strip().lines().count(), err);
        jpeg(dir.resolve("one/b.jpg"), 64);
        err = stderrOf(() -> assertEquals(0, Dit4j.run("encode", "--vae", vae.toString(), "--images", single.getParent().toString(), "--out", z.toString())));
        assertTrue(err.contains("warning") && err.contains("a.jpg") && !err.contains("b.jpg"), err);

        // training folders: used, with one warning per file however often it is drawn
        jpeg(dir.resolve("data/c0/t.jpg"), 64);
        truncate(dir.resolve("data/c0/t.jpg"));
        ImageFolderData data = new ImageFolderData(dir.resolve("data"), 16);
        err = stderrOf(() -> {
            assertNotNull(data.load(0, false));
            assertNotNull(data.load(0, true));
        });
        assertEquals(1, err.strip().lines().count(), err);
        assertTrue(err.contains("t.jpg") && err.contains("damaged image"), err);
    }

    @Test
    void symlinkLoopsAndFifosInADataFolderNeitherHangNorBlock(@TempDir Path dir) throws Exception {
        Path c0 = Files.createDirectories(dir.resolve("data/c0"));
        Images.writePng(c0.resolve("a.png"), Images.toImage(Nd4j.rand(3, 16, 16).muli(2).subi(1)));
        Files.createSymbolicLink(c0.resolve("loop"), c0);
        Files.createSymbolicLink(c0.resolve("loop.png"), c0.resolve("loop.png"));   // a link to itself
        Path fifo = c0.resolve("b.png");
        assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo");
        String err = stderrOf(() -> assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            ImageFolderData data = new ImageFolderData(dir.resolve("data"), 16);
            assertEquals(1, data.size(), "only the regular image");
            assertNotNull(data.load(0, false));
        }));
        assertEquals(2, err.strip().lines().count(), err);
        assertTrue(err.contains("b.png") && err.contains("loop.png") && err.contains("not a regular file"), err);
    }

    @Test
    void classIdsMustBeIntegersAndClassesOfTheModel(@TempDir Path dir) throws Exception {
        for (String c : new String[]{"cat", "dog"})
            Images.writePng(dir.resolve("data/" + c + "/0.png"), Images.toImage(Nd4j.rand(3, 16, 16).muli(2).subi(1)));
        Path ids = dir.resolve("data/class_ids.json");
        Files.writeString(ids, "{\"cat\": \"x\", \"dog\": 1}");
        var e = assertThrows(IllegalArgumentException.class, () -> new ImageFolderData(dir.resolve("data"), 16));
        assertTrue(e.getMessage().contains(ids.toString()) && e.getMessage().contains("'cat'") && e.getMessage().contains("\"x\""), e.getMessage());
        Files.writeString(ids, "{\"cat\": 1.5, \"dog\": 1}");
        assertThrows(IllegalArgumentException.class, () -> new ImageFolderData(dir.resolve("data"), 16));
        Files.writeString(ids, "[1, 2]");
        assertThrows(IllegalArgumentException.class, () -> new ImageFolderData(dir.resolve("data"), 16));

        // id 2 of a 2-class model is its null class: label dropout's alone
        Files.writeString(ids, "{\"cat\": 0, \"dog\": 2}");
        ImageFolderData data = new ImageFolderData(dir.resolve("data"), 16);
        DiTModel m = DiTModel.create(new DiTConfig(16, 2, 3, 32, 1, 2, 2.0, 0.1, 2, true));
        DiTInit.initialize(m, 0);
        TrainConfig cfg = TrainConfig.defaultsOnly().set("train_batch_size", 2, "test").set("max_steps", 1, "test");
        e = assertThrows(IllegalArgumentException.class, () -> new Trainer(m, data, cfg));
        assertTrue(e.getMessage().contains(ids.toString()) && e.getMessage().contains("'dog' has class id 2") && e.getMessage().contains("0..1"), e.getMessage());
        // without class_ids.json, more folders than classes
        Files.delete(ids);
        Images.writePng(dir.resolve("data/eel/0.png"), Images.toImage(Nd4j.rand(3, 16, 16).muli(2).subi(1)));
        e = assertThrows(IllegalArgumentException.class, () -> new Trainer(m, new ImageFolderData(dir.resolve("data"), 16), cfg));
        assertTrue(e.getMessage().contains("3 class folders") && e.getMessage().contains("2 classes"), e.getMessage());
    }

    @Test
    void anExtractionResumesOnlyWithTheSameVaeModeAndSeed(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("features");
        LatentShards.Writer w = new LatentShards.Writer(out, 16, "ema", false, false, 3);
        w.append(Nd4j.zeros(1, 4, 2, 2), new long[]{0}, null);
        assertEquals(1, new LatentShards.Writer(out, 16, "ema", false, false, 3).done());
        for (Object[] other : new Object[][]{{"mse", false, 3L, "vae ema"}, {"ema", true, 3L, "mode false"}, {"ema", false, 4L, "seed 3"}}) {
            var e = assertThrows(IllegalArgumentException.class, () -> new LatentShards.Writer(out, 16, (String) other[0], false, (boolean) other[1], (long) other[2]));
            assertTrue(e.getMessage().contains(out.resolve(LatentShards.MANIFEST).toString()) && e.getMessage().contains((String) other[3]), e.getMessage());
        }
        // shard labels must be classes of the model too
        LatentShards shards = new LatentShards(out);
        var e = assertThrows(IllegalArgumentException.class, () -> shards.requireLabels(0));
        assertTrue(e.getMessage().contains("labels-00000.npy"), e.getMessage());
    }
}
