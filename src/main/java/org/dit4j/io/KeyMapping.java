package org.dit4j.io;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.InputStream;
import java.util.*;

/**
 * A weight-name mapping between the official DiT state dict and another layout, read from a data file under
 * {@code converters/} (renames, fused tensors split in the other layout, tensors replicated per block, ignored keys).
 * Keys are official names; {@code {i}} stands for a block index.
 */
public final class KeyMapping {
    private final String layout;
    private final Map<String, String> rename;
    private final Map<String, List<String>> split;
    private final Map<String, String> replicated;
    private final List<String> computed, optional, stripPrefixes, ignorePrefixes;
    private final boolean identity;

    @SuppressWarnings("unchecked")
    private KeyMapping(Map<String, Object> m) {
        layout = (String) m.get("layout");
        rename = (Map<String, String>) m.getOrDefault("rename", Map.of());
        split = (Map<String, List<String>>) m.getOrDefault("split", Map.of());
        replicated = (Map<String, String>) m.getOrDefault("replicated", Map.of());
        computed = (List<String>) m.getOrDefault("computed", List.of());
        optional = (List<String>) m.getOrDefault("optional", List.of());
        stripPrefixes = (List<String>) m.getOrDefault("strip_prefixes", List.of());
        ignorePrefixes = (List<String>) m.getOrDefault("ignore_prefixes", List.of());
        identity = Boolean.TRUE.equals(m.get("identity"));
    }

    /** A mapping shipped in the jar, e.g. {@code dit-diffusers}. */
    public static KeyMapping load(String name) {
        String resource = "/converters/" + name + ".yaml";
        try (InputStream in = KeyMapping.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("mapping " + resource + " is missing from the build");
            return new KeyMapping(new Yaml(new SafeConstructor(new LoaderOptions())).load(in));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public String layout() {
        return layout;
    }

    private static String at(String pattern, int i) {
        return pattern.replace("{i}", String.valueOf(i));
    }

    /** Foreign state dict → official names. {@code depth} is the number of blocks. Unknown keys are left for the architecture check to report. */
    public Map<String, INDArray> toOfficial(Map<String, INDArray> foreign, int depth, String source) {
        Map<String, INDArray> in = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : foreign.entrySet()) {
            String k = e.getKey();
            for (String p : stripPrefixes) if (k.startsWith(p)) k = k.substring(p.length());
            String key = k;
            if (ignorePrefixes.stream().anyMatch(key::startsWith)) continue;
            in.put(key, e.getValue());
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        for (int i = 0; i < depth; i++) {
            for (Map.Entry<String, String> r : rename.entrySet())
                if (r.getKey().contains("{i}")) move(in, out, used, at(r.getValue(), i), at(r.getKey(), i));
            for (Map.Entry<String, List<String>> s : split.entrySet()) {
                List<INDArray> parts = new ArrayList<>();
                for (String p : s.getValue()) {
                    INDArray a = in.get(at(p, i));
                    if (a == null) break;
                    parts.add(a);
                    used.add(at(p, i));
                }
                if (parts.size() == s.getValue().size()) out.put(at(s.getKey(), i), Nd4j.concat(0, parts.toArray(new INDArray[0])));
            }
        }
        for (Map.Entry<String, String> r : rename.entrySet())
            if (!r.getKey().contains("{i}")) move(in, out, used, r.getValue(), r.getKey());
        for (Map.Entry<String, String> r : replicated.entrySet()) {
            INDArray first = in.get(at(r.getValue(), 0));
            if (first == null) continue;
            for (int i = 0; i < depth; i++) {
                String k = at(r.getValue(), i);
                INDArray a = in.get(k);
                if (a != null && !a.equals(first))
                    throw new IllegalArgumentException(source + ": '" + k + "' differs from block 0; dit4j shares one "
                            + r.getKey() + " across blocks as the official DiT does, so this checkpoint cannot be imported");
                used.add(k);
            }
            out.put(r.getKey(), first);
        }
        for (String o : optional) used.add(o);
        for (Map.Entry<String, INDArray> e : in.entrySet())
            if (!used.contains(e.getKey()) && (identity || !out.containsKey(e.getKey()))) out.putIfAbsent(e.getKey(), e.getValue());
        return out;
    }

    private static void move(Map<String, INDArray> in, Map<String, INDArray> out, Set<String> used, String from, String to) {
        INDArray a = in.get(from);
        if (a != null) {
            out.put(to, a);
            used.add(from);
        }
    }

    /** Official state dict → this layout ({@code computed} tensors are dropped). */
    public Map<String, INDArray> fromOfficial(Map<String, INDArray> official, int depth) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        Map<String, String> exact = new HashMap<>();
        Map<String, List<String>> exactSplit = new HashMap<>();
        for (int i = 0; i < depth; i++) {
            int block = i;
            for (var r : rename.entrySet()) if (r.getKey().contains("{i}")) exact.put(at(r.getKey(), i), at(r.getValue(), i));
            for (var s : split.entrySet()) exactSplit.put(at(s.getKey(), i), s.getValue().stream().map(p -> at(p, block)).toList());
        }
        for (var r : rename.entrySet()) if (!r.getKey().contains("{i}")) exact.put(r.getKey(), r.getValue());
        for (Map.Entry<String, INDArray> e : official.entrySet()) {
            String k = e.getKey();
            INDArray a = e.getValue();
            if (computed.contains(k)) continue;
            if (replicated.containsKey(k)) {
                for (int i = 0; i < depth; i++) out.put(at(replicated.get(k), i), a.dup());
            } else if (exactSplit.containsKey(k)) {
                List<String> names = exactSplit.get(k);
                long rows = a.size(0) / names.size();
                for (int j = 0; j < names.size(); j++) out.put(names.get(j), org.dit4j.util.Slices.range(a, 0, j * rows, (j + 1) * rows));
            } else {
                out.put(exact.getOrDefault(k, k), a);
            }
        }
        return out;
    }
}
