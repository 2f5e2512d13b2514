package org.dit4j.models.inception;

/**
 * From an 8-bit RGB image to the network input (3, 299, 299), the two ways the FID tools do it:
 * <ul>
 * <li>{@link #ADM}: ADM's {@code evaluator.py} feeds 0…255 floats to TensorFlow's graph, whose {@code ResizeBilinear}
 * (TF1 legacy rule: {@code src = dst·in/out}, no half-pixel offset) is always applied, then {@code (x − 128)/128};</li>
 * <li>{@link #PYTORCH_FID}: pytorch-fid's {@code ToTensor} ({@code /255}), {@code F.interpolate(bilinear,
 * align_corners=False)} with PyTorch 1.13's CPU index rule, then {@code 2x − 1}.</li>
 * </ul>
 * The two differ by the half-pixel shift whenever the image is resized, and by the scaling (1/128 vs 2/255) always,
 * so features from one are not comparable with statistics from the other.
 */
public enum InceptionPreprocess {
    ADM, PYTORCH_FID;

    public static final int SIZE = 299;

    /** The flag value ({@code adm}, {@code pytorch-fid}). */
    public String flag() {
        return this == ADM ? "adm" : "pytorch-fid";
    }

    public static InceptionPreprocess ofFlag(String s) {
        for (InceptionPreprocess p : values()) if (p.flag().equals(s)) return p;
        throw new IllegalArgumentException("preprocessing must be adm or pytorch-fid, got '" + s + "'");
    }

    /**
     * Writes the (3, 299, 299) input of the HWC uint8 image {@code hwc} (h × w, values 0…255 as bytes, starting at
     * {@code from}) into {@code out} at {@code at}.
     */
    public void apply(byte[] hwc, int from, int h, int w, float[] out, int at) {
        int n = SIZE * SIZE;
        float[] plane = new float[h * w];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < h * w; i++) {
                float v = hwc[from + 3 * i + c] & 0xff;
                plane[i] = this == ADM ? v : v / 255f;
            }
            float[] r = this == ADM ? resizeTf1(plane, h, w) : resizeTorch(plane, h, w);
            for (int i = 0; i < n; i++)
                out[at + c * n + i] = this == ADM ? (r[i] - 128f) * 0.0078125f : 2f * r[i] - 1f;
        }
    }

    /** One axis of PyTorch's {@code upsample_bilinear2d} (align_corners=False): source indices and float32 weights. */
    private record TorchAxis(int[] i0, int[] i1, float[] l0, float[] l1) {
        static TorchAxis of(int in, int out) {
            int[] i0 = new int[out], i1 = new int[out];
            float[] l0 = new float[out], l1 = new float[out];
            float scale = (float) in / (float) out;                                 // a float32 division, as torch 1.13
            for (int d = 0; d < out; d++) {
                double src = Math.max((double) scale * (d + 0.5) - 0.5, 0.0);
                i0[d] = (int) src;
                i1[d] = i0[d] + (i0[d] < in - 1 ? 1 : 0);
                l1[d] = (float) (src - i0[d]);
                l0[d] = 1f - l1[d];
            }
            return new TorchAxis(i0, i1, l0, l1);
        }
    }

    static float[] resizeTorch(float[] src, int h, int w) {
        if (h == SIZE && w == SIZE) return src.clone();
        TorchAxis ay = TorchAxis.of(h, SIZE), ax = TorchAxis.of(w, SIZE);
        float[] out = new float[SIZE * SIZE];
        for (int y = 0; y < SIZE; y++) {
            int r0 = ay.i0[y] * w, r1 = ay.i1[y] * w;
            float l0h = ay.l0[y], l1h = ay.l1[y];
            for (int x = 0; x < SIZE; x++) {
                int c0 = ax.i0[x], c1 = ax.i1[x];
                float l0w = ax.l0[x], l1w = ax.l1[x];
                out[y * SIZE + x] = l0h * (l0w * src[r0 + c0] + l1w * src[r0 + c1]) + l1h * (l0w * src[r1 + c0] + l1w * src[r1 + c1]);
            }
        }
        return out;
    }

    /** One axis of TensorFlow 1's legacy {@code ResizeBilinear} (align_corners=False, no half-pixel centres), float32. */
    private record TfAxis(int[] lo, int[] hi, float[] lerp) {
        static TfAxis of(int in, int out) {
            int[] lo = new int[out], hi = new int[out];
            float[] lerp = new float[out];
            float scale = (float) in / out;
            for (int d = 0; d < out; d++) {
                float src = d * scale;
                lo[d] = (int) Math.floor(src);
                hi[d] = Math.min(lo[d] + 1, in - 1);
                lerp[d] = src - lo[d];
            }
            return new TfAxis(lo, hi, lerp);
        }
    }

    static float[] resizeTf1(float[] src, int h, int w) {
        TfAxis ay = TfAxis.of(h, SIZE), ax = TfAxis.of(w, SIZE);
        float[] out = new float[SIZE * SIZE];
        for (int y = 0; y < SIZE; y++) {
            int r0 = ay.lo[y] * w, r1 = ay.hi[y] * w;
            float dy = ay.lerp[y];
            for (int x = 0; x < SIZE; x++) {
                int c0 = ax.lo[x], c1 = ax.hi[x];
                float dx = ax.lerp[x];
                float top = src[r0 + c0] + (src[r0 + c1] - src[r0 + c0]) * dx;
                float bottom = src[r1 + c0] + (src[r1 + c1] - src[r1 + c0]) * dx;
                out[y * SIZE + x] = top + (bottom - top) * dy;
            }
        }
        return out;
    }
}
