package org.dit4j.data;

import java.awt.image.BufferedImage;

/**
 * ADM's {@code center_crop_arr} (the official DiT preprocessing): halve with a box filter while the short side is at
 * least twice the target, resize so the short side equals it with bicubic resampling, then crop the centre square.
 * The resampling follows PIL's separable filters (support widened by the scale when shrinking, so it antialiases;
 * bicubic a = −0.5, lanczos a = 3; rounding to 8 bits between passes). PIL computes in fixed point: values may differ by one level.
 */
public final class CenterCrop {
    private CenterCrop() {}

    /** An RGB image as three planes of 0..255 values. */
    public record Rgb(int width, int height, float[][] planes) {
        public static Rgb of(BufferedImage img) {
            int w = img.getWidth(), h = img.getHeight();
            float[][] p = new float[3][w * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int rgb = img.getRGB(x, y);
                    p[0][y * w + x] = (rgb >> 16) & 0xff;
                    p[1][y * w + x] = (rgb >> 8) & 0xff;
                    p[2][y * w + x] = rgb & 0xff;
                }
            return new Rgb(w, h, p);
        }
    }

    /** PIL's resampling filters used here, with their supports. */
    enum Filter {
        BOX(0.5), BICUBIC(2), LANCZOS(3);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            return switch (this) {
                case BOX -> x > -0.5 && x <= 0.5 ? 1 : 0;
                case BICUBIC -> bicubic(x);
                case LANCZOS -> x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
            };
        }
    }

    public static Rgb apply(Rgb img, int size) {
        while (Math.min(img.width(), img.height()) >= 2 * size) img = resize(img, img.width() / 2, img.height() / 2, Filter.BOX);
        double scale = (double) size / Math.min(img.width(), img.height());
        img = resize(img, (int) Math.round(img.width() * scale), (int) Math.round(img.height() * scale), Filter.BICUBIC);
        int cy = (img.height() - size) / 2, cx = (img.width() - size) / 2;
        float[][] out = new float[3][size * size];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
                System.arraycopy(img.planes()[c], (y + cy) * img.width() + cx, out[c], y * size, size);
        return new Rgb(size, size, out);
    }

    /**
     * U-ViT's MS-COCO {@code center_crop} ({@code datasets.py}): the centre square of side min(h, w), offsets
     * {@code (h − crop) // 2}, then PIL's LANCZOS resize to {@code size}.
     */
    public static Rgb squareLanczos(Rgb img, int size) {
        int crop = Math.min(img.width(), img.height()), cy = (img.height() - crop) / 2, cx = (img.width() - crop) / 2;
        float[][] sq = new float[3][crop * crop];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < crop; y++)
                System.arraycopy(img.planes()[c], (y + cy) * img.width() + cx, sq[c], y * crop, crop);
        Rgb square = new Rgb(crop, crop, sq);
        return crop == size ? square : resize(square, size, size, Filter.LANCZOS);
    }

    static Rgb resize(Rgb img, int w, int h, Filter filter) {
        float[][] horiz = new float[3][];
        for (int c = 0; c < 3; c++) horiz[c] = pass(img.planes()[c], img.width(), img.height(), w, true, filter);
        float[][] out = new float[3][];
        for (int c = 0; c < 3; c++) out[c] = pass(horiz[c], w, img.height(), h, false, filter);
        return new Rgb(w, h, out);
    }

    /** One separable resampling pass along x ({@code horizontal}) or y, rounding to 0..255 like PIL's 8-bit passes. */
    private static float[] pass(float[] src, int sw, int sh, int outLen, boolean horizontal, Filter filter) {
        int inLen = horizontal ? sw : sh, other = horizontal ? sh : sw;
        double scale = (double) inLen / outLen, filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
        float[] out = new float[horizontal ? outLen * sh : sw * outLen];
        for (int o = 0; o < outLen; o++) {
            double center = (o + 0.5) * scale;
            int lo = (int) Math.max(0, Math.floor(center - support + 0.5)), hi = (int) Math.min(inLen, Math.floor(center + support + 0.5));
            double[] wts = new double[Math.max(0, hi - lo)];
            double total = 0;
            for (int i = lo; i < hi; i++) {
                double v = (i - center + 0.5) / filterScale;
                wts[i - lo] = filter.weight(v);
                total += wts[i - lo];
            }
            for (int k = 0; k < other; k++) {
                double acc = 0;
                for (int i = lo; i < hi; i++) acc += wts[i - lo] * (horizontal ? src[k * sw + i] : src[i * sw + k]);
                float v = (float) Math.max(0, Math.min(255, Math.round(total == 0 ? 0 : acc / total)));
                if (horizontal) out[k * outLen + o] = v;
                else out[o * sw + k] = v;
            }
        }
        return out;
    }

    /** PIL's {@code sinc_filter}. */
    private static double sinc(double x) {
        if (x == 0) return 1;
        x *= Math.PI;
        return Math.sin(x) / x;
    }

    /** PIL's bicubic kernel, a = −0.5. */
    private static double bicubic(double x) {
        final double a = -0.5;
        x = Math.abs(x);
        if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
        return 0;
    }
}
