package org.dit4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** U-ViT's MS-COCO preprocessing: {@code center_crop} (centre square, PIL LANCZOS) and the captions file as pycocotools reads it. */
class CocoImagesTest {
    /** PIL's lanczos_filter: sinc(x)·sinc(x/3) on (−3, 3). */
    private static double lanczos(double x) {
        if (x <= -3 || x >= 3) return 0;
        return sinc(x) * sinc(x / 3);
    }

    private static double sinc(double x) {
        return x == 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    }

    @Test
    void theCentreSquareIsResizedWithPilsLanczosFilter() {
        // 6 wide, 8 high: the square is rows 1..6 (offset (8 − 6) // 2), each the ramp 0, 50, ..., 250; rows 0 and 7 are 255
        int w = 6, h = 8;
        float[][] planes = new float[3][w * h];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) planes[c][y * w + x] = y == 0 || y == h - 1 ? 255 : 50 * x;
        CenterCrop.Rgb out = CenterCrop.squareLanczos(new CenterCrop.Rgb(w, h, planes), 3);
        assertEquals(3, out.width());
        assertEquals(3, out.height());
        // by hand: scale 2, the filter widened ×2 (support 6), output o centred at 2o + 1 in input pixels
        for (int o = 0; o < 3; o++) {
            double center = 2 * o + 1, acc = 0, total = 0;
            for (int i = 0; i < 6; i++) {
                double wt = lanczos((i - center + 0.5) / 2);
                acc += wt * 50 * i;
                total += wt;
            }
            float expected = (float) Math.max(0, Math.min(255, Math.round(acc / total)));
            for (int y = 0; y < 3; y++) assertEquals(expected, out.planes()[1][y * 3 + o], "column " + o + " row " + y);
        }
        CenterCrop.Rgb same = CenterCrop.squareLanczos(new CenterCrop.Rgb(w, h, planes), 6);
        assertEquals(0, same.planes()[0][0]);
        assertEquals(250, same.planes()[0][5], "a square of the target size is only cropped");
    }

    @Test
    void captionsFollowTheImagesIdsAndTheAnnotationOrder(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("captions_train2014.json");
        Files.writeString(f, "{\"images\": [{\"id\": 20, \"file_name\": \"b.jpg\"}, {\"id\": 4, \"file_name\": \"a.jpg\"}, {\"id\": 9, \"file_name\": \"c.jpg\"}],"
                + " \"annotations\": [{\"image_id\": 20, \"caption\": \"x\"}, {\"image_id\": 4, \"caption\": \"y\"}, {\"image_id\": 20, \"caption\": \"z\"},"
                + " {\"image_id\": 77, \"caption\": \"of no listed image\"}]}");
        CocoCaptions c = CocoCaptions.read(f);
        assertEquals(List.of(new CocoCaptions.Image(4, "a.jpg", List.of("y")), new CocoCaptions.Image(20, "b.jpg", List.of("x", "z"))), c.images());
        assertEquals(1, c.uncaptioned());

        String[][] bad = {{"[]", "no 'images' list"}, {"{\"images\": []}", "no 'annotations' list"},
                {"{\"images\": [{\"id\": \"1\", \"file_name\": \"a\"}], \"annotations\": []}", "images[0] needs an integer 'id'"},
                {"{\"images\": [{\"id\": 1, \"file_name\": \"a\"}], \"annotations\": [{\"image_id\": 1}]}", "annotations[0] needs"},
                {"{\"images\": [{\"id\": 1, \"file_name\": \"a\"}, {\"id\": 1, \"file_name\": \"b\"}], \"annotations\": []}", "listed twice"},
                {"{\"images\": [{\"id\": 1, \"file_name\": \"a\"}], \"annotations\": []}", "no image has a caption"},
                {"{not json", "not valid JSON"}};
        for (String[] b : bad) {
            Files.writeString(f, b[0]);
            var e = assertThrows(IllegalArgumentException.class, () -> CocoCaptions.read(f));
            assertTrue(e.getMessage().contains(b[1]) && e.getMessage().contains(f.toString()), e.getMessage());
        }
    }
}
