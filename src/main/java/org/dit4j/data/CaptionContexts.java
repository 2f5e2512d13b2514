package org.dit4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.io.HadoopFiles;
import org.dit4j.io.Npy;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The caption contexts of a text–image feature folder ({@code dit4j extract-features --captions}), U-ViT's
 * {@code <i>_<k>.npy} files in shards: beside each latent shard, {@code contexts-NNNNN.npy} (its images' captions in
 * order, (Σ captions, L, D) float32) and {@code captions-NNNNN.npy} (captions per image, int64); the empty prompt's
 * context in {@code empty_context.npy} (L, D). Contexts are read one row at a time as batches ask for them (the
 * 414k MS-COCO contexts of CLIP ViT-L are 98 GB).
 */
public final class CaptionContexts {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String location, textEncoder;
    private final List<NpyRows> shards = new ArrayList<>();
    private final int[] shardOf, count;
    private final long[] firstRow;
    private final long[] contextShape;
    private final INDArray empty;

    /** The contexts of the folder at {@code location}, or null when its manifest has none (a folder of images alone). */
    public static CaptionContexts of(String location) {
        JsonNode m = manifest(location);
        return m.has("captions") ? new CaptionContexts(location, m) : null;
    }

    static JsonNode manifest(String location) {
        String manifest = HadoopFiles.resolve(location, LatentShards.MANIFEST);
        if (!HadoopFiles.isFile(manifest))
            throw new IllegalArgumentException("latent features " + location + ": no " + LatentShards.MANIFEST + " (make one with dit4j extract-features)");
        try {
            return JSON.readTree(HadoopFiles.readAll(manifest));
        } catch (IOException e) {
            throw new IllegalArgumentException(manifest + ": not valid JSON (" + e.getMessage() + ")");
        }
    }

    private CaptionContexts(String location, JsonNode m) {
        this.location = location;
        JsonNode c = m.path("captions");
        this.textEncoder = c.path("text_encoder").asText();
        String emptyFile = HadoopFiles.resolve(location, c.path("empty_context").asText("empty_context.npy"));
        INDArray e = Npy.read(emptyFile, HadoopFiles.readAll(emptyFile)).castTo(DataType.FLOAT);
        if (e.rank() != 2) throw new IllegalArgumentException(emptyFile + ": " + Arrays.toString(e.shape()) + ", expected (tokens, width)");
        this.contextShape = e.shape().clone();
        this.empty = e.reshape(1, contextShape[0], contextShape[1]);
        List<Integer> shardOfList = new ArrayList<>(), counts = new ArrayList<>();
        List<Long> first = new ArrayList<>();
        for (JsonNode s : m.path("shards")) {
            if (!s.has("contexts") || !s.has("captions"))
                throw new IllegalArgumentException(HadoopFiles.resolve(location, LatentShards.MANIFEST) + ": shard " + s.path("latents").asText() + " lists no caption contexts");
            NpyRows rows = new NpyRows(HadoopFiles.resolve(location, s.path("contexts").asText()), 3, "contexts");
            if (!Arrays.equals(rows.rowShape(), contextShape))
                throw new IllegalArgumentException(rows.location + ": contexts " + Arrays.toString(rows.rowShape()) + ", the empty context is " + Arrays.toString(contextShape));
            String capFile = HadoopFiles.resolve(location, s.path("captions").asText());
            long[] n = Npy.read(capFile, HadoopFiles.readAll(capFile)).castTo(DataType.LONG).toLongVector();
            if (n.length != s.path("count").asInt())
                throw new IllegalArgumentException(capFile + ": caption counts of " + n.length + " images, the shard has " + s.path("count").asInt());
            long row = 0;
            for (long k : n) {
                if (k < 1) throw new IllegalArgumentException(capFile + ": an image with " + k + " captions");
                shardOfList.add(shards.size());
                counts.add((int) k);
                first.add(row);
                row += k;
            }
            if (row != rows.count())
                throw new IllegalArgumentException(rows.location + ": " + rows.count() + " contexts, " + capFile + " counts " + row);
            shards.add(rows);
        }
        shardOf = shardOfList.stream().mapToInt(Integer::intValue).toArray();
        count = counts.stream().mapToInt(Integer::intValue).toArray();
        firstRow = first.stream().mapToLong(Long::longValue).toArray();
    }

    public int size() {
        return count.length;
    }

    /** (tokens, width) of one context. */
    public long[] contextShape() {
        return contextShape.clone();
    }

    public int captions(int image) {
        return count[image];
    }

    /** Caption {@code k} of {@code image}'s context, (1, L, D). */
    public INDArray context(int image, int k) {
        if (k < 0 || k >= count[image]) throw new IllegalArgumentException("image " + image + " has " + count[image] + " captions, not " + (k + 1));
        return shards.get(shardOf[image]).row(firstRow[image] + k);
    }

    /** The empty prompt's context, (1, L, D). */
    public INDArray empty() {
        return empty.dup();
    }

    public String textEncoder() {
        return textEncoder;
    }

    public String location() {
        return location;
    }
}
