package org.dit4j.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.dit4j.data.CenterCrop;
import org.dit4j.data.CocoCaptions;
import org.dit4j.data.FitLatents;
import org.dit4j.data.FitResize;
import org.dit4j.data.ImageFolderData;
import org.dit4j.data.LatentShards;
import org.dit4j.diffusion.NoiseSource;
import org.dit4j.io.Images;
import org.dit4j.io.WeightsFormatException;
import org.dit4j.models.clip.FrozenClipEmbedder;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.pipeline.Vaes;
import org.dit4j.zoo.Zoo;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "extract-features", mixinStandardHelpOptions = true,
        description = "Encode an ImageNet-format folder (or MS-COCO images with --captions) once with the VAE into latent shards for dit4j train --features (resumable).")
public final class ExtractFeaturesCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "ImageNet-format folder (root/<class>/<images>); with --captions the images' folder (train2014/).")
    Path data;

    @Option(names = "--out", required = true, description = "Feature folder (manifest.json + shards).")
    Path out;

    @Option(names = "--vae", defaultValue = "ema", description = "mse, ema or a weights path (default: ${DEFAULT-VALUE}, as train.py).")
    String vae;

    @Option(names = "--image-size", defaultValue = "256", description = "Centre-crop size in pixels (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--mode", description = "Store the posterior mean instead of a sample.")
    boolean mode;

    @Option(names = "--moments", description = "Store the posterior moments (mean and log-variance, 2·C channels, unscaled) as U-ViT's"
            + " feature scripts do; training draws a fresh sample × scale_factor every step.")
    boolean moments;

    @Option(names = "--captions", paramLabel = "FILE", description = "Text–image pairs, U-ViT's extract_mscoco_feature.py: an MS-COCO captions"
            + " JSON (captions_train2014.json layout) for the images in --data; stores each image's moments (centre square, LANCZOS),"
            + " the CLIP contexts of all its captions and the empty prompt's context.")
    Path captions;

    @Option(names = "--text-encoder", defaultValue = ExtractTextFeaturesCommand.DEFAULT_TEXT_ENCODER, paramLabel = "PATH|NAME",
            description = "With --captions: a Hugging Face CLIP folder or a zoo name (default: ${DEFAULT-VALUE}).")
    String textEncoder;

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "With --captions: vocab.json + merges.txt folder or file, or openai's"
            + " bpe_simple_vocab_16e6.txt.gz (default: the files beside the text encoder).")
    Path tokenizer;

    @Option(names = "--flip", description = "Also store the latents of the mirrored images (training picks one at random).")
    boolean flip;

    @Option(names = "--shard-size", defaultValue = "1024", description = "Examples per shard (default: ${DEFAULT-VALUE}).")
    int shardSize;

    @Option(names = "--batch-size", defaultValue = "8", description = "Images per VAE call (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the posterior samples (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--fit", description = "FiT latents: each image at its own aspect ratio with at most --max-tokens tokens (FiT's resize rule,"
            + " a centre crop too when both sides exceed S), image and mirror, one file per image in the official folders.")
    boolean fit;

    @Option(names = "--max-tokens", defaultValue = "256", description = "With --fit: tokens per image at most, a square L; S = 8·p·sqrt(L) pixels"
            + " (default: ${DEFAULT-VALUE}, S = 256).")
    int maxTokens;

    @Option(names = "--patch-size", defaultValue = "2", description = "With --fit: the model's patch size p (default: ${DEFAULT-VALUE}).")
    int patchSize;

    @Override
    public Integer call() throws Exception {
        if (fit && (moments || captions != null)) throw new IllegalArgumentException("--fit stores FiT's sampled latents: --moments and --captions are U-ViT's features");
        if (fit) return extractFit();
        if (shardSize <= 0 || batchSize <= 0) throw new IllegalArgumentException("--shard-size and --batch-size must be positive");
        if (mode && (moments || captions != null)) throw new IllegalArgumentException("--mode stores the posterior mean, --moments and --captions the mean and log-variance: give one");
        if (captions != null) return extractCaptioned();
        ImageFolderData images = new ImageFolderData(data, imageSize);
        LatentShards.Writer writer = new LatentShards.Writer(out, imageSize, vae, flip, mode, seed, moments, null, null);
        AutoencoderKL model = Vaes.load(vae, Zoo.standard());
        long start = writer.done();
        if (start > 0) System.out.println("resuming after " + start + " of " + images.size() + " images");
        try (ProgressBar bar = System.console() == null ? null : new ProgressBarBuilder().setTaskName("encoding")
                .setStyle(ProgressBarStyle.ASCII).setInitialMax(images.size()).setUnit(" images", 1).build()) {
            for (long s = start; s < images.size(); s += shardSize) {
                int n = (int) Math.min(shardSize, images.size() - s);
                List<INDArray> latents = new ArrayList<>(), flipped = new ArrayList<>();
                long[] labels = new long[n];
                for (int b = 0; b < n; b += batchSize) {
                    int m = Math.min(batchSize, n - b);
                    List<INDArray> xs = new ArrayList<>(), fs = new ArrayList<>();
                    for (int k = 0; k < m; k++) {
                        int i = (int) (s + b + k);
                        INDArray x = images.load(i, false);
                        if (x == null) throw new IllegalArgumentException(images.problem(i) + "; remove it and run again (extraction resumes)");
                        xs.add(x.reshape(1, 3, imageSize, imageSize));
                        if (flip) fs.add(images.load(i, true).reshape(1, 3, imageSize, imageSize));
                        labels[b + k] = images.label(i);
                    }
                    long first = s + b;
                    latents.add(encode(model, Nd4j.concat(0, xs.toArray(new INDArray[0])), first, "plain"));
                    if (flip) flipped.add(encode(model, Nd4j.concat(0, fs.toArray(new INDArray[0])), first, "flipped"));
                    if (bar != null) bar.stepTo(first + m);
                }
                writer.append(Nd4j.concat(0, latents.toArray(new INDArray[0])), labels,
                        flip ? Nd4j.concat(0, flipped.toArray(new INDArray[0])) : null);
            }
        }
        System.out.println("extracted " + writer.done() + (moments ? " posterior moments" : " latents") + " to " + out + " (" + images.describe() + ")");
        return 0;
    }

    /**
     * U-ViT's {@code extract_mscoco_feature.py} and {@code extract_empty_feature.py}: per image (increasing COCO id) its
     * moments and the contexts of all its captions, plus the empty prompt's context; the labels are the COCO ids.
     */
    private Integer extractCaptioned() throws Exception {
        if (flip) throw new IllegalArgumentException("--captions stores U-ViT's MS-COCO features, which are not flipped: drop --flip");
        if (!Files.isDirectory(data)) throw new IllegalArgumentException("--data " + data + ": no such image folder");
        if (tokenizer != null && !Files.exists(tokenizer)) throw new IllegalArgumentException("--tokenizer: no such file or folder " + tokenizer);
        CocoCaptions coco = CocoCaptions.read(captions);
        Zoo zoo = Zoo.standard();
        if (!Files.exists(Path.of(textEncoder)) && !(zoo.contains(textEncoder) && zoo.entry(textEncoder).isTextEncoder()))
            throw new IllegalArgumentException("--text-encoder: '" + textEncoder + "' is neither a file or folder nor a zoo text encoder ("
                    + ExtractTextFeaturesCommand.DEFAULT_TEXT_ENCODER + ")");
        Path root = data.toAbsolutePath().normalize();
        for (CocoCaptions.Image img : coco.images())
            if (!root.resolve(img.fileName()).normalize().startsWith(root))
                throw new IllegalArgumentException(captions + ": image " + img.id() + "'s file_name '" + img.fileName() + "' leaves --data " + data);
        FrozenClipEmbedder clip = zoo.loadTextEncoder(textEncoder, tokenizer);
        AutoencoderKL model = Vaes.load(vae, zoo);
        INDArray empty = clip.encode(List.of("")).context();
        LatentShards.Writer writer = new LatentShards.Writer(out, imageSize, vae, false, false, seed, true, textEncoder,
                empty.reshape(empty.size(1), empty.size(2)));
        List<CocoCaptions.Image> images = coco.images();
        long start = writer.done(), truncated = 0;
        if (start > 0) System.out.println("resuming after " + start + " of " + images.size() + " images");
        try (ProgressBar bar = System.console() == null ? null : new ProgressBarBuilder().setTaskName("encoding")
                .setStyle(ProgressBarStyle.ASCII).setInitialMax(images.size()).setUnit(" images", 1).build()) {
            for (long s = start; s < images.size(); s += shardSize) {
                int n = (int) Math.min(shardSize, images.size() - s);
                List<INDArray> latents = new ArrayList<>(), contexts = new ArrayList<>();
                long[] ids = new long[n], counts = new long[n];
                for (int b = 0; b < n; b += batchSize) {
                    int m = Math.min(batchSize, n - b);
                    List<INDArray> xs = new ArrayList<>();
                    for (int k = 0; k < m; k++) {
                        CocoCaptions.Image img = images.get((int) (s + b + k));
                        CenterCrop.Rgb rgb;
                        try {
                            rgb = CenterCrop.Rgb.of(Images.decode(root.resolve(img.fileName())).image());
                        } catch (WeightsFormatException e) {
                            throw new IllegalArgumentException(e.getMessage() + " (image " + img.id() + " of " + captions + ")");
                        }
                        xs.add(pixels(CenterCrop.squareLanczos(rgb, imageSize)));
                        FrozenClipEmbedder.Encoded enc = clip.encode(img.captions());
                        for (int d : enc.dropped()) if (d > 0) truncated++;
                        contexts.add(enc.context());
                        ids[b + k] = img.id();
                        counts[b + k] = img.captions().size();
                    }
                    latents.add(model.moments(Nd4j.concat(0, xs.toArray(new INDArray[0]))));
                    if (bar != null) bar.stepTo(s + b + m);
                }
                writer.append(Nd4j.concat(0, latents.toArray(new INDArray[0])), ids, null, Nd4j.concat(0, contexts.toArray(new INDArray[0])), counts);
            }
        }
        if (truncated > 0) System.err.println("dit4j extract-features: warning: " + truncated + " captions were longer than " + clip.maxLength() + " tokens and were truncated");
        System.out.println("extracted the posterior moments of " + writer.done() + " images with their caption contexts to " + out
                + (coco.uncaptioned() > 0 ? "; left out " + coco.uncaptioned() + " images without captions" : ""));
        return 0;
    }

    /** An image of 0..255 planes as U-ViT's MS-COCO tensor (1, 3, h, w): v / 127.5 − 1. */
    private static INDArray pixels(CenterCrop.Rgb img) {
        int w = img.width(), h = img.height();
        float[] v = new float[3 * w * h];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < w * h; i++) v[c * w * h + i] = img.planes()[c][i] / 127.5f - 1f;   // float32, as numpy computes it
        return Nd4j.create(v, new long[]{1, 3, h, w}, 'c');
    }

    /**
     * FiT's preprocessing ({@link FitResize}), resumable: an image whose resized file exists is done (its crop is
     * written first, so a crash leaves no resized copy without its crop). Images under 16 tokens are skipped, as the
     * official dataset's {@code less_than_16} folder is not read by training.
     */
    private Integer extractFit() throws Exception {
        int root = (int) Math.round(Math.sqrt(maxTokens));
        if (maxTokens < 16 || root * root != maxTokens) throw new IllegalArgumentException("--max-tokens must be a square of at least 16 (256, 1024, ...), got " + maxTokens);
        if (patchSize < 1 || patchSize > 16) throw new IllegalArgumentException("--patch-size must be in [1, 16], got " + patchSize);
        AutoencoderKL model = Vaes.load(vae, Zoo.standard());
        int multiple = model.config().downFactor() * patchSize, size = root * multiple;
        ImageFolderData images = new ImageFolderData(data, size);
        FitLatents.Writer writer = new FitLatents.Writer(out, maxTokens, patchSize, vae, mode, seed);
        long written = 0, small = 0, unreadable = 0, crops = 0;
        try (ProgressBar bar = System.console() == null ? null : new ProgressBarBuilder().setTaskName("encoding")
                .setStyle(ProgressBarStyle.ASCII).setInitialMax(images.size()).setUnit(" images", 1).build()) {
            for (int i = 0; i < images.size(); i++) {
                if (bar != null) bar.stepTo(i);
                String name = String.format("%08d", i);
                if (Files.exists(writer.file(FitResize.Kind.FROM_16, false, name)) || Files.exists(writer.file(FitResize.Kind.GREATER, false, name))) continue;
                CenterCrop.Rgb rgb;
                try {
                    rgb = CenterCrop.Rgb.of(Images.decode(images.file(i)).image());
                } catch (WeightsFormatException e) {
                    System.err.println("dit4j extract-features: warning: skipping " + e.getMessage());
                    unreadable++;
                    continue;
                }
                FitResize.Kind kind = FitResize.kind(rgb.width(), rgb.height(), size, multiple);
                if (kind == FitResize.Kind.LESS_THAN_16) {
                    small++;
                    continue;
                }
                if (kind == FitResize.Kind.GREATER && FitResize.cropsToo(rgb.width(), rgb.height(), size)) {
                    writer.write(writer.file(kind, true, name), encodeFit(model, CenterCrop.apply(rgb, size), images.label(i), i, "crop"));
                    crops++;
                }
                writer.write(writer.file(kind, false, name), encodeFit(model, FitResize.resize(rgb, size, multiple), images.label(i), i, "resize"));
                written++;
            }
        }
        System.out.println("extracted FiT latents of " + written + " images (" + crops + " with a crop) to " + out + "; skipped " + small
                + " under 16 tokens and " + unreadable + " unreadable (" + images.describe() + ")");
        return 0;
    }

    /** One image and its mirror → the file's tensors (latents × 0.18215, patchified). */
    private Map<String, INDArray> encodeFit(AutoencoderKL model, CenterCrop.Rgb img, long label, int index, String variant) {
        int w = img.width(), h = img.height();
        float[] plain = new float[3 * w * h], mirror = new float[3 * w * h];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float v = (img.planes()[c][y * w + x] / 255f - 0.5f) / 0.5f;
                    plain[(c * h + y) * w + x] = v;
                    mirror[(c * h + y) * w + (w - 1 - x)] = v;
                }
        long first = index;
        INDArray z = encode(model, Nd4j.create(plain, new long[]{1, 3, h, w}, 'c'), first, variant);
        INDArray zm = encode(model, Nd4j.create(mirror, new long[]{1, 3, h, w}, 'c'), first, variant + "-flipped");
        return FitLatents.item(z.slice(0), zm.slice(0), patchSize, label);
    }

    /** Posterior sample (seeded by the position of the first image, so a resumed run draws the same) × 0.18215, or the moments. */
    private INDArray encode(AutoencoderKL model, INDArray x, long first, String variant) {
        if (moments) return model.moments(x);
        AutoencoderKL.Posterior p = model.encode(x);
        INDArray z = mode ? p.mode() : p.sample(NoiseSource.seeded(seed ^ (first * 0x9E3779B97F4A7C15L) ^ variant.hashCode()).next(p.mean().shape()));
        return model.scale(z);
    }
}
