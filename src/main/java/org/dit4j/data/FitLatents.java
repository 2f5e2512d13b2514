package org.dit4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dit4j.io.AtomicFiles;
import org.dit4j.io.Safetensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.stream.Stream;

/**
 * FiT's latent dataset as the official {@code IN1kLatentDataset} reads it (whlzy/FiT {@code fit/data/in1k_latent_dataset.py}):
 * one safetensors file per image with {@code feature} (2, h, w, p·p·C) — the patchified latents (× 0.18215, tokens in
 * (c p1 p2) order) of the image and of its mirror — {@code grid} (2, h·w) (row 0 column index, row 1 row index),
 * {@code size} (h, w) and {@code label} (1), in the folders {@code from_16_to_<L>}, {@code greater_than_<L>_resize} and
 * {@code greater_than_<L>_crop} (a crop shares its file name with the resized copy). The official downloads read as they
 * are; {@code dit4j extract-features --fit} writes the same layout. Files are read when a batch needs them.
 * <p>
 * A batch is the official collate plus {@code train_fit.py}'s trim: tokens zero-padded to the longest sequence of the
 * batch (or to a fixed length), the mask 1 on the first h·w tokens.
 */
public final class FitLatents implements TrainingData {
    public static final String MANIFEST = "manifest.json", FORMAT = "dit4j-fit-latents-v1";
    /** {@code random}: which copy an image with a crop uses. */
    public static final List<String> VARIANTS = List.of("resize", "crop", "random");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A padded batch: x (B, p·p·C, N), grid (B, 2, N) int64, mask (B, N) 1 on real tokens, sizes (B, 2) = (h, w), labels. */
    public record Padded(INDArray x, INDArray grid, INDArray mask, INDArray sizes, long[] labels) {}

    /** One dataset file's tensors, checked against each other. */
    public record Item(float[][] feature, int h, int w, long label, Path file) {}

    private final Path root;
    private final int targetLen;
    private final String random;
    private final List<Path[]> files = new ArrayList<>();
    private final int channels;
    private int numClasses = -1;

    /** The dataset under {@code root} with {@code target_len} tokens, choosing copies by {@code random} (resize, crop, random). */
    public FitLatents(Path root, int targetLen, String random) {
        if (!VARIANTS.contains(random)) throw new IllegalArgumentException("random must be one of " + VARIANTS + ", got '" + random + "'");
        if (targetLen < 1) throw new IllegalArgumentException("target_len must be at least 1, got " + targetLen);
        this.root = root;
        this.targetLen = targetLen;
        this.random = random;
        if (!Files.isDirectory(root)) throw new IllegalArgumentException("FiT latents " + root + ": no such directory");
        Path from = root.resolve(fromFolder(targetLen)), resize = root.resolve(resizeFolder(targetLen)), crop = root.resolve(cropFolder(targetLen));
        if (!Files.isDirectory(from) && !Files.isDirectory(resize))
            throw new IllegalArgumentException("FiT latents " + root + ": neither " + fromFolder(targetLen) + "/ nor " + resizeFolder(targetLen)
                    + "/ (make them with dit4j extract-features --fit --max-tokens " + targetLen + ")");
        // The official order is os.listdir's; here every listing is sorted by name so runs are reproducible.
        List<String> f1 = list(from), f2 = list(resize), f3 = list(crop);
        Set<String> cropped = new HashSet<>(f3), resized = new HashSet<>(f2);
        for (String f : f1) files.add(new Path[]{from.resolve(f)});
        for (String f : f2) if (!cropped.contains(f)) files.add(new Path[]{resize.resolve(f)});
        for (String f : f3) {
            if (!resized.contains(f)) throw new IllegalArgumentException(crop.resolve(f) + ": a crop without its resized copy in " + resizeFolder(targetLen));
            files.add(new Path[]{resize.resolve(f), crop.resolve(f)});
        }
        if (files.isEmpty()) throw new IllegalArgumentException("FiT latents " + root + ": no .safetensors files");
        Item first = read(files.get(0)[0]);
        channels = first.feature()[0].length / (first.h() * first.w());
    }

    public static String fromFolder(int targetLen) {
        return "from_16_to_" + targetLen;
    }

    public static String resizeFolder(int targetLen) {
        return "greater_than_" + targetLen + "_resize";
    }

    public static String cropFolder(int targetLen) {
        return "greater_than_" + targetLen + "_crop";
    }

    private static List<String> list(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors")).sorted().toList();
        } catch (IOException e) {
            throw new IllegalArgumentException(dir + ": cannot list (" + e.getMessage() + ")");
        }
    }

    /** One file: feature[v][k] is token k (row-major) of copy v (0 plain, 1 mirrored), p·p·C values. */
    public static Item read(Path file) {
        Map<String, INDArray> t = Safetensors.read(file);
        for (String k : List.of("feature", "grid", "size", "label"))
            if (!t.containsKey(k)) throw new IllegalArgumentException(file + ": no '" + k + "' tensor (expected feature, grid, size, label)");
        INDArray f = t.get("feature"), size = t.get("size");
        if (size.length() != 2) throw new IllegalArgumentException(file + ": size has shape " + Arrays.toString(size.shape()) + ", expected (2)");
        long[] hw = size.castTo(DataType.LONG).toLongVector();
        if (f.rank() != 4 || f.size(0) != 2 || f.size(1) != hw[0] || f.size(2) != hw[1] || hw[0] < 1 || hw[1] < 1)
            throw new IllegalArgumentException(file + ": feature has shape " + Arrays.toString(f.shape()) + ", expected (2, " + hw[0] + ", " + hw[1] + ", C)");
        if (!Arrays.equals(t.get("grid").shape(), new long[]{2, hw[0] * hw[1]}))
            throw new IllegalArgumentException(file + ": grid has shape " + Arrays.toString(t.get("grid").shape()) + ", expected (2, " + hw[0] * hw[1] + ")");
        if (t.get("label").length() != 1) throw new IllegalArgumentException(file + ": label must hold one class id");
        int c = (int) f.size(3), n = (int) (hw[0] * hw[1]);
        INDArray flat = f.castTo(DataType.FLOAT).dup('c').reshape('c', 2, (long) n * c);
        return new Item(new float[][]{flat.getRow(0).toFloatVector(), flat.getRow(1).toFloatVector()}, (int) hw[0], (int) hw[1],
                t.get("label").castTo(DataType.LONG).getLong(0), file);
    }

    /** The tensors of one file: latents (C, H, W) of the image and of its mirror, patchified with patch {@code p}. */
    public static Map<String, INDArray> item(INDArray latent, INDArray mirrored, int p, long label) {
        long c = latent.size(0), h = latent.size(1) / p, w = latent.size(2) / p;
        INDArray[] copies = new INDArray[2];
        int i = 0;
        for (INDArray l : new INDArray[]{latent, mirrored}) {
            INDArray v = l.castTo(DataType.FLOAT).dup('c').reshape('c', c, h, p, w, p);               // c h p1 w p2
            copies[i++] = v.permute(1, 3, 0, 2, 4).dup('c').reshape('c', 1, h, w, c * p * p);         // 1 h w (c p1 p2)
        }
        float[] grid = new float[(int) (2 * h * w)];
        for (int k = 0; k < h * w; k++) {
            grid[k] = k % w;                     // row 0: column index
            grid[(int) (h * w) + k] = k / w;     // row 1: row index
        }
        Map<String, INDArray> t = new LinkedHashMap<>();
        t.put("feature", Nd4j.concat(0, copies));
        t.put("grid", Nd4j.create(grid, new long[]{2, h * w}, 'c'));
        t.put("size", Nd4j.createFromArray(h, w));
        t.put("label", Nd4j.createFromArray(label));
        return t;
    }

    @Override
    public int size() {
        return files.size();
    }

    public int targetLen() {
        return targetLen;
    }

    /** The copies of example {@code i}: its resized file, then its crop where there is one. */
    public Path[] files(int i) {
        return files.get(i).clone();
    }

    /** Reads the file: labels are not kept in memory (an ImageNet run has 1.3 M files). */
    @Override
    public long label(int i) {
        return read(files.get(i)[0]).label();
    }

    /** Labels are checked as batches read them (naming the file), not by reading every file up front. */
    @Override
    public void requireLabels(int numClasses) {
        this.numClasses = numClasses;
    }

    /** (p·p·C, target_len): the padded sequences a model with that token width and context takes. */
    @Override
    public long[] exampleShape() {
        return new long[]{channels, targetLen};
    }

    /** Padded sequences fit any FiT whose tokens have {@code expected[0]} channels. */
    @Override
    public void requireExampleShape(long[] expected) {
        if (expected.length != 2 || expected[0] != channels)
            throw new IllegalArgumentException("FiT latents " + root + " have tokens of " + channels + " values, the model takes "
                    + (expected.length == 2 ? expected[0] : Arrays.toString(expected)));
    }

    /** Batches padded to target_len, the plain copy where {@code flips} is false and the mirrored one otherwise. */
    @Override
    public Batch batch(long[] indices, boolean[] flips) {
        Padded p = batch(indices, flips, new double[indices.length], targetLen);
        return new Batch(p.x(), p.labels());
    }

    /**
     * {@code __getitem__} for each index, collated, trimmed: {@code flips[i]} takes {@code feature[1]} (the official
     * {@code torch.rand(1) < 0.5} takes {@code feature[0]}); {@code choice[i]} ∈ [0, 1) picks the copy under
     * {@code random='random'}; {@code padTo} 0 pads to the longest sequence of the batch, else to that many tokens.
     */
    public Padded batch(long[] indices, boolean[] flips, double[] choice, int padTo) {
        int b = indices.length;
        Item[] items = new Item[b];
        int longest = 0;
        for (int k = 0; k < b; k++) {
            Path[] copies = files.get((int) indices[k]);
            Path f = switch (random) {
                case "resize" -> copies[0];
                case "crop" -> copies[copies.length - 1];
                default -> copies[Math.min(copies.length - 1, (int) (choice[k] * copies.length))];
            };
            items[k] = read(f);
            Item it = items[k];
            if (it.feature()[0].length != (long) it.h() * it.w() * channels)
                throw new IllegalArgumentException(f + ": tokens of " + it.feature()[0].length / ((long) it.h() * it.w()) + " values, the others have " + channels);
            if ((long) it.h() * it.w() > targetLen)
                throw new IllegalArgumentException(f + ": " + it.h() * it.w() + " tokens, more than target_len " + targetLen);
            if (numClasses > 0 && (it.label() < 0 || it.label() >= numClasses))
                throw new IllegalArgumentException(f + ": class id " + it.label() + ", the model's classes are 0.." + (numClasses - 1));
            longest = Math.max(longest, it.h() * it.w());
        }
        int n = padTo > 0 ? padTo : longest;
        if (n < longest) throw new IllegalArgumentException("cannot pad " + longest + " tokens to " + n);
        float[] x = new float[b * channels * n], mask = new float[b * n];
        long[] grid = new long[b * 2 * n], sizes = new long[2 * b], labels = new long[b];
        for (int k = 0; k < b; k++) {
            Item it = items[k];
            float[] tokens = it.feature()[flips[k] ? 1 : 0];
            int real = it.h() * it.w();
            for (int j = 0; j < real; j++) {
                for (int c = 0; c < channels; c++) x[(k * channels + c) * n + j] = tokens[j * channels + c];   // B N C -> B C N
                grid[(k * 2) * n + j] = j % it.w();
                grid[(k * 2 + 1) * n + j] = j / it.w();
                mask[k * n + j] = 1f;
            }
            sizes[2 * k] = it.h();
            sizes[2 * k + 1] = it.w();
            labels[k] = it.label();
        }
        return new Padded(Nd4j.create(x, new long[]{b, channels, n}, 'c'), Nd4j.create(grid, new long[]{b, 2, n}, DataType.LONG),
                Nd4j.create(mask, new long[]{b, n}, 'c'), Nd4j.create(sizes, new long[]{b, 2}, DataType.LONG), labels);
    }

    @Override
    public String describe() {
        long crops = files.stream().filter(f -> f.length == 2).count();
        return files.size() + " FiT latent files (" + crops + " with a crop, random=" + random + ", target_len " + targetLen + ") in " + root;
    }

    /** Writes one file per image into the official folders, resumably: an existing file is an image already done. */
    public static final class Writer {
        private final Path dir;
        private final int targetLen;

        /** Resuming needs the settings of the interrupted run (recorded in manifest.json). */
        public Writer(Path dir, int targetLen, int patchSize, String vae, boolean mode, long seed) throws IOException {
            this.dir = dir;
            this.targetLen = targetLen;
            Files.createDirectories(dir);
            Path m = dir.resolve(MANIFEST);
            ObjectNode want = JSON.createObjectNode();
            want.put("format", FORMAT);
            want.put("target_len", targetLen);
            want.put("patch_size", patchSize);
            want.put("vae", vae);
            want.put("scaling_factor", 0.18215);
            want.put("mode", mode);
            want.put("seed", seed);
            if (Files.isRegularFile(m)) {
                JsonNode have = JSON.readTree(m.toFile());
                if (!have.equals(JSON.readTree(JSON.writeValueAsString(want))))
                    throw new IllegalArgumentException(m + ": an extraction with other settings is already there (" + have
                            + "); resume it with those, or extract to another folder");
            } else {
                byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(want);
                AtomicFiles.write(m, o -> o.write(bytes));
            }
        }

        public Path file(FitResize.Kind kind, boolean crop, String name) {
            String folder = switch (kind) {
                case FROM_16 -> fromFolder(targetLen);
                case GREATER -> crop ? cropFolder(targetLen) : resizeFolder(targetLen);
                case LESS_THAN_16 -> "less_than_16";
            };
            return dir.resolve(folder).resolve(name + ".safetensors");
        }

        public void write(Path file, Map<String, INDArray> tensors) throws IOException {
            Files.createDirectories(file.getParent());
            Safetensors.write(file, tensors, Map.of("format", FORMAT));
        }
    }
}
