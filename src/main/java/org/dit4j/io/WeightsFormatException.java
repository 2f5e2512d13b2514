package org.dit4j.io;

import java.nio.file.Path;

/** A weights, tensor or config file that cannot be read as what it claims to be; the message names the file. */
public class WeightsFormatException extends RuntimeException {
    public WeightsFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public WeightsFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
