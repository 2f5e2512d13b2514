package org.dit4j.io;

import java.nio.file.Path;

/**
 * A weights, tensor, config or image file that cannot be read as what it claims to be; the message names the file. Problems
 * often quote names taken from the file itself, so the message is kept to one line of bounded length whatever they hold.
 */
public class WeightsFormatException extends RuntimeException {
    /** Longer problems are cut: a hostile file can make a quoted name megabytes long. */
    static final int MAX_PROBLEM_CHARS = 1000;

    public WeightsFormatException(Path file, String problem) {
        super(oneLine(file + ": " + problem));
    }

    public WeightsFormatException(Path file, String problem, Throwable cause) {
        super(oneLine(file + ": " + problem), cause);
    }

    /** {@code location}: a path or a Hadoop URI. */
    public WeightsFormatException(String location, String problem) {
        super(oneLine(location + ": " + problem));
    }

    private static String oneLine(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_PROBLEM_CHARS + 16));
        for (int i = 0; i < s.length(); i++) {
            if (b.length() >= MAX_PROBLEM_CHARS) return b.append("... (").append(s.length() - i).append(" more characters)").toString();
            char c = s.charAt(i);
            if (c == '\n') b.append("\\n");
            else if (c == '\r') b.append("\\r");
            else if (Character.isISOControl(c)) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }
}
