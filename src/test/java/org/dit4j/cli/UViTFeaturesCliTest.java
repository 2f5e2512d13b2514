package org.dit4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.Fixtures;
import org.dit4j.data.CaptionContexts;
import org.dit4j.data.CenterCrop;
import org.dit4j.data.ImageFolderData;
import org.dit4j.data.LatentShards;
import org.dit4j.io.Images;
import org.dit4j.io.Npy;
import org.dit4j.models.clip.FrozenClipEmbedder;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.pipeline.Vaes;
import org.dit4j.training.TrainingCheckpoint;
import org.dit4j.zoo.Zoo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.dit4j.cli.ForwardCommandTest.stderrOf;
import static org.junit.jupiter.api.Assertions.*;

/**
 * U-ViT's feature data through the CLI, with the tiny VAE (down factor 2: 32-pixel images give 16×16 latents) and the
 * tiny CLIP text tower (77 tokens of width 16): {@code extract-features --moments} and {@code --captions}, then
 * {@code dit4j train} of a tiny uvit-t2i model on the MS-COCO-format pairs, resumed bit for bit.
 */
class UViTFeaturesCliTest {
    private static final String VAE = Fixtures.root().resolve("vae-tiny/weights/ldm/vae-tiny.pt").toString();
    private static final Path CLIP = Fixtures.root().resolve("uvit/clip/text_encoder");
    private static final String GZ = Fixtures.root().resolve("uvit/clip/vocab/bpe_simple_vocab_16e6.txt.gz").toString();
    private static final String T2I = """
            family: uvit-t2i
            schedule: discrete
            img_size: 16
            patch_size: 4
            in_chans: 4
            embed_dim: 32
            depth: 2
            num_heads: 2
            clip_dim: %d
            num_clip_token: 77
            p_uncond: 0.1
            scale_factor: 0.2301
            """;
    @TempDir
    static Path shared;
    private static Path encoder, coco;

    @BeforeAll
    static void textEncoderAndCoco() throws Exception {
        encoder = Files.createDirectories(shared.resolve("clip-tiny"));
        Files.writeString(encoder.resolve("config.json"), new ObjectMapper().readTree(CLIP.resolve("config.json").toFile()).get("hf_config").toString());
        Files.copy(CLIP.resolve("weights/pytorch_model.bin"), encoder.resolve("pytorch_model.bin"));
        coco = shared.resolve("coco");
        png(coco.resolve("train2014/COCO_9.png"), 40, 32);
        png(coco.resolve("train2014/COCO_3.png"), 32, 48);
        png(coco.resolve("train2014/sub/COCO_5.png"), 36, 36);
        // ids out of order; image 7 has no caption (and no file: it is never read)
        Files.writeString(coco.resolve("captions.json"), """
                {"info": {}, "images": [{"id": 9, "file_name": "COCO_9.png"}, {"id": 3, "file_name": "COCO_3.png"},
                  {"id": 7, "file_name": "missing.png"}, {"id": 5, "file_name": "sub/COCO_5.png"}],
                 "annotations": [{"image_id": 3, "id": 1, "caption": "a photo of a cat"}, {"image_id": 5, "id": 2, "caption": "A dog on a mat."},
                  {"image_id": 9, "id": 3, "caption": "two birds"}, {"image_id": 3, "id": 4, "caption": "A PHOTO of  a Cat!"},
                  {"image_id": 5, "id": 5, "caption": "a red car"}, {"image_id": 5, "id": 6, "caption": "a dog, sleeping"}]}
                """);
    }

    private static void png(Path file, int w, int h) throws Exception {
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, ((x * 7 + w) % 256) << 16 | ((y * 11) % 256) << 8 | ((x + y) * 5) % 256);
        ImageIO.write(img, "png", file.toFile());
    }

    private static String[] extractCoco(Path out, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("extract-features", "--captions", coco.resolve("captions.json").toString(),
                "--data", coco.resolve("train2014").toString(), "--out", out.toString(), "--vae", VAE, "--image-size", "32",
                "--text-encoder", encoder.toString(), "--tokenizer", GZ, "--shard-size", "2", "--batch-size", "2"));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    private static Path modelConfig(Path dir, int clipDim) throws Exception {
        Path yaml = dir.resolve("uvit-t2i-" + clipDim + ".yaml");
        Files.writeString(yaml, T2I.formatted(clipDim));
        return yaml;
    }

    @Test
    void momentsAreStoredUnscaledAndTrainingSamplesThem(@TempDir Path dir) throws Exception {
        Path images = dir.resolve("images"), feats = dir.resolve("feats");
        png(images.resolve("a/0.png"), 40, 32);
        png(images.resolve("b/1.png"), 32, 32);
        assertEquals(0, Dit4j.run("extract-features", "--moments", "--vae", VAE, "--data", images.toString(), "--image-size", "32",
                "--out", feats.toString(), "--shard-size", "1"));
        LatentShards shards = new LatentShards(feats);
        assertTrue(shards.moments());
        assertArrayEquals(new long[]{8, 16, 16}, shards.exampleShape(), "mean | logvar: 2·4 channels");
        AutoencoderKL vae = Vaes.load(VAE, Zoo.standard());
        ImageFolderData folder = new ImageFolderData(images, 32);
        INDArray expected = vae.moments(folder.load(1, false).reshape(1, 3, 32, 32));
        Fixtures.assertClose(expected, shards.batch(new long[]{1}, new boolean[]{false}).x(), 0, 0, "example 1 = quant_conv(encoder(x))");
        assertFalse(Files.readString(feats.resolve(LatentShards.MANIFEST)).contains("scaling_factor"), "unscaled");

        // a resumed extraction keeps its setting; a plain one cannot continue it
        String err = stderrOf(() -> assertEquals(2, Dit4j.run("extract-features", "--vae", VAE, "--data", images.toString(), "--image-size", "32",
                "--out", feats.toString(), "--shard-size", "1")));
        assertTrue(err.contains("moments true"), err);
        err = stderrOf(() -> assertEquals(2, Dit4j.run("extract-features", "--moments", "--mode", "--vae", VAE, "--data", images.toString(), "--out", dir.resolve("x").toString())));
        assertTrue(err.contains("--mode") && err.contains("--moments"), err);

        Path yaml = dir.resolve("uvit.yaml");
        Files.writeString(yaml, "family: uvit\nschedule: discrete\nimg_size: 16\npatch_size: 4\nin_chans: 4\nembed_dim: 32\ndepth: 2\nnum_heads: 2\nnum_classes: 3\np_uncond: 0.1\nscale_factor: 0.2301\n");
        Path run = dir.resolve("run");
        String out = ForwardCommandTest.stdoutOf(() -> assertEquals(0, Dit4j.run("train", "--model-config", yaml.toString(), "--features", feats.toString(),
                "--out", run.toString(), "--max-steps", "1", "--batch-size", "2")));
        assertTrue(out.contains("posterior moments sampled every step × 0.2301"), out);
        assertTrue(Files.isDirectory(run.resolve("checkpoints/step-00000001")));
        err = stderrOf(() -> assertEquals(2, Dit4j.run("train", "--model-config", yaml.toString(), "--features", feats.toString(),
                "--out", dir.resolve("spark").toString(), "--max-steps", "1", "--spark", "local[1]")));
        assertTrue(err.contains("--spark") && err.contains("posterior moments"), err);
        assertEquals(1, err.strip().lines().count(), err);
    }

    @Test
    void theMsCocoTrainingConfigIsUViTsSmallTextToImageRecipe() {
        org.dit4j.training.TrainConfig c = org.dit4j.training.TrainConfig.load(Path.of("configs/training/mscoco_uvit_small.yaml"));
        assertEquals(0.9, c.real("beta2"));
        org.dit4j.models.uvit.UViTConfig m = (org.dit4j.models.uvit.UViTConfig) TrainCommand.architecture(c);
        assertTrue(m.isT2I());
        assertEquals(0.23010, m.latentScaleFactor(), "the model config's scale factor");
        assertEquals(768, m.clipDim());
        assertEquals(0.1, m.labelDropout());
    }

    @Test
    void cocoPairsAreExtractedInIdOrderWithAllTheirCaptions(@TempDir Path dir) throws Exception {
        Path feats = dir.resolve("feats");
        String out = ForwardCommandTest.stdoutOf(() -> assertEquals(0, Dit4j.run(extractCoco(feats))));
        assertTrue(out.contains("of 3 images") && out.contains("left out 1 images without captions"), out);
        LatentShards shards = new LatentShards(feats);
        assertTrue(shards.moments());
        assertArrayEquals(new long[]{3, 5, 9}, new long[]{shards.label(0), shards.label(1), shards.label(2)}, "labels are the COCO ids, in order");
        CaptionContexts c = CaptionContexts.of(feats.toString());
        assertNotNull(c);
        assertArrayEquals(new int[]{2, 3, 1}, new int[]{c.captions(0), c.captions(1), c.captions(2)});
        assertArrayEquals(new long[]{77, 16}, c.contextShape());
        // the empty prompt's context is the official FrozenCLIPEmbedder output for "" (fixture prompt 3)
        INDArray official = Npy.read(CLIP.resolve("last_hidden_state.npy"));
        Fixtures.assertClose(official.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(3, 4)), c.empty(), 1e-4, 1e-4, "empty_context.npy");
        Fixtures.assertClose(official.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 2)), c.context(0, 1), 1e-4, 1e-4, "image 3, caption 2");
        FrozenClipEmbedder clip = FrozenClipEmbedder.load(encoder, Path.of(GZ));
        Fixtures.assertClose(clip.encode(List.of("a dog, sleeping")).context(), c.context(1, 2), 1e-5, 1e-5, "image 5, caption 3 (encoded in a batch of 3)");
        // image 9 (40×32): its centre 32×32 square, no resize
        AutoencoderKL vae = Vaes.load(VAE, Zoo.standard());
        CenterCrop.Rgb sq = CenterCrop.squareLanczos(CenterCrop.Rgb.of(Images.decode(coco.resolve("train2014/COCO_9.png")).image()), 32);
        float[] v = new float[3 * 32 * 32];
        for (int ch = 0; ch < 3; ch++) for (int i = 0; i < 32 * 32; i++) v[ch * 1024 + i] = sq.planes()[ch][i] / 127.5f - 1f;
        Fixtures.assertClose(vae.moments(Nd4j.create(v, new long[]{1, 3, 32, 32}, 'c')), shards.batch(new long[]{2}, new boolean[]{false}).x(), 0, 0, "image 9's moments");
        assertEquals(0, Dit4j.run(extractCoco(feats)), "a finished extraction resumes to nothing");
        assertEquals(3, new LatentShards(feats).size());
    }

    @Test
    void aTextToImageUViTTrainsOnCocoPairsAndResumesBitForBit(@TempDir Path dir) throws Exception {
        Path feats = dir.resolve("feats");
        assertEquals(0, Dit4j.run(extractCoco(feats)));
        Path yaml = modelConfig(dir, 16), run = dir.resolve("run"), resumed = dir.resolve("resumed"), replicas = dir.resolve("replicas");
        String[] common = {"train", "--model-config", yaml.toString(), "--features", feats.toString(), "--batch-size", "3", "--max-steps", "2",
                "--set", "ckpt_every=1", "--set", "log_every=1"};
        assertEquals(0, Dit4j.run(concat(common, "--out", run.toString())));
        assertEquals(0, Dit4j.run(concat(common, "--out", resumed.toString(), "--resume", run.resolve("checkpoints/step-00000001").toString())));
        TrainingCheckpoint.State a = TrainingCheckpoint.load(run.resolve("checkpoints/step-00000002")),
                b = TrainingCheckpoint.load(resumed.resolve("checkpoints/step-00000002"));
        TrainingCheckpoint.State first = TrainingCheckpoint.load(run.resolve("checkpoints/step-00000001"));
        for (var e : a.weights().entrySet()) {
            assertEquals(e.getValue(), b.weights().get(e.getKey()), "resumed " + e.getKey());
            assertEquals(a.ema().get(e.getKey()), b.ema().get(e.getKey()), "resumed EMA " + e.getKey());
        }
        assertNotEquals(first.weights().get("context_embed.weight"), a.weights().get("context_embed.weight"), "the context embedding trains");

        // two replicas compute the one-device step up to summation order
        assertEquals(0, Dit4j.run(concat(common, "--out", replicas.toString(), "--devices", "2")));
        Map<String, INDArray> two = TrainingCheckpoint.load(replicas.resolve("checkpoints/step-00000002")).weights();
        for (var e : a.weights().entrySet())
            Fixtures.assertClose(e.getValue(), two.get(e.getKey()), 2e-5, 1e-3, "--devices 2 " + e.getKey());
    }

    @Test
    void wrongDataForATextToImageModelIsAOneLineError(@TempDir Path dir) throws Exception {
        Path feats = dir.resolve("feats");
        assertEquals(0, Dit4j.run(extractCoco(feats)));
        Path wide = modelConfig(dir, 32), narrow = modelConfig(dir, 16);
        String err = stderrOf(() -> assertEquals(2, Dit4j.run("train", "--model-config", wide.toString(), "--features", feats.toString(),
                "--out", dir.resolve("r1").toString(), "--max-steps", "1")));
        assertTrue(err.contains("caption contexts are [77, 16]") && err.contains("clip_dim 32") && err.contains(feats.toString()), err);
        assertEquals(1, err.strip().lines().count(), err);

        Path plain = dir.resolve("plain"), images = dir.resolve("images");
        png(images.resolve("a/0.png"), 32, 32);
        assertEquals(0, Dit4j.run("extract-features", "--vae", VAE, "--data", images.toString(), "--image-size", "32", "--out", plain.toString()));
        err = stderrOf(() -> assertEquals(2, Dit4j.run("train", "--model-config", narrow.toString(), "--features", plain.toString(),
                "--out", dir.resolve("r2").toString(), "--max-steps", "1")));
        assertTrue(err.contains("uvit-t2i model trains on text–image pairs") && err.contains("--captions"), err);
        assertEquals(1, err.strip().lines().count(), err);
        err = stderrOf(() -> assertEquals(2, Dit4j.run("train", "--model", "DiT-S/2", "--features", feats.toString(), "--out", dir.resolve("r3").toString(),
                "--max-steps", "1", "--image-size", "128")));
        assertTrue(err.contains("holds text–image pairs"), err);
        assertFalse(Files.exists(dir.resolve("r1/checkpoints")) || Files.exists(dir.resolve("r2/checkpoints")));

        Path noAnn = dir.resolve("no-annotations.json"), out = dir.resolve("never");
        Files.writeString(noAnn, "{\"images\": [{\"id\": 1, \"file_name\": \"a.png\"}]}");
        err = stderrOf(() -> assertEquals(2, Dit4j.run("extract-features", "--captions", noAnn.toString(), "--data", coco.resolve("train2014").toString(),
                "--out", out.toString(), "--vae", VAE, "--text-encoder", encoder.toString(), "--tokenizer", GZ)));
        assertTrue(err.contains(noAnn.toString()) && err.contains("no 'annotations' list"), err);
        assertEquals(1, err.strip().lines().count(), err);
        assertFalse(Files.exists(out), "nothing written");
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
