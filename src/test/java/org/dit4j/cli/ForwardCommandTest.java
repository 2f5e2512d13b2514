package org.dit4j.cli;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code dit4j forward}: one evaluation of a checkpoint on given inputs, for checking weights against PyTorch. */
public class ForwardCommandTest {
    private static String[] args(Path x, Path t, Path y, Path out) {
        return new String[]{"forward", "--ckpt", Fixtures.tiny("weights/DiT-tiny.pt").toString(), "--model-config",
                Fixtures.tiny("config.json").toString(), "--x", x.toString(), "--t", t.toString(), "--y", y.toString(), "--out", out.toString()};
    }

    @Test
    void reproducesTheOfficialForwardOfTheTinyDiT(@TempDir Path dir) {
        Path out = dir.resolve("out.npy");
        assertEquals(0, Dit4j.run(args(Fixtures.tiny("x.npy"), Fixtures.tiny("t.npy"), Fixtures.tiny("y.npy"), out)));
        Fixtures.assertClose(Fixtures.npy("forward_out.npy"), Npy.read(out), 1e-4, 1e-4, "dit4j forward");
    }

    @Test
    void takesFloat64InputsAndFractionalTimesteps(@TempDir Path dir) throws Exception {
        INDArray x = Fixtures.npy("x.npy");
        Path x64 = dir.resolve("x64.npy"), tFrac = dir.resolve("t.npy"), tInt = dir.resolve("ti.npy");
        Npy.write(x64, x.castTo(DataType.DOUBLE));
        double[] t = Fixtures.times("t.npy");
        double[] frac = t.clone();
        for (int i = 0; i < frac.length; i++) frac[i] += 0.5;
        Npy.write(tFrac, Nd4j.createFromArray(frac));
        Npy.write(tInt, Nd4j.createFromArray(t).castTo(DataType.LONG));
        Path a = dir.resolve("a.npy"), b = dir.resolve("b.npy");
        assertEquals(0, Dit4j.run(args(x64, tInt, Fixtures.tiny("y.npy"), a)));
        Fixtures.assertClose(Fixtures.npy("forward_out.npy"), Npy.read(a), 1e-4, 1e-4, "float64 x, int64 t");
        assertEquals(0, Dit4j.run(args(x64, tFrac, Fixtures.tiny("y.npy"), b)));
        assertTrue(Fixtures.maxAbsDiff(Npy.read(a), Npy.read(b)) > 0, "t + 0.5 changes the output");
    }

    @Test
    void badShapesGetOneLineNamingTheFile(@TempDir Path dir) throws Exception {
        Path x = dir.resolve("x.npy"), out = dir.resolve("out.npy");
        Npy.write(x, Nd4j.zeros(DataType.FLOAT, 2, 3, 8, 8));
        String err = stderrOf(() -> assertEquals(2, Dit4j.run(args(x, Fixtures.tiny("t.npy"), Fixtures.tiny("y.npy"), out))));
        assertTrue(err.contains(x.toString()) && err.contains("(N, 4, 8, 8)"), err);
        assertEquals(1, err.strip().lines().count(), err);
        Path t = dir.resolve("t2.npy");
        Npy.write(t, Nd4j.zeros(DataType.FLOAT, 2, 2));
        err = stderrOf(() -> assertEquals(2, Dit4j.run(args(Fixtures.tiny("x.npy"), t, Fixtures.tiny("y.npy"), out))));
        assertTrue(err.contains(t.toString()) && err.contains("1-D"), err);
        assertFalse(Files.exists(out), "no output on failure");
    }

    public static String stdoutOf(Runnable r) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            r.run();
        } finally {
            System.setOut(old);
        }
        return buf.toString();
    }

    public static String stderrOf(Runnable r) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            r.run();
        } finally {
            System.setErr(old);
        }
        return buf.toString();
    }
}
