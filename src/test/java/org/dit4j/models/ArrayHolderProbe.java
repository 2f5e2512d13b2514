package org.dit4j.models;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/** Run in its own JVM by SameDiffTrapsTest: prints the resident-memory growth of sd.var(64 MB) for both array holders. */
public final class ArrayHolderProbe {
    private ArrayHolderProbe() {}

    public static void main(String[] args) throws Exception {
        long n = 16_000_000L;
        Function<SameDiff, Long> growth = sd -> {
            INDArray w = Nd4j.ones(DataType.FLOAT, n);
            long before = residentBytes();
            sd.var("w", w);
            return residentBytes() - before;
        };
        long plain = growth.apply(SameDiff.create()), single = growth.apply(org.dit4j.util.Graphs.create());
        System.out.println(plain + " " + single);
    }

    private static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
