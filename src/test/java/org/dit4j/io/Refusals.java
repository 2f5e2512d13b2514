package org.dit4j.io;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Assertions shared by the hostile-input tests: one-line refusals naming the file, made within a heap budget. */
final class Refusals {
    private Refusals() {}

    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /**
     * {@code read} fails with a one-line WeightsFormatException that names {@code file} and contains {@code expected},
     * allocating less than {@code heapBudget} bytes on this thread meanwhile (the hostile inputs used to take gigabytes).
     */
    static WeightsFormatException refused(Path file, long heapBudget, String expected, Runnable read) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        WeightsFormatException e = assertThrows(WeightsFormatException.class, read::run);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        String m = e.getMessage();
        assertTrue(m.startsWith(file.toString() + ": "), m);
        assertFalse(m.contains("\n") || m.contains("\r"), m);
        assertTrue(m.contains(expected), "expected '" + expected + "' in: " + m);
        assertTrue(allocated < heapBudget, "allocated " + allocated + " bytes (budget " + heapBudget + ") before refusing: " + m);
        return e;
    }

    static WeightsFormatException refused(Path file, String expected, Runnable read) {
        return refused(file, 32L << 20, expected, read);
    }

    /** Heap bytes {@code read} allocates on this thread. */
    static long allocated(Runnable read) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        read.run();
        return THREADS.getCurrentThreadAllocatedBytes() - before;
    }
}
