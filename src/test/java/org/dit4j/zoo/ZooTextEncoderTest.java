package org.dit4j.zoo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.dit4j.models.clip.ClipTokenizer;
import org.dit4j.models.clip.FrozenClipEmbedder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

/** A text-encoder zoo entry (a Hugging Face folder: weights + config.json + tokenizer files) from a local HTTP server. */
class ZooTextEncoderTest {
    private static final Path FIXTURE = Fixtures.root().resolve("uvit/clip/text_encoder");
    @TempDir
    Path cache;
    private HttpServer server;
    private static final Map<String, byte[]> FOLDER = new HashMap<>();
    private final Map<String, byte[]> files = new HashMap<>();

    /** The folder's files, built once: the fixture tower, its HF config, and HF tokenizer files for openai's vocabulary. */
    @BeforeAll
    static void folder() throws IOException {
        Path gz = Fixtures.root().resolve("uvit/clip/vocab/bpe_simple_vocab_16e6.txt.gz");
        FOLDER.put("model.safetensors", Files.readAllBytes(FIXTURE.resolve("weights/pytorch_model.bin")));   // the container is sniffed, not named
        FOLDER.put("config.json", new ObjectMapper().readTree(FIXTURE.resolve("config.json").toFile()).get("hf_config").toString().getBytes(StandardCharsets.UTF_8));
        FOLDER.put("vocab.json", new ObjectMapper().writeValueAsBytes(new TreeMap<>(ClipTokenizer.fromOpenAiBpe(gz).vocabulary())));
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
            FOLDER.put("merges.txt", ("#version: 0.2\n" + String.join("\n", Arrays.copyOfRange(lines, 1, 48895)) + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    @BeforeEach
    void serve() throws IOException {
        files.putAll(FOLDER);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/m/clip-tiny/", ex -> {
            byte[] body = files.get(ex.getRequestURI().getPath().substring("/m/clip-tiny/".length()));
            ex.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
            ex.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private Zoo zoo() {
        Map<String, String> companions = new LinkedHashMap<>();
        for (String c : List.of("config.json", "vocab.json", "merges.txt")) companions.put(c, "https://example.invalid/clip-tiny/" + c);
        return new Zoo(cache, "http://127.0.0.1:" + server.getAddress().getPort() + "/m", List.of(new ZooEntry("clip-tiny", ZooEntry.TEXT_ENCODER,
                "tiny", 0, "clip-tiny/model.safetensors", "https://example.invalid/clip-tiny/model.safetensors", null, null, 36, 798_352, null,
                companions, 64L << 20)));
    }

    @Test
    void downloadsTheFolderVerifiesItAndEncodes() throws Exception {
        Zoo zoo = zoo();
        assertFalse(zoo.isCached("clip-tiny"));
        FrozenClipEmbedder clip = zoo.loadTextEncoder("clip-tiny", null);
        assertTrue(zoo.isCached("clip-tiny"));
        for (String f : List.of("model.safetensors", "config.json", "vocab.json", "merges.txt")) assertTrue(Files.isRegularFile(cache.resolve("clip-tiny").resolve(f)), f);
        List<String> prompts = fixturePrompts();
        Fixtures.assertClose(Npy.read(FIXTURE.resolve("last_hidden_state.npy")), clip.encode(prompts).context(), 1e-4, 1e-4, "zoo text encoder");
        assertNotNull(zoo.verify("clip-tiny"));
        IllegalArgumentException notDiT = assertThrows(IllegalArgumentException.class, () -> zoo.load("clip-tiny"));
        assertTrue(notDiT.getMessage().contains("text encoder"), notDiT.getMessage());
    }

    @Test
    void aMissingCompanionSaysWhereToPutTheFilesByHand() {
        files.remove("merges.txt");
        Zoo zoo = zoo();
        IOException e = assertThrows(IOException.class, () -> zoo.fetch("clip-tiny", null));
        assertTrue(e.getMessage().contains("merges.txt") && e.getMessage().contains("by hand")
                && e.getMessage().contains(cache.resolve("clip-tiny").resolve("model.safetensors").toString()), e.getMessage());
        assertFalse(zoo.isCached("clip-tiny"));
    }

    private static List<String> fixturePrompts() throws IOException {
        List<String> out = new ArrayList<>();
        new ObjectMapper().readTree(FIXTURE.resolve("prompts.json").toFile()).forEach(p -> out.add(p.get("text").asText()));
        return out;
    }
}
