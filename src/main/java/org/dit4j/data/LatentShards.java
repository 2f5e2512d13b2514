package org.dit4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dit4j.io.AtomicFiles;
import org.dit4j.io.Npy;
import org.dit4j.util.Slices;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Precomputed VAE latents (what fast-DiT's {@code extract_features.py} and MindONE's {@code preprocess.py} make):
 * a folder with {@code manifest.json} and shards {@code latents-NNNNN.npy} (n, 4, h, w) — already × 0.18215 —
 * with {@code labels-NNNNN.npy} (n) int64 beside each; with {@code flip}, each shard also has
 * {@code latents-flip-NNNNN.npy}, the latents of the mirrored images, and training picks one of the two at random.
 * Shards are written one at a time and listed in the manifest only once complete, so extraction resumes where it stopped.
 * All shards are held in memory while training.
 * <p>
 * With {@code "moments": true} in the manifest ({@code extract-features --moments}) the shards hold the VAE's posterior
 * moments (n, 2·C, h, w) = [mean | logvar], unscaled, as U-ViT's feature scripts store them; training samples them
 * every step ({@link PosteriorSamples}). A text–image folder ({@code --captions}) adds caption contexts beside each
 * shard ({@link CaptionContexts}); its labels are the images' COCO ids.
 */
public final class LatentShards implements TrainingData {
    public static final String MANIFEST = "manifest.json", FORMAT = "dit4j-latents-v1", EMPTY_CONTEXT = "empty_context.npy";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final INDArray latents, flipped;
    private final boolean moments;
    private final long[] labels;
    private final List<Path> labelFiles = new ArrayList<>();
    private final String description;

    public LatentShards(Path dir) {
        Path manifest = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifest)) throw new IllegalArgumentException("latent features " + dir + ": no " + MANIFEST + " (make one with dit4j extract-features)");
        JsonNode m;
        try {
            m = JSON.readTree(manifest.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(manifest + ": not valid JSON (" + e.getMessage() + ")");
        }
        if (!FORMAT.equals(m.path("format").asText())) throw new IllegalArgumentException(manifest + ": format is not " + FORMAT);
        boolean flip = m.path("flip").asBoolean(false);
        moments = m.path("moments").asBoolean(false);
        List<INDArray> xs = new ArrayList<>(), fs = new ArrayList<>();
        List<Long> ys = new ArrayList<>();
        for (JsonNode s : m.path("shards")) {
            INDArray x = Npy.read(dir.resolve(s.path("latents").asText()));
            Path yFile = dir.resolve(s.path("labels").asText());
            long[] y = Npy.read(yFile).castTo(DataType.LONG).toLongVector();
            if (x.rank() != 4 || x.size(0) != y.length)
                throw new IllegalArgumentException(dir.resolve(s.path("latents").asText()) + ": " + Arrays.toString(x.shape()) + " latents for " + y.length + " labels");
            xs.add(x.castTo(DataType.FLOAT));
            if (flip) fs.add(Npy.read(dir.resolve(s.path("flipped").asText())).castTo(DataType.FLOAT));
            for (long l : y) {
                ys.add(l);
                labelFiles.add(yFile);
            }
        }
        if (xs.isEmpty()) throw new IllegalArgumentException(manifest + ": no complete shards");
        latents = Nd4j.concat(0, xs.toArray(new INDArray[0]));
        flipped = flip ? Nd4j.concat(0, fs.toArray(new INDArray[0])) : null;
        labels = ys.stream().mapToLong(Long::longValue).toArray();
        description = labels.length + (moments ? " posterior moments " : " latents ") + Arrays.toString(exampleShape()) + " from " + xs.size() + " shards" + (flip ? " (+ flipped)" : "");
    }

    /** Whether the shards hold posterior moments to sample rather than latents. */
    public boolean moments() {
        return moments;
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public long label(int i) {
        return labels[i];
    }

    @Override
    public void requireLabels(int numClasses) {
        for (int i = 0; i < labels.length; i++)
            if (labels[i] < 0 || labels[i] >= numClasses)
                throw new IllegalArgumentException(labelFiles.get(i) + ": class id " + labels[i] + ", the model's classes are 0.." + (numClasses - 1));
    }

    @Override
    public long[] exampleShape() {
        return Arrays.copyOfRange(latents.shape(), 1, 4);
    }

    @Override
    public Batch batch(long[] indices, boolean[] flips) {
        INDArray[] xs = new INDArray[indices.length];
        long[] ys = new long[indices.length];
        for (int k = 0; k < indices.length; k++) {
            INDArray src = flips[k] && flipped != null ? flipped : latents;
            xs[k] = Slices.range(src, 0, indices[k], indices[k] + 1);
            ys[k] = labels[(int) indices[k]];
        }
        return new Batch(Nd4j.concat(0, xs), ys);
    }

    @Override
    public String describe() {
        return description;
    }

    /** Appends shards to a feature folder, resuming after the last complete shard. */
    public static final class Writer {
        private final Path dir;
        private final ObjectNode manifest;

        public Writer(Path dir, int imageSize, String vae, boolean flip, boolean mode, long seed) throws IOException {
            this(dir, imageSize, vae, flip, mode, seed, false, null, null);
        }

        /**
         * Resuming needs the same settings as the interrupted run: image size, flips, VAE, mean or sample, the seed of
         * the samples, moments or latents, and the text encoder of the captions. A manifest from before dit4j recorded
         * mode and seed is checked on the rest. {@code moments}: the shards hold posterior moments (the seed and mode
         * are unused). {@code textEncoder} and {@code emptyContext} (L, D): a text–image folder, null otherwise.
         */
        public Writer(Path dir, int imageSize, String vae, boolean flip, boolean mode, long seed, boolean moments,
                      String textEncoder, INDArray emptyContext) throws IOException {
            this.dir = dir;
            Files.createDirectories(dir);
            Path m = dir.resolve(MANIFEST);
            if (Files.isRegularFile(m)) {
                manifest = (ObjectNode) JSON.readTree(m.toFile());
                List<String> differ = new ArrayList<>();
                if (manifest.path("image_size").asInt() != imageSize) differ.add("image_size " + manifest.path("image_size").asInt());
                if (manifest.path("flip").asBoolean() != flip) differ.add("flip " + manifest.path("flip").asBoolean());
                if (!manifest.path("vae").asText().equals(vae)) differ.add("vae " + manifest.path("vae").asText());
                if (manifest.has("mode") && manifest.path("mode").asBoolean() != mode) differ.add("mode " + manifest.path("mode").asBoolean());
                if (manifest.has("seed") && !mode && !moments && manifest.path("seed").asLong() != seed) differ.add("seed " + manifest.path("seed").asLong());
                if (manifest.path("moments").asBoolean(false) != moments) differ.add("moments " + manifest.path("moments").asBoolean(false));
                String encoder = manifest.has("captions") ? manifest.path("captions").path("text_encoder").asText() : null;
                if (!java.util.Objects.equals(encoder, textEncoder)) differ.add(encoder == null ? "no captions" : "captions by " + encoder);
                if (!differ.isEmpty())
                    throw new IllegalArgumentException(m + ": an extraction with other settings is already there (" + String.join(", ", differ)
                            + "); resume it with those, or extract to another folder");
            } else {
                manifest = JSON.createObjectNode();
                manifest.put("format", FORMAT);
                manifest.put("image_size", imageSize);
                manifest.put("vae", vae);
                if (moments) manifest.put("moments", true);   // unscaled: the scale factor is the trainer's
                else manifest.put("scaling_factor", 0.18215);
                manifest.put("flip", flip);
                manifest.put("mode", mode);
                manifest.put("seed", seed);
                if (textEncoder != null) {
                    Npy.write(dir.resolve(EMPTY_CONTEXT), emptyContext);
                    manifest.putObject("captions").put("text_encoder", textEncoder).put("empty_context", EMPTY_CONTEXT);
                }
                manifest.putArray("shards");
                manifest.put("count", 0);
            }
        }

        /** Examples already extracted (complete shards only). */
        public long done() {
            return manifest.path("count").asLong();
        }

        public void append(INDArray latents, long[] labels, INDArray flippedLatents) throws IOException {
            append(latents, labels, flippedLatents, null, null);
        }

        /** A shard; in a text–image folder with its images' caption contexts (Σ captions, L, D) and caption counts. */
        public void append(INDArray latents, long[] labels, INDArray flippedLatents, INDArray contexts, long[] captions) throws IOException {
            if ((contexts != null) != manifest.has("captions"))
                throw new IllegalStateException(manifest.has("captions") ? "a text–image folder needs the shard's contexts" : "this folder has no captions");
            int index = manifest.withArray("shards").size();
            String x = String.format("latents-%05d.npy", index), y = String.format("labels-%05d.npy", index);
            Npy.write(dir.resolve(x), latents);
            Npy.write(dir.resolve(y), Nd4j.createFromArray(labels));
            ObjectNode shard = manifest.withArray("shards").addObject();
            shard.put("latents", x).put("labels", y).put("count", labels.length);
            if (flippedLatents != null) {
                String f = String.format("latents-flip-%05d.npy", index);
                Npy.write(dir.resolve(f), flippedLatents);
                shard.put("flipped", f);
            }
            if (contexts != null) {
                String c = String.format("contexts-%05d.npy", index), n = String.format("captions-%05d.npy", index);
                Npy.write(dir.resolve(c), contexts);
                Npy.write(dir.resolve(n), Nd4j.createFromArray(captions));
                shard.put("contexts", c).put("captions", n);
            }
            manifest.put("count", done() + labels.length);
            byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest);
            AtomicFiles.write(dir.resolve(MANIFEST), o -> o.write(bytes));
        }
    }
}
