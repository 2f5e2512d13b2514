package org.dit4j.io;

import org.dit4j.util.Slices;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.InputStream;
import java.util.*;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A weight-name mapping between an official state dict (DiT's, or LDM's for the autoencoder) and another layout,
 * read from a data file under {@code converters/}. Keys of each section are official names, values the other
 * layout's. Templates use {@code {i}} and {@code {j}} for indices and {@code {r}} for a level index counted from the
 * other end ({@code levels − 1 − i}, diffusers' decoder order). Sections: {@code rename}; {@code aliases} (other
 * names accepted on import only); {@code split} (one official tensor is several there, concatenated on dim 0);
 * {@code replicated} (one official tensor copied into every block there); {@code conv1x1_as_linear} (official
 * (C,C,1,1) convolutions stored as (C,C) Linear weights there); {@code computed} (never stored there);
 * {@code strip_prefixes}, {@code ignore_prefixes}; {@code identity} (unlisted names are the same in both).
 */
public final class KeyMapping {
    private record Template(String official, String other, Pattern officialRegex, Pattern otherRegex) {}

    private final String layout;
    private final List<Template> rename = new ArrayList<>(), aliases = new ArrayList<>();
    private final Map<String, List<String>> split;
    private final Map<String, String> replicated;
    private final List<Pattern> conv1x1;
    private final List<String> computed, optional, stripPrefixes, ignorePrefixes;
    private final boolean identity;

    @SuppressWarnings("unchecked")
    private KeyMapping(Map<String, Object> m) {
        layout = (String) m.get("layout");
        for (var e : ((Map<String, String>) m.getOrDefault("rename", Map.of())).entrySet()) rename.add(template(e.getKey(), e.getValue()));
        for (var e : ((Map<String, String>) m.getOrDefault("aliases", Map.of())).entrySet()) aliases.add(template(e.getKey(), e.getValue()));
        split = (Map<String, List<String>>) m.getOrDefault("split", Map.of());
        replicated = (Map<String, String>) m.getOrDefault("replicated", Map.of());
        conv1x1 = ((List<String>) m.getOrDefault("conv1x1_as_linear", List.of())).stream().map(KeyMapping::regex).toList();
        computed = (List<String>) m.getOrDefault("computed", List.of());
        optional = (List<String>) m.getOrDefault("optional", List.of());
        stripPrefixes = (List<String>) m.getOrDefault("strip_prefixes", List.of());
        ignorePrefixes = (List<String>) m.getOrDefault("ignore_prefixes", List.of());
        identity = Boolean.TRUE.equals(m.get("identity"));
    }

    private static Template template(String official, String other) {
        return new Template(official, other, regex(official), regex(other));
    }

    private static final Pattern VAR = Pattern.compile("\\{([ijr])}");

    private static Pattern regex(String template) {
        StringBuilder sb = new StringBuilder("^");
        Matcher m = VAR.matcher(template);
        int last = 0;
        while (m.find()) {
            sb.append(Pattern.quote(template.substring(last, m.start()))).append("(?<").append(m.group(1)).append(">\\d+)");
            last = m.end();
        }
        return Pattern.compile(sb.append(Pattern.quote(template.substring(last))).append("$").toString());
    }

    /** Fills {@code template} from the variables matched in {@code m}; {r} and {i} determine each other through {@code levels}. */
    private static String fill(String template, Matcher m, int levels) {
        Integer i = group(m, "i"), j = group(m, "j"), r = group(m, "r");
        if (i == null && r != null) i = levels - 1 - r;
        if (r == null && i != null) r = levels - 1 - i;
        String out = template;
        if (i != null) out = out.replace("{i}", String.valueOf(i));
        if (j != null) out = out.replace("{j}", String.valueOf(j));
        if (r != null) out = out.replace("{r}", String.valueOf(r));
        return out;
    }

    private static Integer group(Matcher m, String name) {
        try {
            String g = m.group(name);
            return g == null ? null : Integer.valueOf(g);
        } catch (IllegalArgumentException e) {
            return null;
        }
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

    private boolean isConv1x1(String official) {
        return conv1x1.stream().anyMatch(p -> p.matcher(official).matches());
    }

    /**
     * Other layout → official names. {@code depth} is the block count (for split and replicated tensors), {@code levels}
     * the level count (for {r}). Unknown keys are kept, for the architecture check to report by name.
     */
    public Map<String, INDArray> toOfficial(Map<String, INDArray> foreign, int depth, int levels, String source) {
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
        for (Map.Entry<String, INDArray> e : in.entrySet()) {
            for (Template t : concat(rename, aliases)) {
                Matcher m = t.otherRegex().matcher(e.getKey());
                if (m.matches()) {
                    String official = fill(t.official(), m, levels);
                    INDArray a = e.getValue();
                    out.put(official, a.rank() == 2 && isConv1x1(official) ? a.reshape(a.size(0), a.size(1), 1, 1) : a);
                    used.add(e.getKey());
                    break;
                }
            }
        }
        for (int i = 0; i < depth; i++) {
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
        used.addAll(optional);
        for (Map.Entry<String, INDArray> e : in.entrySet())
            if (!used.contains(e.getKey()) && (identity || !out.containsKey(e.getKey()))) out.putIfAbsent(e.getKey(), e.getValue());
        return out;
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> r = new ArrayList<>(a);
        r.addAll(b);
        return r;
    }

    /** Official state dict → this layout ({@code computed} tensors are dropped). */
    public Map<String, INDArray> fromOfficial(Map<String, INDArray> official, int depth, int levels) {
        Map<String, List<String>> exactSplit = new HashMap<>();
        for (int i = 0; i < depth; i++) {
            int block = i;
            for (var s : split.entrySet()) exactSplit.put(at(s.getKey(), i), s.getValue().stream().map(p -> at(p, block)).toList());
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : official.entrySet()) {
            String k = e.getKey();
            INDArray a = e.getValue();
            if (computed.contains(k)) continue;
            if (replicated.containsKey(k)) {
                for (int i = 0; i < depth; i++) out.put(at(replicated.get(k), i), a.dup());
                continue;
            }
            if (exactSplit.containsKey(k)) {
                List<String> names = exactSplit.get(k);
                long rows = a.size(0) / names.size();
                for (int j = 0; j < names.size(); j++) out.put(names.get(j), Slices.range(a, 0, j * rows, (j + 1) * rows));
                continue;
            }
            String name = k;
            for (Template t : rename) {
                Matcher m = t.officialRegex().matcher(k);
                if (m.matches()) {
                    name = fill(t.other(), m, levels);
                    break;
                }
            }
            out.put(name, isConv1x1(k) && a.rank() == 4 ? a.reshape(a.size(0), a.size(1)) : a);
        }
        return out;
    }
}
