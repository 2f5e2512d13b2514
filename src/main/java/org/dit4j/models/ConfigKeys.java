package org.dit4j.models;

import java.util.Map;

/** Typed reads of a config mapping's official keys, with the official default where a key is absent. */
public final class ConfigKeys {
    private ConfigKeys() {}

    public static int intOf(Map<?, ?> m, String key, int def, String source) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof Integer i) return i;
        throw new IllegalArgumentException(source + ": key '" + key + "' must be an integer, found '" + v + "'");
    }

    public static double numOf(Map<?, ?> m, String key, double def, String source) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException(source + ": key '" + key + "' must be a number, found '" + v + "'");
    }

    public static boolean boolOf(Map<?, ?> m, String key, boolean def, String source) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof Boolean b) return b;
        throw new IllegalArgumentException(source + ": key '" + key + "' must be true or false, found '" + v + "'");
    }

    /** A string key; YAML's {@code null} (or absence) gives {@code def}. */
    public static String strOf(Map<?, ?> m, String key, String def, String source) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof String s) return s;
        throw new IllegalArgumentException(source + ": key '" + key + "' must be a string, found '" + v + "'");
    }
}
