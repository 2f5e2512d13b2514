package org.dit4j.models;

/** Weights whose architecture cannot be read off the file: the caller has to name it (a model name or config). */
public class UnknownArchitectureException extends IllegalArgumentException {
    public UnknownArchitectureException(String message) {
        super(message);
    }
}
