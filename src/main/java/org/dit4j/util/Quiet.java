package org.dit4j.util;

import java.io.OutputStream;
import java.io.PrintStream;

/** Runs library code that writes progress noise to stdout (SameDiff's createGradFunction does) with stdout muted. */
public final class Quiet {
    private Quiet() {}

    public static synchronized void run(Runnable r) {
        PrintStream out = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            r.run();
        } finally {
            System.setOut(out);
        }
    }
}
