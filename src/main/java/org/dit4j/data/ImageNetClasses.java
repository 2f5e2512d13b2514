package org.dit4j.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.*;

/**
 * The 1000 ImageNet-1k class labels. Every comma-separated synonym of a label names its class, as in diffusers'
 * {@code DiTPipeline.get_label_ids} (where a synonym belongs to two classes, the later id wins, as there).
 */
public final class ImageNetClasses {
    private static final List<String> LABELS = load();
    private static final Map<String, Integer> IDS = index();

    private ImageNetClasses() {}

    private static List<String> load() {
        try (InputStream in = ImageNetClasses.class.getResourceAsStream("/imagenet/imagenet1k-labels.txt")) {
            if (in == null) throw new IllegalStateException("ImageNet label resource missing from the build");
            List<String> out = new ArrayList<>();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) if (!line.startsWith("#")) out.add(line);
            if (out.size() != 1000) throw new IllegalStateException("expected 1000 ImageNet labels, found " + out.size());
            return List.copyOf(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Integer> index() {
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int i = 0; i < LABELS.size(); i++) for (String s : LABELS.get(i).split(",")) ids.put(s.strip(), i);
        return ids;
    }

    /** The full label (all synonyms) of a class id. */
    public static String label(int id) {
        if (id < 0 || id >= LABELS.size()) throw new IllegalArgumentException("ImageNet class id " + id + " is outside [0, 1000)");
        return LABELS.get(id);
    }

    /** The first synonym, short enough for file names and captions. */
    public static String shortName(int id) {
        return label(id).split(",")[0].strip();
    }

    /** The class id of one synonym, exact first, then ignoring case; unknown names get the closest matches. */
    public static int id(String name) {
        String n = name.strip();
        Integer id = IDS.get(n);
        if (id != null) return id;
        for (Map.Entry<String, Integer> e : IDS.entrySet()) if (e.getKey().equalsIgnoreCase(n)) return e.getValue();
        throw new IllegalArgumentException("'" + n + "' is not an ImageNet class name; closest: " + String.join("; ", closest(n, 5)));
    }

    /** Ids of a comma-separated list of names. Since synonyms contain no commas, each comma separates two names. */
    public static long[] ids(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).filter(s -> !s.isBlank()).mapToLong(ImageNetClasses::id).toArray();
    }

    static List<String> closest(String name, int k) {
        String q = name.toLowerCase(Locale.ROOT);
        return IDS.keySet().stream()
                .sorted(Comparator.comparingInt((String s) -> distance(q, s.toLowerCase(Locale.ROOT))).thenComparing(s -> s))
                .limit(k).map(s -> s + " (" + IDS.get(s) + ")").toList();
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++)
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
