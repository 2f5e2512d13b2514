package org.dit4j.training;

import org.dit4j.util.Slices;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** A worker's rows of a draw, made alone, are the rows of the whole draw: what Spark executors rely on. */
class MicroBatchesRowsTest {
    @Test
    void anyRangeOfRowsEqualsThatSliceOfTheFullDraw() {
        TrainConfig cfg = TrainerTest.config(1).set("random_flip", true, "test");
        var data = TrainerTest.colours(3);
        var model = TrainerTest.pixelDiT();
        MicroBatches batches = new MicroBatches(data, model, cfg, 1000);
        int batch = 6;
        for (long step : new long[]{0, 1, 7}) {
            MicroBatches.Draw all = batches.draw(step, batch);
            for (int[] r : new int[][]{{0, 3}, {3, 6}, {2, 5}, {5, 6}}) {
                MicroBatches.Draw part = batches.rows(step, batch, r[0], r[1]);
                String at = "step " + step + " rows " + Arrays.toString(r);
                assertEquals(Slices.range(all.x0(), 0, r[0], r[1]), part.x0(), at);
                assertEquals(Slices.range(all.noise(), 0, r[0], r[1]), part.noise(), at);
                assertArrayEquals(Arrays.copyOfRange(all.t(), r[0], r[1]), part.t(), at);
                assertArrayEquals(Arrays.copyOfRange(all.y(), r[0], r[1]), part.y(), at);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> batches.rows(0, batch, 4, 7));
    }
}
