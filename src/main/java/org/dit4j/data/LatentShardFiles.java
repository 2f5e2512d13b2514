package org.dit4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.io.HadoopFiles;
import org.dit4j.io.Npy;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link LatentShards} folder read where it lives (a local path or a Hadoop URI, {@link HadoopFiles}): the manifest
 * and the labels are read whole, the latents row by row as batches ask for them, with positioned reads. So a Spark
 * executor reads only the examples of its own shard of each batch, and a driver reads none; 40 GB of ImageNet latents
 * never have to fit in one JVM. The examples are those of {@link LatentShards} on the same folder, bit for bit.
 */
public final class LatentShardFiles implements TrainingData {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** One open copy per folder and JVM: an executor keeps its readers across rounds. */
    private static final Map<String, LatentShardFiles> OPEN = new ConcurrentHashMap<>();

    private final String location;
    private final List<Shard> shards = new ArrayList<>();
    private final long[] labels, exampleShape;
    private final int[] shardOf, rowOf;
    private final boolean flip, moments;

    private record Shard(String labels, NpyRows latents, NpyRows flipped, int count) {}


    /** The folder at {@code location}, opened once per JVM (executors call this every round). */
    public static LatentShardFiles open(String location) {
        return OPEN.computeIfAbsent(location, LatentShardFiles::new);
    }

    public LatentShardFiles(String location) {
        this.location = location;
        String manifest = HadoopFiles.resolve(location, LatentShards.MANIFEST);
        if (!HadoopFiles.isFile(manifest))
            throw new IllegalArgumentException("latent features " + location + ": no " + LatentShards.MANIFEST + " (make one with dit4j extract-features)");
        JsonNode m;
        try {
            m = JSON.readTree(HadoopFiles.readAll(manifest));
        } catch (IOException e) {
            throw new IllegalArgumentException(manifest + ": not valid JSON (" + e.getMessage() + ")");
        }
        if (!LatentShards.FORMAT.equals(m.path("format").asText())) throw new IllegalArgumentException(manifest + ": format is not " + LatentShards.FORMAT);
        flip = m.path("flip").asBoolean(false);
        moments = m.path("moments").asBoolean(false);
        List<Long> ys = new ArrayList<>();
        long[] shape = null;
        for (JsonNode s : m.path("shards")) {
            String yFile = HadoopFiles.resolve(location, s.path("labels").asText());
            NpyRows x = new NpyRows(HadoopFiles.resolve(location, s.path("latents").asText()), 4, "latents");
            long[] y = Npy.read(yFile, HadoopFiles.readAll(yFile)).castTo(DataType.LONG).toLongVector();
            if (x.layout.shape()[0] != y.length)
                throw new IllegalArgumentException(x.location + ": " + Arrays.toString(x.layout.shape()) + " latents for " + y.length + " labels");
            long[] one = Arrays.copyOfRange(x.layout.shape(), 1, 4);
            if (shape != null && !Arrays.equals(shape, one))
                throw new IllegalArgumentException(x.location + ": examples " + Arrays.toString(one) + ", the first shard's are " + Arrays.toString(shape));
            shape = one;
            NpyRows f = flip ? new NpyRows(HadoopFiles.resolve(location, s.path("flipped").asText()), 4, "latents") : null;
            shards.add(new Shard(yFile, x, f, y.length));
            for (long l : y) ys.add(l);
        }
        if (shards.isEmpty()) throw new IllegalArgumentException(manifest + ": no complete shards");
        labels = ys.stream().mapToLong(Long::longValue).toArray();
        exampleShape = shape;
        shardOf = new int[labels.length];
        rowOf = new int[labels.length];
        for (int s = 0, i = 0; s < shards.size(); s++)
            for (int r = 0; r < shards.get(s).count(); r++, i++) {
                shardOf[i] = s;
                rowOf[i] = r;
            }
    }

    public String location() {
        return location;
    }

    /** As {@link LatentShards#moments()}. */
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
                throw new IllegalArgumentException(shards.get(shardOf[i]).labels() + ": class id " + labels[i] + ", the model's classes are 0.." + (numClasses - 1));
    }

    @Override
    public long[] exampleShape() {
        return exampleShape.clone();
    }

    /** As {@link LatentShards#batch}: a flip takes the mirrored latents, and is ignored when the folder has none. */
    @Override
    public Batch batch(long[] indices, boolean[] flips) {
        INDArray[] xs = new INDArray[indices.length];
        long[] ys = new long[indices.length];
        for (int k = 0; k < indices.length; k++) {
            int i = Math.toIntExact(indices[k]);
            Shard s = shards.get(shardOf[i]);
            xs[k] = (flips[k] && s.flipped() != null ? s.flipped() : s.latents()).row(rowOf[i]);
            ys[k] = labels[i];
        }
        return new Batch(Nd4j.concat(0, xs), ys);
    }

    @Override
    public String describe() {
        return labels.length + (moments ? " posterior moments " : " latents ") + Arrays.toString(exampleShape) + " from " + shards.size() + " shards at " + location
                + (flip ? " (+ flipped)" : "") + ", read as batches need them";
    }
}
