package org.dit4j.data;

/**
 * FiT's preprocessing of one image for a maximum of {@code (S / (8·p))²} tokens (whlzy/FiT {@code fit/data/in1k_dataset.py}
 * {@code resize_arr} and the README's recipe): keep the aspect ratio, shrink so that w·h ≤ S² when w·h ≥ S², enlarge a
 * side below 8·p pixels to 8·p, floor both sides to multiples of 8·p, BICUBIC; when both sides exceed S, a second copy
 * is the ADM centre crop to S × S ({@link CenterCrop}).
 */
public final class FitResize {
    /** Which of the official dataset folders an image's latents go to, and whether it has a cropped copy. */
    public enum Kind {
        /** The image already had at most S² pixels: {@code from_16_to_<L>}. */
        FROM_16,
        /** Shrunk to fit: {@code greater_than_<L>_resize}, with {@code greater_than_<L>_crop} when both sides exceed S. */
        GREATER,
        /** Fewer than 16 tokens after resizing (the official {@code less_than_16}, which training does not read). */
        LESS_THAN_16
    }

    private FitResize() {}

    /**
     * {@code resize_arr(image, S, 8, p)}'s target size (new_w, new_h) of a w × h image, in numpy's float64 arithmetic;
     * {@code multiple} = 8·p.
     */
    public static int[] size(int w, int h, int imageSize, int multiple) {
        if (w <= 0 || h <= 0 || imageSize < multiple || multiple <= 0)
            throw new IllegalArgumentException("image " + w + "x" + h + ", size " + imageSize + ", multiple " + multiple);
        double newW, newH;
        if ((long) w * h >= (long) imageSize * imageSize) {
            newW = Math.sqrt((double) w / h) * imageSize;
            newH = newW * h / w;
        } else if (w < multiple) {   // upsample: "this case only happens twice in ImageNet1k_256"
            newW = multiple;
            newH = (double) multiple * h / w;
        } else if (h < multiple) {
            newH = multiple;
            newW = (double) multiple * w / h;
        } else {
            newW = w;
            newH = h;
        }
        return new int[]{(int) (newW / multiple) * multiple, (int) (newH / multiple) * multiple};
    }

    /** The folder an image of w × h pixels belongs to; {@code tokens} is the token count after {@link #size}. */
    public static Kind kind(int w, int h, int imageSize, int multiple) {
        int[] s = size(w, h, imageSize, multiple);
        long tokens = (long) (s[0] / multiple) * (s[1] / multiple);
        if (tokens < 16) return Kind.LESS_THAN_16;
        return (long) w * h > (long) imageSize * imageSize ? Kind.GREATER : Kind.FROM_16;
    }

    /** Whether the README's recipe also stores a centre crop: H > S and W > S. */
    public static boolean cropsToo(int w, int h, int imageSize) {
        return w > imageSize && h > imageSize;
    }

    /** {@code resize_arr}: the image itself when the size is unchanged, else PIL's BICUBIC resize to {@link #size}. */
    public static CenterCrop.Rgb resize(CenterCrop.Rgb img, int imageSize, int multiple) {
        int[] s = size(img.width(), img.height(), imageSize, multiple);
        if (s[0] == img.width() && s[1] == img.height()) return img;
        if (s[0] == 0 || s[1] == 0)
            throw new IllegalArgumentException("a " + img.width() + "x" + img.height() + " image resizes to " + s[0] + "x" + s[1]);
        return CenterCrop.resize(img, s[0], s[1], CenterCrop.Filter.BICUBIC);
    }
}
