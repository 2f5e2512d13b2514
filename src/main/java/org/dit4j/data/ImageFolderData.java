package org.dit4j.data;

import org.dit4j.io.HadoopFiles;
import org.dit4j.io.Images;
import org.dit4j.io.WeightsFormatException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * An ImageNet-format folder ({@code root/<class>/*.JPEG}), at a local path or a Hadoop URI ({@code hdfs://},
 * {@code file://}, ...: listed and read through Hadoop's FileSystem, {@link HadoopFiles}). Class ids are the sorted
 * folder names' positions, as torchvision's {@code ImageFolder} (so they match the official models on ImageNet), unless
 * a {@code class_ids.json} beside the folders maps names to ids. The listing goes exactly two levels deep (so a
 * symbolic-link loop cannot recurse) and takes regular files only: anything else with an image name (a FIFO, a device,
 * a dangling link) is skipped with one warning. Images are ordered by their URI (a path's {@code file:} URI), so a
 * folder and its {@code file://} URI give the same examples in the same order. Images are decoded with ImageIO (RGB,
 * not DataVec's BGR loader; at most {@link Images#MAX_FILE_BYTES} read behind a URI) and cropped with
 * {@link CenterCrop}; an unreadable file, or one above {@link Images#MAX_PIXELS}, is skipped with one warning and
 * counted; a damaged one that still decodes (a truncated JPEG) is used, with one warning.
 */
public final class ImageFolderData implements TrainingData {
    private static final Logger LOG = LoggerFactory.getLogger(ImageFolderData.class);
    public static final String[] FORMATS = {"jpg", "jpeg", "JPEG", "JPG", "png", "PNG", "bmp", "BMP"};
    public static final String CLASS_IDS = "class_ids.json";

    private final String root, classIdsFile;
    private final List<String> files = new ArrayList<>();
    private final long[] labels;
    private final List<String> classes;
    private final Map<String, Integer> ids;
    private final int size;
    private final Map<String, String> unreadable = new ConcurrentHashMap<>();
    private final Set<String> damaged = ConcurrentHashMap.newKeySet();

    /** An image of a class folder: its sort key (its URI) and where it is read from (a path or the URI). */
    private record Found(String key, String location) {}

    /** One open copy per folder, size and JVM: a Spark executor keeps its listing across rounds. */
    private static final Map<String, ImageFolderData> OPEN = new ConcurrentHashMap<>();

    /** The folder at {@code location} (a path or a URI), listed once per JVM (executors call this every round). */
    public static ImageFolderData open(String location, int imageSize) {
        return OPEN.computeIfAbsent(location + "\n" + imageSize, key -> new ImageFolderData(location, imageSize));
    }

    public ImageFolderData(Path root, int imageSize) {
        this(root.toString(), imageSize);
    }

    /** {@code root}: a local path or a Hadoop URI. */
    public ImageFolderData(String root, int imageSize) {
        boolean uri = HadoopFiles.isUri(root);
        if (!uri && !Files.isDirectory(Path.of(root))) throw new IllegalArgumentException("image folder " + root + ": no such directory");
        this.root = root;
        this.size = imageSize;
        List<HadoopFiles.Entry> folders = uri ? uriFolders(root) : localFolders(Path.of(root));
        if (folders.isEmpty()) throw new IllegalArgumentException("image folder " + root + ": no class folders (expected root/<class>/<images>)");
        List<String> names = folders.stream().map(HadoopFiles.Entry::name).toList();
        String map = HadoopFiles.resolve(root, CLASS_IDS);
        classIdsFile = HadoopFiles.isFile(map) ? map : null;
        ids = classIds(classIdsFile, names);
        Set<String> formats = Set.of(FORMATS);
        // sorted by URI as the DataVec FileSplit listing this replaces was, so data orders stay put
        List<Found> found = new ArrayList<>();
        Map<String, String> classOf = new HashMap<>();
        for (HadoopFiles.Entry folder : folders) {
            int count = 0;
            for (Found f : uri ? uriImages(folder.location(), formats) : localImages(Path.of(folder.location()), formats)) {
                found.add(f);
                classOf.put(f.location(), folder.name());
                count++;
            }
            if (count == 0) throw new IllegalArgumentException("image folder " + root + ": class folder '" + folder.name() + "' has no images ("
                    + String.join(", ", FORMATS) + ")");
        }
        found.sort(Comparator.comparing(Found::key));
        labels = new long[found.size()];
        for (Found f : found) {
            labels[files.size()] = ids.get(classOf.get(f.location()));
            files.add(f.location());
        }
        classes = List.copyOf(names);
    }

    private static boolean isImage(String name, Set<String> formats) {
        return name.lastIndexOf('.') >= 0 && formats.contains(name.substring(name.lastIndexOf('.') + 1));
    }

    private static List<HadoopFiles.Entry> localFolders(Path root) {
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(Files::isDirectory).map(p -> new HadoopFiles.Entry(p.getFileName().toString(), p.toString(), true, false))
                    .sorted(Comparator.comparing(HadoopFiles.Entry::name)).toList();
        } catch (IOException e) {
            throw new IllegalArgumentException(root + ": cannot list (" + e.getMessage() + ")");
        }
    }

    private static List<Found> localImages(Path folder, Set<String> formats) {
        List<Found> found = new ArrayList<>();
        try (Stream<Path> s = Files.list(folder)) {
            for (Path f : (Iterable<Path>) s.sorted()::iterator) {
                if (!isImage(f.getFileName().toString(), formats) || Files.isDirectory(f)) continue;
                if (!Files.isRegularFile(f)) {
                    LOG.warn("skipping {}: not a regular file (a FIFO, device or dangling link)", f);
                    continue;
                }
                Path abs = f.toAbsolutePath();
                found.add(new Found(abs.toFile().toURI().toString(), abs.toString()));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(folder + ": cannot list (" + e.getMessage() + ")");
        }
        return found;
    }

    /** The class folders behind a URI; a missing or unreachable folder is one line naming the URI. */
    private static List<HadoopFiles.Entry> uriFolders(String root) {
        List<HadoopFiles.Entry> entries;
        try {
            entries = HadoopFiles.entries(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("image folder " + e.getMessage(), e);
        }
        return entries.stream().filter(HadoopFiles.Entry::directory).sorted(Comparator.comparing(HadoopFiles.Entry::name)).toList();
    }

    private static List<Found> uriImages(String folder, Set<String> formats) {
        List<Found> found = new ArrayList<>();
        for (HadoopFiles.Entry e : HadoopFiles.entries(folder)) {
            if (!isImage(e.name(), formats) || e.directory()) continue;
            if (!e.file()) {
                LOG.warn("skipping {}: not a regular file", e.location());
                continue;
            }
            found.add(new Found(e.location(), e.location()));
        }
        return found;
    }

    /** class_ids.json: every folder's id, a non-negative integer; whether the model has that class is checked by {@link #requireLabels}. */
    private static Map<String, Integer> classIds(String map, List<String> folders) {
        Map<String, Integer> ids = new LinkedHashMap<>();
        if (map != null) {
            com.fasterxml.jackson.databind.JsonNode node;
            try {
                node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(HadoopFiles.readAll(map));
            } catch (IOException e) {
                throw new IllegalArgumentException(map + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
            }
            if (node == null || !node.isObject()) throw new IllegalArgumentException(map + ": expected a JSON object of folder name → class id");
            for (String f : folders) {
                if (!node.has(f)) throw new IllegalArgumentException(map + ": no class id for folder '" + f + "'");
                var id = node.get(f);
                if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0)
                    throw new IllegalArgumentException(map + ": the class id of folder '" + f + "' is " + id + ", expected a non-negative integer");
                ids.put(f, id.intValue());
            }
        } else {
            for (int i = 0; i < folders.size(); i++) ids.put(folders.get(i), i);
        }
        return ids;
    }

    /** Refuses class ids the model has no class for: the null class ({@code numClasses}) is label dropout's alone. */
    @Override
    public void requireLabels(int numClasses) {
        for (Map.Entry<String, Integer> e : ids.entrySet()) {
            if (e.getValue() < numClasses) continue;
            throw new IllegalArgumentException(classIdsFile != null
                    ? classIdsFile + ": folder '" + e.getKey() + "' has class id " + e.getValue() + ", the model's classes are 0.." + (numClasses - 1)
                    : "image folder " + root + ": " + ids.size() + " class folders, the model has " + numClasses + " classes");
        }
    }

    /** The folder as another machine opens it: the URI, or the absolute path. */
    public String location() {
        return HadoopFiles.isUri(root) ? root : Path.of(root).toAbsolutePath().toString();
    }

    public List<String> classes() {
        return classes;
    }

    @Override
    public long label(int i) {
        return labels[i];
    }

    /** Where image {@code i} is read from: an absolute path, or a URI under the folder's. */
    public String file(int i) {
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
        String f = files.get(i);
        Images.Decoded d;
        try {
            d = Images.decode(f);
        } catch (WeightsFormatException e) {
            if (unreadable.put(f, e.getMessage()) == null) LOG.warn("skipping {}", e.getMessage());
            return null;
        }
        if (!d.warnings().isEmpty() && damaged.add(f)) LOG.warn("{}: damaged image ({}), using what decodes", f, d.warnings().get(0));
        CenterCrop.Rgb rgb = CenterCrop.apply(CenterCrop.Rgb.of(d.image()), size);
        float[] v = new float[3 * size * size];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) {
                    int sx = flip ? size - 1 - x : x;
                    v[c * size * size + y * size + x] = (rgb.planes()[c][y * size + sx] / 255f - 0.5f) / 0.5f;
                }
        return Nd4j.create(v, new long[]{3, size, size}, 'c');
    }

    /** Why image {@code i} could not be loaded (a message naming the file), or null. */
    public String problem(int i) {
        return unreadable.get(files.get(i));
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
