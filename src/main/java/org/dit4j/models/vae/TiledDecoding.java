package org.dit4j.models.vae;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.function.UnaryOperator;

/**
 * Decodes a large latent in overlapping square tiles and blends them with linear ramps across the overlaps, so memory
 * follows the tile size, not the image size. The mid-block attention then sees one tile at a time, so results differ
 * slightly from a whole-image decode (as with diffusers' {@code enable_tiling}).
 */
public final class TiledDecoding {
    private TiledDecoding() {}

    /**
     * @param z       one latent (1, C, h, w)
     * @param decoder latent tile (1, C, t, t) → image tile (1, 3, t·f, t·f)
     * @param tile    tile side in latent pixels
     * @param overlap overlap in latent pixels (&lt; tile)
     */
    public static INDArray decode(INDArray z, UnaryOperator<INDArray> decoder, int factor, int tile, int overlap) {
        long h = z.size(2), w = z.size(3);
        if (tile <= 0 || overlap < 0 || overlap >= tile) throw new IllegalArgumentException("tile " + tile + " with overlap " + overlap);
        if (h <= tile && w <= tile) return decoder.apply(z);
        INDArray sum = null, weight = Nd4j.zeros(DataType.FLOAT, 1, 1, h * factor, w * factor);
        int stride = tile - overlap;
        for (long y0 : starts(h, tile, stride))
            for (long x0 : starts(w, tile, stride)) {
                long th = Math.min(tile, h), tw = Math.min(tile, w);
                INDArray part = z.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(y0, y0 + th), NDArrayIndex.interval(x0, x0 + tw)).dup('c');
                INDArray img = decoder.apply(part);
                if (sum == null) sum = Nd4j.zeros(DataType.FLOAT, 1, img.size(1), h * factor, w * factor);
                INDArray ramp = ramp(th * factor, tw * factor, overlap * factor, y0 > 0, y0 + th < h, x0 > 0, x0 + tw < w);
                var ys = NDArrayIndex.interval(y0 * factor, (y0 + th) * factor);
                var xs = NDArrayIndex.interval(x0 * factor, (x0 + tw) * factor);
                sum.get(NDArrayIndex.all(), NDArrayIndex.all(), ys, xs).addi(img.mul(ramp));
                weight.get(NDArrayIndex.all(), NDArrayIndex.all(), ys, xs).addi(ramp);
            }
        return sum.div(weight);
    }

    /** Tile origins covering [0, n): a regular stride, the last tile flush with the end. */
    static long[] starts(long n, int tile, int stride) {
        if (n <= tile) return new long[]{0};
        java.util.List<Long> s = new java.util.ArrayList<>();
        for (long p = 0; p + tile < n; p += stride) s.add(p);
        s.add(n - tile);
        return s.stream().distinct().mapToLong(Long::longValue).toArray();
    }

    /** (1, 1, H, W) weights: 1 inside, rising linearly over {@code overlap} pixels on the sides that meet another tile. */
    static INDArray ramp(long height, long width, long overlap, boolean top, boolean bottom, boolean left, boolean right) {
        float[] v = new float[(int) (height * width)];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) {
                float wy = Math.min(top ? edge(y, overlap) : 1f, bottom ? edge(height - 1 - y, overlap) : 1f);
                float wx = Math.min(left ? edge(x, overlap) : 1f, right ? edge(width - 1 - x, overlap) : 1f);
                v[(int) (y * width + x)] = wy * wx;
            }
        return Nd4j.create(v, new long[]{1, 1, height, width}, 'c');
    }

    private static float edge(long d, long overlap) {
        return overlap == 0 ? 1f : Math.min(1f, (d + 0.5f) / overlap);
    }
}
