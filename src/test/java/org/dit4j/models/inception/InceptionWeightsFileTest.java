package org.dit4j.models.inception;

import com.sun.net.httpserver.HttpServer;
import org.dit4j.io.TorchZipWriter;
import org.dit4j.io.WeightsFormatException;
import org.dit4j.zoo.Zoo;
import org.dit4j.zoo.ZooEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.dit4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The weights through the safe {@code torch.save} reader (a file without the num_batches_tracked counters, as the 2019
 * release may be) and through the zoo: downloaded once, verified against the architecture, cached.
 */
class InceptionWeightsFileTest {
    @TempDir
    Path dir;

    private Path writeWeights() throws Exception {
        Map<String, INDArray> floats = new LinkedHashMap<>();
        InceptionFixtureWeights.stateDict().forEach((k, v) -> {
            if (!k.endsWith("num_batches_tracked")) floats.put(k, v);
        });
        Path pt = dir.resolve("pt_inception-2015-12-05-6726825d.pth");
        TorchZipWriter.write(pt, floats);
        return pt;
    }

    @Test
    void torchSaveFileGivesTheOfficialPool3() throws Exception {
        Path pt = writeWeights();
        FidInceptionV3 net = FidInceptionV3.load(pt);
        INDArray pool3 = net.forward(FidInceptionV3ParityTest.input(2, InceptionPreprocess.PYTORCH_FID), FidInceptionV3.Output.POOL3).get(FidInceptionV3.Output.POOL3);
        assertClose(org.dit4j.io.Npy.read(InceptionFixtureWeights.eval("inception/img2/pool3.npy")), pool3.slice(0), 1e-4, 0, "pool3");
    }

    @Test
    void zooDownloadsVerifiesAndCaches() throws Exception {
        Path pt = writeWeights();
        byte[] body = Files.readAllBytes(pt);
        int[] hits = {0};
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            hits[0]++;
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        try {
            ZooEntry shipped = Zoo.standard().entry("pt_inception-2015-12-05");
            Zoo zoo = new Zoo(dir.resolve("cache"), "http://127.0.0.1:" + server.getAddress().getPort(), List.of(shipped));
            assertNotNull(zoo.loadInception("pt_inception-2015-12-05"));
            assertTrue(zoo.isCached("pt_inception-2015-12-05"));
            zoo.verify("pt_inception-2015-12-05");
            zoo.loadInception("pt_inception-2015-12-05");
            assertEquals(1, hits[0], "downloaded once");
            assertThrows(IllegalArgumentException.class, () -> zoo.load("pt_inception-2015-12-05"));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aForeignFileIsRefusedByName() throws Exception {
        Path pt = dir.resolve("other.pt");
        TorchZipWriter.write(pt, Map.of("fc.weight", org.nd4j.linalg.factory.Nd4j.zeros(1000, 2048)));
        WeightsFormatException e = assertThrows(WeightsFormatException.class, () -> FidInceptionV3.load(pt));
        assertTrue(e.getMessage().startsWith(pt.toString()) && e.getMessage().contains("missing keys: Conv2d_1a_3x3.conv.weight")
                && e.getMessage().contains("fc.weight"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
