package org.dit4j.data;

import org.datavec.api.io.labels.ParentPathLabelGenerator;
import org.datavec.api.split.FileSplit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * An ImageNet-format folder ({@code root/<class>/*.JPEG}) listed with DataVec's {@code FileSplit} and labelled with
 * its {@code ParentPathLabelGenerator}. Class ids are the sorted folder names' positions, as torchvision's
 * {@code ImageFolder} (so they match the official models on ImageNet), unless a {@code class_ids.json} beside the
 * folders maps names to ids. Images are decoded with ImageIO (RGB, not DataVec's BGR loader) and cropped with
 * {@link CenterCrop}; an unreadable file is skipped with one warning and counted.
 */
public final class ImageFolderData implements TrainingData {
    private static final Logger LOG = LoggerFactory.getLogger(ImageFolderData.class);
    public static final String[] FORMATS = {"jpg", "jpeg", "JPEG", "JPG", "png", "PNG", "bmp", "BMP"};

    private final List<Path> files = new ArrayList<>();
    private final long[] labels;
    private final List<String> classes;
    private final int size;
    private final Set<Path> unreadable = ConcurrentHashMap.newKeySet();

    public ImageFolderData(Path root, int imageSize) {
        if (!Files.isDirectory(root)) throw new IllegalArgumentException("image folder " + root + ": no such directory");
        this.size = imageSize;
        List<String> folders = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().forEach(folders::add);
        } catch (IOException e) {
            throw new IllegalArgumentException(root + ": cannot list (" + e.getMessage() + ")");
        }
        if (folders.isEmpty()) throw new IllegalArgumentException("image folder " + root + ": no class folders (expected root/<class>/<images>)");
        Map<String, Integer> ids = classIds(root, folders);
        FileSplit split = new FileSplit(root.toFile(), FORMATS, true);
        ParentPathLabelGenerator labeller = new ParentPathLabelGenerator();
        Map<String, Integer> counts = new TreeMap<>();
        List<URI> uris = new ArrayList<>(Arrays.asList(split.locations()));
        uris.sort(Comparator.comparing(URI::toString));
        List<Long> labelList = new ArrayList<>();
        for (URI u : uris) {
            String cls = labeller.getLabelForPath(u).toString();
            if (!ids.containsKey(cls)) continue;   // images directly under root or nested deeper belong to no class
            files.add(Paths.get(u));
            labelList.add((long) ids.get(cls));
            counts.merge(cls, 1, Integer::sum);
        }
        for (String f : folders)
            if (!counts.containsKey(f)) throw new IllegalArgumentException("image folder " + root + ": class folder '" + f + "' has no images ("
                    + String.join(", ", FORMATS) + ")");
        labels = labelList.stream().mapToLong(Long::longValue).toArray();
        classes = List.copyOf(folders);
    }

    private static Map<String, Integer> classIds(Path root, List<String> folders) {
        Path map = root.resolve("class_ids.json");
        Map<String, Integer> ids = new LinkedHashMap<>();
        if (Files.isRegularFile(map)) {
            try {
                var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(map.toFile());
                for (String f : folders) {
                    if (!node.has(f)) throw new IllegalArgumentException(map + ": no class id for folder '" + f + "'");
                    ids.put(f, node.get(f).asInt());
                }
            } catch (IOException e) {
                throw new IllegalArgumentException(map + ": not valid JSON (" + e.getMessage() + ")");
            }
        } else {
            for (int i = 0; i < folders.size(); i++) ids.put(folders.get(i), i);
        }
        return ids;
    }

    public List<String> classes() {
        return classes;
    }

    public long label(int i) {
        return labels[i];
    }

    public Path file(int i) {
        return files.get(i);
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public long[] exampleShape() {
        return new long[]{3, size, size};
    }

    /** One image, centre-cropped, as (3, S, S) in [-1, 1]; null (after one warning) if it cannot be decoded. */
    public INDArray load(int i, boolean flip) {
        Path f = files.get(i);
        BufferedImage img = null;
        try {
            img = ImageIO.read(f.toFile());
        } catch (IOException | RuntimeException e) {
            // reported below
        }
        if (img == null) {
            if (unreadable.add(f)) LOG.warn("skipping unreadable image {}", f);
            return null;
        }
        CenterCrop.Rgb rgb = CenterCrop.apply(CenterCrop.Rgb.of(img), size);
        float[] v = new float[3 * size * size];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) {
                    int sx = flip ? size - 1 - x : x;
                    v[c * size * size + y * size + x] = (rgb.planes()[c][y * size + sx] / 255f - 0.5f) / 0.5f;
                }
        return Nd4j.create(v, new long[]{3, size, size}, 'c');
    }

    /** Unreadable files are replaced by the next readable example, so batches keep their size and stay deterministic. */
    @Override
    public Batch batch(long[] indices, boolean[] flips) {
        INDArray[] xs = new INDArray[indices.length];
        long[] ys = new long[indices.length];
        for (int k = 0; k < indices.length; k++) {
            int i = (int) indices[k];
            INDArray x = null;
            for (int tries = 0; tries < files.size(); tries++) {
                x = load(i, flips[k]);
                if (x != null) break;
                i = (i + 1) % files.size();
            }
            if (x == null) throw new IllegalStateException("no readable image in " + files.size() + " files");
            xs[k] = x.reshape(1, 3, size, size);
            ys[k] = labels[i];
        }
        return new Batch(Nd4j.concat(0, xs), ys);
    }

    @Override
    public String describe() {
        return files.size() + " images in " + classes.size() + " classes" + (unreadable.isEmpty() ? "" : ", " + unreadable.size() + " unreadable skipped");
    }

    public int unreadableCount() {
        return unreadable.size();
    }
}
