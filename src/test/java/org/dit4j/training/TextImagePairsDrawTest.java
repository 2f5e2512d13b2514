package org.dit4j.training;

import org.dit4j.data.CaptionContexts;
import org.dit4j.data.DataOrder;
import org.dit4j.data.LatentShards;
import org.dit4j.data.TextImagePairs;
import org.dit4j.diffusion.EpsilonObjective;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.uvit.UViTConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * U-ViT's MSCOCOFeatureDataset under CFGDataset, as MicroBatches draws it: a random caption per example, the empty
 * context in the rows where the label-drop stream falls under p_uncond, all from (seed, draw).
 */
class TextImagePairsDrawTest {
    private static final int IMAGES = 4, L = 3, D = 2;

    /** Image i has i + 1 captions; caption k of image i is the constant 10·i + k + 1; the empty context is 0. */
    private static TextImagePairs pairs(Path dir) throws Exception {
        LatentShards.Writer w = new LatentShards.Writer(dir, 4, "ema", false, false, 0, false, "test-encoder", Nd4j.zeros(L, D));
        for (int s = 0; s < 2; s++) {
            int rows = 0;
            for (int i = 2 * s; i < 2 * s + 2; i++) rows += i + 1;
            INDArray ctx = Nd4j.zeros(rows, L, D);
            int r = 0;
            for (int i = 2 * s; i < 2 * s + 2; i++) for (int k = 0; k <= i; k++) ctx.slice(r++).assign(10 * i + k + 1);
            w.append(Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 4, 2, 2), new long[]{100 + 2 * s, 101 + 2 * s}, null, ctx,
                    new long[]{2 * s + 1, 2 * s + 2});
        }
        return new TextImagePairs(new LatentShards(dir), CaptionContexts.of(dir.toString()));
    }

    @Test
    void captionsAreDrawnAtRandomAndReplacedByTheEmptyContextAtRateP(@TempDir Path dir) throws Exception {
        TextImagePairs data = pairs(dir);
        UViTConfig model = (UViTConfig) ModelFamilies.fromYaml("family: uvit-t2i\nschedule: discrete\nimg_size: 2\npatch_size: 2\nin_chans: 4\n"
                + "embed_dim: 8\ndepth: 1\nnum_heads: 1\nclip_dim: " + D + "\nnum_clip_token: " + L + "\np_uncond: 0.25\n", "tiny");
        long seed = 11;
        TrainConfig cfg = TrainConfig.defaultsOnly().set("seed", (int) seed, "test");
        MicroBatches batches = new MicroBatches(data, model, cfg, EpsilonObjective.stableDiffusionDiscrete());
        DataOrder order = new DataOrder(IMAGES, seed);
        int batch = 40, draws = 50, empty = 0;
        Set<Long> seen = new HashSet<>();
        for (int k = 0; k < draws; k++) {
            MicroBatches.Draw d = batches.draw(k, batch);
            assertArrayEquals(new long[]{batch, L, D}, d.context().shape());
            long[] idx = order.indices((long) k * batch, batch);
            SplittableRandom drop = DataOrder.stream(seed, k, "label-drop");
            for (int i = 0; i < batch; i++) {
                INDArray row = d.context().slice(i);
                double v = row.getDouble(0, 0);
                assertEquals(v, row.maxNumber().doubleValue(), "a whole context per row");
                assertEquals(v, row.minNumber().doubleValue(), "a whole context per row");
                boolean dropped = drop.nextDouble() < 0.25;
                assertEquals(dropped, v == 0, "draw " + k + " row " + i + ": the empty context exactly where the label-drop stream says");
                if (dropped) {
                    empty++;
                    continue;
                }
                long image = ((long) v - 1) / 10, caption = ((long) v - 1) % 10;
                assertEquals(idx[i], image, "a caption of the row's own image");
                assertTrue(caption <= image, "caption " + caption + " of image " + image);
                seen.add((long) v);
            }
            assertEquals(d.context(), batches.draw(k, batch).context(), "a function of (seed, draw)");
        }
        assertEquals(1 + 2 + 3 + 4, seen.size(), "every caption of every image is drawn");
        double rate = (double) empty / (batch * draws);
        assertEquals(0.25, rate, 0.03, "p_uncond");
    }
}
