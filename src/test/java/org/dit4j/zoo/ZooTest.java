package org.dit4j.zoo;

import com.sun.net.httpserver.HttpServer;
import org.dit4j.Fixtures;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.*;

/** Downloads, resume, verification and caching against a local HTTP server on loopback; no test touches the internet. */
class ZooTest {
    @TempDir
    Path cache;
    private HttpServer server;
    private byte[] payload;
    private final List<String> ranges = new CopyOnWriteArrayList<>();

    @BeforeEach
    void serve() throws IOException {
        payload = Files.readAllBytes(Fixtures.tiny("weights/DiT-tiny.pt"));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/models/DiT-tiny.pt", ex -> {
            String range = ex.getRequestHeaders().getFirst("Range");
            ranges.add(range == null ? "none" : range);
            int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-.*", "$1"));
            byte[] body = Arrays.copyOfRange(payload, from, payload.length);
            if (range != null) ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (payload.length - 1) + "/" + payload.length);
            ex.sendResponseHeaders(range == null ? 200 : 206, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        // a mirror that accepts and never answers, one that stalls mid-body, one whose body never ends
        server.createContext("/stalled/DiT-tiny.pt", ex -> await(release));
        server.createContext("/trickle/DiT-tiny.pt", ex -> {
            ex.sendResponseHeaders(200, 0);
            ex.getResponseBody().write(payload, 0, 1000);
            ex.getResponseBody().flush();
            await(release);
        });
        server.createContext("/endless/DiT-tiny.pt", ex -> {
            ex.sendResponseHeaders(200, 0);
            try (OutputStream o = ex.getResponseBody()) {
                while (release.getCount() > 0) o.write(payload);
            } catch (IOException e) {
                // the client hung up, as it should
            }
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    private final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

    private static void await(java.util.concurrent.CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
        System.clearProperty(Downloader.READ_TIMEOUT);
    }

    private String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/models";
    }

    private Zoo zoo(String sha256, DiTConfig cfg) {
        return new Zoo(cache, base(), List.of(new ZooEntry("tiny", "dit", null, 64, "DiT-tiny.pt", "https://example.invalid/DiT-tiny.pt",
                sha256, null, 32, 183_200, cfg)));
    }

    private static DiTConfig tiny() {
        return DiTConfig.load(Fixtures.tiny("config.json"));
    }

    /** A manual entry (U-ViT's Google Drive files): never fetched, says where to put the file, verifies it on first use. */
    @Test
    void aManualEntryIsPutInTheCacheByHandAndVerifiedOnFirstUse() throws Exception {
        Zoo zoo = new Zoo(cache, base(), List.of(new ZooEntry("tiny", "dit", null, 64, "DiT-tiny.pt", "https://drive.google.com/file/d/x/view",
                null, null, 32, 183_200, tiny(), Map.of(), null, true, null)));
        var missing = assertThrows(IllegalArgumentException.class, () -> zoo.fetch("tiny", null));
        assertTrue(missing.getMessage().contains("by hand") && missing.getMessage().contains(zoo.path("tiny").toString()), missing.getMessage());
        assertEquals(0, ranges.size(), "nothing is requested");
        Files.createDirectories(zoo.path("tiny").getParent());
        Files.write(zoo.path("tiny"), Arrays.copyOf(payload, payload.length / 2));
        assertThrows(RuntimeException.class, () -> zoo.fetch("tiny", null), "a truncated file is refused");
        Files.write(zoo.path("tiny"), payload);
        assertEquals(zoo.path("tiny"), zoo.fetch("tiny", null));
        assertEquals(Downloader.sha256(zoo.path("tiny")), Files.readString(zoo.path("tiny").resolveSibling("DiT-tiny.pt.sha256")).split(" ")[0]);
    }

    @Test
    void downloadsOnceVerifiesAndRecordsTheHash() throws Exception {
        Zoo zoo = zoo(null, tiny());
        Path p = zoo.fetch("tiny", null);
        assertArrayEquals(payload, Files.readAllBytes(p));
        String recorded = Files.readString(p.resolveSibling("DiT-tiny.pt.sha256")).split(" ")[0];
        assertEquals(Downloader.sha256(p), recorded);
        zoo.fetch("tiny", null);
        assertEquals(1, ranges.size(), "a cached model is not downloaded again");
        assertEquals(recorded, zoo.verify("tiny"));
        DiTModel m = (DiTModel) zoo.load("tiny");
        Fixtures.assertClose(Fixtures.npy("forward_out.npy"), m.forward(Fixtures.npy("x.npy"), Fixtures.times("t.npy"), Fixtures.longs("y.npy")),
                1e-4, 1e-4, "forward of the zoo model");
    }

    @Test
    void resumesAPartialDownloadWithARangeRequest() throws Exception {
        Zoo zoo = zoo(null, tiny());
        Files.createDirectories(cache);
        Files.write(cache.resolve("DiT-tiny.pt.part"), Arrays.copyOf(payload, payload.length / 2));
        List<Long> progress = new ArrayList<>();
        Path p = zoo.fetch("tiny", (done, total) -> progress.add(done));
        assertEquals(List.of("bytes=" + payload.length / 2 + "-"), ranges);
        assertArrayEquals(payload, Files.readAllBytes(p));
        assertEquals(payload.length, progress.get(progress.size() - 1));
        assertFalse(Files.exists(cache.resolve("DiT-tiny.pt.part")));
    }

    @Test
    void aHashMismatchDeletesTheDownloadAndSaysWhy() {
        Zoo zoo = zoo("00".repeat(32), tiny());
        var e = assertThrows(IOException.class, () -> zoo.fetch("tiny", null));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
        assertFalse(Files.exists(cache.resolve("DiT-tiny.pt")));
        assertFalse(Files.exists(cache.resolve("DiT-tiny.pt.part")));
    }

    @Test
    void weightsThatDoNotFitTheArchitectureAreRejected() {
        DiTConfig wrong = new DiTConfig(8, 2, 4, 64, 3, 4, 4.0, 0.1, 10, true);
        var e = assertThrows(IOException.class, () -> zoo(null, wrong).fetch("tiny", null));
        assertTrue(e.getMessage().contains("missing keys: blocks.2."), e.getMessage());
        assertFalse(Files.exists(cache.resolve("DiT-tiny.pt")));
    }

    private Zoo zooAt(String path) {
        return new Zoo(cache, "http://127.0.0.1:" + server.getAddress().getPort() + path, List.of(new ZooEntry("tiny", "dit", null, 64,
                "DiT-tiny.pt", "https://example.invalid/DiT-tiny.pt", null, null, 32, 183_200, tiny())));
    }

    @Test
    void aStalledMirrorTimesOutInsteadOfHanging() {
        System.setProperty(Downloader.READ_TIMEOUT, "1");
        var e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> assertThrows(IOException.class, () -> zooAt("/stalled").fetch("tiny", null)));
        assertTrue(e.getMessage().contains("did not answer within 1 s"), e.getMessage());
        e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> assertThrows(IOException.class, () -> zooAt("/trickle").fetch("tiny", null)));
        assertTrue(e.getMessage().contains("stalled: no data for 1 s after 1000 bytes"), e.getMessage());
        assertFalse(Files.exists(cache.resolve("DiT-tiny.pt")));
    }

    @Test
    void anEndlessBodyStopsAtTheMostTheFileCanHold() {
        long max = Zoo.maxBytes(zooAt("/endless").entry("tiny"));
        var e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> assertThrows(IOException.class, () -> zooAt("/endless").fetch("tiny", null)));
        assertTrue(e.getMessage().contains("sent more than " + max + " bytes"), e.getMessage());
        assertFalse(Files.exists(cache.resolve("DiT-tiny.pt.part")), "the oversized part is deleted");
        assertFalse(Files.exists(cache.resolve("DiT-tiny.pt")));
    }

    @Test
    void anUnreachableHostExplainsHowToDownloadByHand() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Zoo zoo = new Zoo(cache, "http://127.0.0.1:" + port, List.of(new ZooEntry("tiny", "dit", null, 64, "DiT-tiny.pt",
                "https://example.invalid/DiT-tiny.pt", null, null, 0, 0, tiny())));
        var e = assertThrows(IOException.class, () -> zoo.fetch("tiny", null));
        assertTrue(e.getMessage().contains("offline"), e.getMessage());
        assertTrue(e.getMessage().contains(cache.resolve("DiT-tiny.pt").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("dit4j zoo verify tiny"), e.getMessage());
    }

    @Test
    void verifyCatchesATamperedFile() throws Exception {
        Zoo zoo = zoo(null, tiny());
        Path p = zoo.fetch("tiny", null);
        byte[] b = Files.readAllBytes(p);
        b[b.length - 100] ^= 1;
        Files.write(p, b);
        var e = assertThrows(IllegalArgumentException.class, () -> zoo.verify("tiny"));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
    }

    @Test
    void shippedManifestMatchesTheArchitectures() {
        List<ZooEntry> entries = Zoo.manifest();
        Set<String> names = new HashSet<>(List.of("DiT-XL/2-256", "DiT-XL/2-512", "FiTv1-XL/2", "sd-vae-ft-mse", "sd-vae-ft-ema", "clip-vit-large-patch14",
                "pt_inception-2015-12-05", "uvit-autoencoder-kl", "uvit-autoencoder-kl-ema"));
        names.addAll(org.dit4j.models.uvit.UViTModels.CLASS_NAMES);
        names.addAll(org.dit4j.models.uvit.UViTModels.T2I_NAMES);
        assertEquals(names, new HashSet<>(entries.stream().map(ZooEntry::name).toList()));
        for (ZooEntry e : entries) {
            Map<String, long[]> shapes = e.isVae() ? org.dit4j.models.vae.AutoencoderKL.parameterShapes(e.vaeConfig())
                    : e.isTextEncoder() ? org.dit4j.models.clip.ClipTextModel.shapes(org.dit4j.models.clip.ClipTextConfig.VIT_L_14)
                    : e.isInception() ? org.dit4j.models.inception.FidInceptionV3.stateDictShapes()
                    : org.dit4j.models.ModelFamilies.of(e.config()).shapes(e.config());
            assertEquals(e.tensors(), shapes.size(), e.name());
            assertEquals(e.values(), shapes.values().stream().mapToLong(s -> Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum(), e.name());
            if (!e.isVae() && !e.isTextEncoder() && !e.isInception()) assertEquals(e.kind(), e.config().family(), e.name());
            // U-ViT's files are on Google Drive: fetched by hand, each names the autoencoder its config uses
            assertEquals(e.url().startsWith("https://drive.google.com/"), e.manual(), e.name());
            if (e.vae() != null) assertTrue(names.contains(e.vae()) && Zoo.manifest().stream().anyMatch(v -> v.name().equals(e.vae()) && v.isVae()), e.name());
            if (e.manual()) continue;
            assertTrue(e.url().startsWith(e.isVae() ? "https://huggingface.co/stabilityai/" : e.kind().equals("fit") ? "https://huggingface.co/InfImagine/FiT/"
                    : e.isTextEncoder() ? "https://huggingface.co/openai/"
                    : e.isInception() ? "https://github.com/mseitzer/pytorch-fid/releases/"
                    : "https://dl.fbaipublicfiles.com/DiT/models/"), e.url());
        }
        assertEquals(256, ((org.dit4j.models.fit.FiTConfig) Zoo.standard().entry("FiTv1-XL/2").config()).contextSize());
        assertEquals(32, entries.get(0).config().inputSize());
        assertEquals(64, entries.get(1).config().inputSize());
    }
}
