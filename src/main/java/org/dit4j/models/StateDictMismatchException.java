package org.dit4j.models;

import java.util.List;

/** A state dict that does not fit the architecture; the message lists every missing, unexpected and mis-shaped key. */
public class StateDictMismatchException extends IllegalArgumentException {
    public StateDictMismatchException(String source, List<String> missing, List<String> unexpected, List<String> mismatched) {
        super(message(source, missing, unexpected, mismatched));
    }

    private static String message(String source, List<String> missing, List<String> unexpected, List<String> mismatched) {
        StringBuilder sb = new StringBuilder(source).append(": weights do not match the model architecture");
        if (!missing.isEmpty()) sb.append("; missing keys: ").append(abbreviate(missing));
        if (!unexpected.isEmpty()) sb.append("; unexpected keys: ").append(abbreviate(unexpected));
        if (!mismatched.isEmpty()) sb.append("; shape mismatches: ").append(abbreviate(mismatched));
        return sb.toString();
    }

    private static String abbreviate(List<String> keys) {
        if (keys.size() <= 12) return String.join(", ", keys);
        return String.join(", ", keys.subList(0, 12)) + " … (" + keys.size() + " in all)";
    }
}
