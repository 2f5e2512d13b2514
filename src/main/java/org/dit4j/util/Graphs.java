package org.dit4j.util;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;

/** How dit4j creates its SameDiff graphs. */
public final class Graphs {
    private Graphs() {}

    /**
     * An empty graph whose variables and constants are stored once. M2.1's default holder (ThreadSafeArrayHolder) keeps
     * a second copy of every array it is given, so a DiT-XL/2 would take 5.4 GB instead of its 2.7 GB. Each dit4j
     * graph is executed by one thread at a time (replicas and workers have their own), which is all this holder needs.
     */
    public static SameDiff create() {
        SameDiff sd = SameDiff.create();
        sd.setArrayHolders(new SingleThreadArrayHolder(), new SingleThreadArrayHolder(), false);
        return sd;
    }
}
