package org.dit4j.data;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** FiT's data path against the official resize_arr and IN1kLatentDataset + train_fit.py (../shared/fixtures/fit data/, batch/). */
class FitDataTest {
    private static INDArray npy(String rel) {
        return Npy.read(Fixtures.root().resolve("fit").resolve(rel));
    }

    /** Values printed by the official resize_arr (numpy 2.4) for S = 256, 8·p = 16. */
    @Test
    void resizeFollowsResizeArr() {
        int[][] cases = {{500, 375, 288, 208}, {375, 500, 208, 288}, {10, 300, 16, 480}, {300, 10, 480, 16}, {100, 80, 96, 80},
                {256, 256, 256, 256}, {257, 255, 256, 240}, {640, 480, 288, 208}, {1000, 100, 800, 80}, {33, 17, 32, 16}, {4000, 20, 3616, 16}};
        for (int[] c : cases)
            assertArrayEquals(new int[]{c[2], c[3]}, FitResize.size(c[0], c[1], 256, 16), c[0] + "x" + c[1]);
        assertArrayEquals(new int[]{288, 192}, FitResize.size(300, 200, 512, 16));
        assertEquals(FitResize.Kind.GREATER, FitResize.kind(500, 375, 256, 16));
        assertTrue(FitResize.cropsToo(500, 375, 256));
        assertFalse(FitResize.cropsToo(1000, 100, 256));
        assertEquals(FitResize.Kind.FROM_16, FitResize.kind(256, 256, 256, 16));
        assertEquals(FitResize.Kind.FROM_16, FitResize.kind(100, 80, 256, 16));
        assertEquals(FitResize.Kind.LESS_THAN_16, FitResize.kind(50, 50, 256, 16));
    }

    @Test
    void resizedImagesHaveTheTargetSize() {
        CenterCrop.Rgb img = new CenterCrop.Rgb(500, 375, new float[][]{new float[500 * 375], new float[500 * 375], new float[500 * 375]});
        CenterCrop.Rgb r = FitResize.resize(img, 256, 16);
        assertEquals(288, r.width());
        assertEquals(208, r.height());
        CenterCrop.Rgb fits = new CenterCrop.Rgb(496, 368, new float[][]{new float[496 * 368], new float[496 * 368], new float[496 * 368]});
        assertSame(fits, FitResize.resize(fits, 1024, 16), "an image that already fits is kept");
    }

    @Test
    void featuresArePatchifiedInCP1P2OrderWithTheMirrorSecond() {
        for (int i = 0; i < 3; i++) {
            INDArray latent = npy("data/sample" + i + "/latent.npy");
            INDArray mirrored = FitFixtureLatents.flipW(latent);
            Map<String, INDArray> t = FitLatents.item(latent, mirrored, 2, npy("data/sample" + i + "/label.npy").getLong(0));
            assertEquals(npy("data/sample" + i + "/feature.npy"), t.get("feature"), "feature " + i);
            assertEquals(npy("data/sample" + i + "/grid.npy"), t.get("grid"), "grid " + i);
            assertEquals(npy("data/sample" + i + "/size.npy").castTo(DataType.LONG), t.get("size"), "size " + i);
        }
    }

    private static Path dataset(Path dir) throws IOException {
        return FitFixtureLatents.write(dir, 3, 7, 10);
    }

    /** The fixture's torch.manual_seed(6006) picked feature 0, 1, 0; the layout is what is compared. */
    @Test
    void paddedBatchMatchesTheOfficialCollateAndTrim(@TempDir Path dir) throws IOException {
        FitLatents data = new FitLatents(dataset(dir), 64, "resize");
        assertEquals(3, data.size());
        assertArrayEquals(new long[]{16, 64}, data.exampleShape());
        FitLatents.Padded p = data.batch(new long[]{0, 1, 2}, new boolean[]{false, true, false}, new double[3], 0);
        assertEquals(npy("x.npy"), p.x(), "x");
        assertEquals(npy("grid_long.npy"), p.grid(), "grid");
        assertEquals(npy("mask.npy").castTo(DataType.FLOAT), p.mask(), "mask");
        assertEquals(npy("batch/size.npy").reshape(3, 2), p.sizes(), "size");
        assertArrayEquals(new long[]{3, 7, 10}, p.labels());
    }

    @Test
    void batchesArePaddedToTheirLongestSequenceOrAFixedLength(@TempDir Path dir) throws IOException {
        FitLatents data = new FitLatents(dataset(dir), 64, "resize");
        FitLatents.Padded p = data.batch(new long[]{0, 2}, new boolean[]{false, false}, new double[2], 0);
        assertEquals(32, p.x().size(2), "the longest of 4x8 and 6x5 tokens");
        INDArray rows = npy("x.npy").get(NDArrayIndex.indices(0, 2), NDArrayIndex.all(), NDArrayIndex.interval(0, 32));
        assertEquals(rows, p.x());
        assertEquals(npy("mask.npy").castTo(DataType.FLOAT).get(NDArrayIndex.indices(0, 2), NDArrayIndex.interval(0, 32)), p.mask());
        FitLatents.Padded fixed = data.batch(new long[]{0, 2}, new boolean[]{false, false}, new double[2], 64);
        assertEquals(64, fixed.x().size(2));
        assertEquals(npy("x.npy").get(NDArrayIndex.indices(0, 2), NDArrayIndex.all(), NDArrayIndex.all()), fixed.x());
        assertThrows(IllegalArgumentException.class, () -> data.batch(new long[]{1}, new boolean[]{false}, new double[1], 32));
    }

    @Test
    void cropsPairWithTheirResizedCopy(@TempDir Path dir) throws IOException {
        Path root = dataset(dir);
        Path resize = root.resolve(FitLatents.resizeFolder(64)), crop = root.resolve(FitLatents.cropFolder(64));
        Files.createDirectories(resize);
        Files.createDirectories(crop);
        Path from = root.resolve(FitLatents.fromFolder(64));
        Files.move(from.resolve("sample0.safetensors"), resize.resolve("a.safetensors"));
        Files.move(from.resolve("sample1.safetensors"), crop.resolve("a.safetensors"));
        FitLatents resized = new FitLatents(root, 64, "resize"), cropped = new FitLatents(root, 64, "crop"), random = new FitLatents(root, 64, "random");
        assertEquals(2, resized.size(), "sample2, then the image with both copies");
        assertEquals(32, resized.batch(new long[]{1}, new boolean[]{false}, new double[1], 0).x().size(2));
        assertEquals(64, cropped.batch(new long[]{1}, new boolean[]{false}, new double[1], 0).x().size(2));
        assertEquals(32, random.batch(new long[]{1}, new boolean[]{false}, new double[]{0.49}, 0).x().size(2));
        assertEquals(64, random.batch(new long[]{1}, new boolean[]{false}, new double[]{0.5}, 0).x().size(2));
        Files.move(resize.resolve("a.safetensors"), from.resolve("a.safetensors"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FitLatents(root, 64, "resize"));
        assertTrue(e.getMessage().contains("a crop without its resized copy"), e.getMessage());
    }

    @Test
    void badInputsAreOneLineErrors(@TempDir Path dir) throws IOException {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FitLatents(dir, 64, "resize")).getMessage().contains("from_16_to_64"));
        assertThrows(IllegalArgumentException.class, () -> new FitLatents(dir, 64, "sometimes"));
        FitLatents data = new FitLatents(dataset(dir), 64, "resize");
        data.requireLabels(10);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> data.batch(new long[]{2}, new boolean[]{false}, new double[1], 0));
        assertTrue(e.getMessage().contains("sample2.safetensors: class id 10"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FitLatents.Writer(dir, 256, 2, "ema", false, 0));
    }
}
