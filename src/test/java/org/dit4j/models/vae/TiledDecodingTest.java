package org.dit4j.models.vae;

import org.dit4j.Fixtures;
import org.dit4j.diffusion.NoiseSource;
import org.dit4j.io.VaeWeights;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.junit.jupiter.api.Assertions.*;

class TiledDecodingTest {
    /** A "decoder" with no receptive field across pixels: nearest ×2 upsampling of the first 3 channels. */
    private static INDArray nearest(INDArray t) {
        INDArray rgb = t.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3),
                org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all()).dup();
        return rgb.repeat(2, 2).repeat(3, 2);
    }

    @Test
    void blendingIsExactWhenTilesAgreeAndCoversEveryPixel() {
        INDArray z = NoiseSource.seeded(4).next(1, 4, 23, 17);
        INDArray whole = nearest(z);
        for (int[] to : new int[][]{{8, 2}, {8, 0}, {10, 5}, {32, 8}}) {
            INDArray tiled = TiledDecoding.decode(z, TiledDecodingTest::nearest, 2, to[0], to[1]);
            assertTrue(Fixtures.maxAbsDiff(whole, tiled) < 1e-5, "tile " + to[0] + " overlap " + to[1]);
        }
    }

    @Test
    void aTileCoveringTheLatentIsThePlainDecode() {
        AutoencoderKL vae = VaeWeights.loadModel(Fixtures.root().resolve("vae-tiny/weights/ldm/vae-tiny.pt"), null);
        INDArray z = org.dit4j.io.Npy.read(Fixtures.root().resolve("vae-tiny/z_div.npy"));
        assertEquals(vae.decode(z), vae.decodeTiled(z, 16, 4));
        INDArray tiled = vae.decodeTiled(z, 8, 2);
        assertArrayEquals(new long[]{2, 3, 32, 32}, tiled.shape());
        assertTrue(tiled.amaxNumber().doubleValue() < 1e3 && !Double.isNaN(tiled.sumNumber().doubleValue()));
    }

    @Test
    void startsCoverTheRangeFlushWithTheEnd() {
        assertArrayEquals(new long[]{0, 6, 12, 15}, TiledDecoding.starts(23, 8, 6));
        assertArrayEquals(new long[]{0}, TiledDecoding.starts(8, 8, 6));
        assertEquals(1f, TiledDecoding.ramp(4, 4, 2, false, false, false, false).minNumber().floatValue());
    }
}
