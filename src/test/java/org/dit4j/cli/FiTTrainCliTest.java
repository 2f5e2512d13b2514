package org.dit4j.cli;

import org.dit4j.Fixtures;
import org.dit4j.data.FitLatents;
import org.dit4j.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.dit4j.cli.ForwardCommandTest.stderrOf;
import static org.junit.jupiter.api.Assertions.*;

/**
 * dit4j extract-features --fit and dit4j train with a FiT config, end to end with the tiny VAE (down factor 2, so
 * 8·p becomes 4 pixels: --max-tokens 64 gives S = 32) and the fixture FiT's architecture; the engines FiT cannot use
 * are refused before any work.
 */
class FiTTrainCliTest {
    private static final String VAE = Fixtures.root().resolve("vae-tiny/weights/ldm/vae-tiny.pt").toString();

    private static void png(Path file, int w, int h) throws Exception {
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, ((x * 7) % 256) << 16 | ((y * 11) % 256) << 8 | ((x + y) * 5) % 256);
        ImageIO.write(img, "png", file.toFile());
    }

    private static Path extract(Path dir) throws Exception {
        Path images = dir.resolve("images"), feats = dir.resolve("feats");
        png(images.resolve("a/0.png"), 48, 40);   // 1920 px ≥ 32²: resized to 32×28 (8×7 tokens), and cropped to 32×32
        png(images.resolve("a/1.png"), 20, 16);   // kept (floored to 20×16: 5×4 tokens)
        png(images.resolve("b/2.png"), 8, 8);     // 2×2 tokens: under 16, skipped
        png(images.resolve("b/3.png"), 36, 36);   // resized to 32×32 and cropped to 32×32
        assertEquals(0, Dit4j.run("extract-features", "--fit", "--max-tokens", "64", "--vae", VAE, "--data", images.toString(), "--out", feats.toString()));
        return feats;
    }

    @Test
    void extractsTheOfficialLayoutThenTrainsAndResumes(@TempDir Path dir) throws Exception {
        Path feats = extract(dir);
        Path resize = feats.resolve(FitLatents.resizeFolder(64)), crop = feats.resolve(FitLatents.cropFolder(64)), from = feats.resolve(FitLatents.fromFolder(64));
        assertTrue(Files.exists(resize.resolve("00000000.safetensors")) && Files.exists(resize.resolve("00000003.safetensors")));
        assertTrue(Files.exists(crop.resolve("00000000.safetensors")) && Files.exists(crop.resolve("00000003.safetensors")));
        assertTrue(Files.exists(from.resolve("00000001.safetensors")));
        assertFalse(Files.exists(from.resolve("00000002.safetensors")) || Files.exists(resize.resolve("00000002.safetensors")));
        Map<String, INDArray> first = Safetensors.read(resize.resolve("00000000.safetensors"));
        assertArrayEquals(new long[]{2, 7, 8, 16}, first.get("feature").shape());
        assertArrayEquals(new long[]{7, 8}, first.get("size").toLongVector());
        assertEquals(0, first.get("label").getLong(0));
        assertArrayEquals(new long[]{2, 8, 8, 16}, Safetensors.read(crop.resolve("00000003.safetensors")).get("feature").shape());
        long stamp = Files.getLastModifiedTime(resize.resolve("00000000.safetensors")).toMillis();
        assertEquals(0, Dit4j.run("extract-features", "--fit", "--max-tokens", "64", "--vae", VAE, "--data", dir.resolve("images").toString(), "--out", feats.toString()));
        assertEquals(stamp, Files.getLastModifiedTime(resize.resolve("00000000.safetensors")).toMillis(), "a resumed extraction keeps what is done");

        Path run = dir.resolve("run");
        assertEquals(0, Dit4j.run("train", "--config", "configs/training/fit-tiny.yaml", "--features", feats.toString(), "--out", run.toString(),
                "--max-steps", "2"));
        assertTrue(Files.isDirectory(run.resolve("checkpoints/step-00000002")));
        assertEquals(0, Dit4j.run("train", "--config", "configs/training/fit-tiny.yaml", "--features", feats.toString(), "--out", run.toString(),
                "--max-steps", "3", "--resume", run.toString()));
        assertTrue(Files.isDirectory(run.resolve("checkpoints/step-00000003")));
        assertEquals(4, Files.readAllLines(run.resolve("log.csv")).size(), "header and steps 1..3");
    }

    @Test
    void enginesFiTCannotUseAreRefusedInOneLine(@TempDir Path dir) throws Exception {
        Path feats = dir.resolve("missing"), out = dir.resolve("run");
        String[][] cases = {{"--parallel", "parallel-wrapper"}, {"--spark", "local[1]"}};
        for (String[] flags : cases) {
            String[] args = new String[8 + flags.length];
            System.arraycopy(new String[]{"train", "--config", "configs/training/fit-tiny.yaml", "--features", feats.toString(), "--out", out.toString(), "--max-steps=1"}, 0, args, 0, 8);
            System.arraycopy(flags, 0, args, 8, flags.length);
            String err = stderrOf(() -> assertEquals(2, Dit4j.run(args)));
            assertTrue(err.contains(flags[0]) && err.contains("FiT trains with dit4j's own engine"), err);
            assertEquals(1, err.strip().lines().count(), err);
        }
        String err = stderrOf(() -> assertEquals(2, Dit4j.run("train", "--config", "configs/training/fit-tiny.yaml", "--data", dir.toString(), "--out", out.toString())));
        assertTrue(err.contains("extract-features --fit"), err);
        assertFalse(Files.exists(out.resolve("checkpoints")));
    }
}
