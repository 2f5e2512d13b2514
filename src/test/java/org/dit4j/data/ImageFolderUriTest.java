package org.dit4j.data;

import org.dit4j.io.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.dit4j.cli.ForwardCommandTest.stderrOf;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** An image folder behind a Hadoop URI (file://, through Hadoop's FileSystem) gives the examples of the folder itself. */
class ImageFolderUriTest {
    @Test
    void aFileUriListsAndReadsTheFoldersExamplesInItsOrder(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        for (String c : new String[]{"zebra", "ant", "Moth"})
            for (String n : new String[]{"b.png", "A.PNG", "c_1.png", "c-2.png"})
                Images.writePng(Files.createDirectories(data.resolve(c)).resolve(n), Images.toImage(Nd4j.rand(3, 12, 10).muli(2).subi(1)));
        Files.writeString(data.resolve("ant/notes.txt"), "not an image");
        Files.createDirectories(data.resolve("ant/folder.png"));
        Files.writeString(data.resolve("zebra/broken.png"), "not a png");
        Files.writeString(data.resolve("README"), "beside the class folders");
        Files.writeString(data.resolve(ImageFolderData.CLASS_IDS), "{\"zebra\": 0, \"ant\": 2, \"Moth\": 1}");
        Path fifo = data.resolve("Moth/fifo.png");
        assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo");

        ImageFolderData local = new ImageFolderData(data, 8);
        String uri = data.toUri().toString();
        assertTrue(uri.startsWith("file:/"), uri);
        ImageFolderData remote = new ImageFolderData(uri, 8);
        assertEquals(13, local.size(), "12 images and the broken one");
        assertEquals(local.size(), remote.size());
        assertEquals(local.classes(), remote.classes());
        for (int i = 0; i < local.size(); i++) {
            assertEquals(local.label(i), remote.label(i), "label " + i);
            assertTrue(remote.file(i).startsWith(uri) && remote.file(i).endsWith(Path.of(local.file(i)).getFileName().toString()), remote.file(i));
        }
        long[] all = new long[local.size()];
        boolean[] flips = new boolean[all.length];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
            flips[i] = i % 3 == 0;
        }
        String err = stderrOf(() -> {
            TrainingData.Batch a = local.batch(all, flips), b = remote.batch(all, flips);
            assertArrayEquals(a.labels(), b.labels());
            assertEquals(a.x(), b.x());
        });
        assertTrue(err.contains("broken.png"), err);
        assertEquals(local.describe(), remote.describe());
        int broken = 0;
        while (!remote.file(broken).endsWith("zebra/broken.png")) broken++;
        assertTrue(remote.problem(broken).startsWith(remote.file(broken) + ": "), remote.problem(broken));
        assertNull(remote.problem(0));
    }

    @Test
    void aMissingOrUnreachableFolderIsOneLineNamingTheUri(@TempDir Path dir) {
        String missing = dir.resolve("absent").toUri().toString();
        var e = assertThrows(IllegalArgumentException.class, () -> new ImageFolderData(missing, 8));
        assertTrue(e.getMessage().startsWith("image folder " + missing) && e.getMessage().contains("no such file"), e.getMessage());
        String unreachable = "hdfs://127.0.0.1:1/data";
        e = assertThrows(IllegalArgumentException.class, () -> new ImageFolderData(unreachable, 8));
        assertTrue(e.getMessage().contains(unreachable) && e.getMessage().contains("Connection refused"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
