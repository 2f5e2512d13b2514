package org.dit4j.io;

import org.dit4j.Fixtures;
import org.dit4j.cli.Dit4j;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

import static org.dit4j.cli.ForwardCommandTest.stderrOf;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The one output writer: what it may replace, the modes it gives, the temporaries a killed process leaves. */
class AtomicFilesTest {
    private static String[] convert(Path in, Path out) {
        return new String[]{"convert", "--in", in.toString(), "--model-config", Fixtures.tiny("config.json").toString(), "--out", out.toString()};
    }

    private static void assertOneLineNaming(String err, Path path) {
        assertTrue(err.contains(path.toString()), err);
        assertEquals(1, err.strip().lines().count(), err);
    }

    @Test
    void convertKeepsAFolderItDidNotWriteAndReplacesItsOwnCheckpoint(@TempDir Path dir) throws IOException {
        Path out = Files.createDirectory(dir.resolve("out"));
        Files.writeString(out.resolve("precious.txt"), "keep");
        String err = stderrOf(() -> assertEquals(2, Dit4j.run(convert(Fixtures.tiny("weights/DiT-tiny.pt"), out))));
        assertOneLineNaming(err, out.toAbsolutePath());
        assertEquals("keep", Files.readString(out.resolve("precious.txt")));

        // the input inside the output folder: the folder holds a foreign file, so it stays
        Path ckpt = dir.resolve("ckpt");
        assertEquals(0, Dit4j.run(convert(Fixtures.tiny("weights/DiT-tiny.pt"), ckpt)));
        Path single = ckpt.resolve("x.safetensors");
        assertEquals(0, Dit4j.run("convert", "--in", ckpt.toString(), "--to", "safetensors", "--out", single.toString()));
        err = stderrOf(() -> assertEquals(2, Dit4j.run(convert(single, ckpt))));
        assertOneLineNaming(err, ckpt.toAbsolutePath());
        assertTrue(Files.isRegularFile(single), "the input survives");

        // a folder dit4j wrote (and nothing else) is replaced
        Files.delete(single);
        assertEquals(0, Dit4j.run(convert(Fixtures.tiny("weights/DiT-tiny.pt"), ckpt)));
        assertTrue(Checkpoint.isCheckpointDir(ckpt));
    }

    @Test
    void linksFifosAndFoldersAreNeverWrittenOver(@TempDir Path dir) throws Exception {
        Path target = Files.writeString(dir.resolve("target.npy"), "keep");
        Path link = Files.createSymbolicLink(dir.resolve("link.npy"), target);
        var e = assertThrows(IOException.class, () -> AtomicFiles.write(link, o -> o.write(1)));
        assertTrue(e.getMessage().contains(link.toAbsolutePath().toString()) && e.getMessage().contains("symbolic link"), e.getMessage());
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("keep", Files.readString(target));
        assertThrows(IOException.class, () -> AtomicFiles.writeDirectory(link, d -> {}));

        Path folder = Files.createDirectory(dir.resolve("folder.npy"));
        e = assertThrows(IOException.class, () -> AtomicFiles.write(folder, o -> o.write(1)));
        assertTrue(e.getMessage().contains("is a folder"), e.getMessage());

        Path fifo = dir.resolve("fifo.npy");
        assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo");
        e = assertThrows(IOException.class, () -> AtomicFiles.write(fifo, o -> o.write(1)));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        assertFalse(Files.isRegularFile(fifo));
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporaries left");
        }
    }

    @Test
    void outputsGetTheUmasksModes(@TempDir Path dir) throws IOException {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
        // plain createFile/createDirectory apply the process umask; outputs must end up the same
        Set<PosixFilePermission> fileMode = Files.getPosixFilePermissions(Files.createFile(dir.resolve("probe")));
        Set<PosixFilePermission> dirMode = Files.getPosixFilePermissions(Files.createDirectory(dir.resolve("probe-dir")));
        Path file = dir.resolve("x.bin");
        AtomicFiles.write(file, o -> o.write(1));
        assertEquals(fileMode, Files.getPosixFilePermissions(file));
        Path folder = dir.resolve("ckpt");
        AtomicFiles.writeDirectory(folder, d -> Files.writeString(d.resolve(Checkpoint.CONFIG), "model: {}"));
        assertEquals(dirMode, Files.getPosixFilePermissions(folder));
    }

    @Test
    void theNextWriteRemovesTheTemporariesOfAKilledProcess(@TempDir Path dir) throws IOException {
        // pids above the kernel's pid_max (4194304 at most) belong to no process; pid 1 is always alive
        Path dead = Files.writeString(dir.resolve(".000000-class1.png.999999999-0badf00d.tmp"), "half");
        Path deadDir = Files.createDirectory(dir.resolve(".step-00000002.999999998-0badf00d.tmp"));
        Files.writeString(deadDir.resolve("model.safetensors"), "half");
        Path alive = Files.writeString(dir.resolve(".grid.png.1-0badf00d.tmp"), "being written");
        // killed between its two renames: the replaced folder is put back under its name
        Path old = Files.createDirectory(dir.resolve(".step-00000001.999999997-0badf00d.old"));
        Files.writeString(old.resolve("state.json"), "{}");
        Path user = Files.writeString(dir.resolve(".notes.tmp"), "mine");

        AtomicFiles.write(dir.resolve("000000-class1.png"), o -> o.write("png".getBytes(StandardCharsets.US_ASCII)));
        assertFalse(Files.exists(dead));
        assertFalse(Files.exists(deadDir));
        assertTrue(Files.exists(alive), "a live process's temporary stays");
        assertTrue(Files.isRegularFile(dir.resolve("step-00000001/state.json")), "the half-replaced folder is restored");
        assertTrue(Files.exists(user), "names dit4j does not make are not touched");
    }
}
