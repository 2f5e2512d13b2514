package org.dit4j.zoo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.io.Weights;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.io.VaeWeights;
import org.dit4j.models.inception.FidInceptionV3;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.models.Denoiser;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.clip.ClipTextModel;
import org.dit4j.models.clip.ClipTokenizer;
import org.dit4j.models.clip.FrozenClipEmbedder;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.*;

/**
 * Pretrained weights (diffusion models and autoencoders), downloaded once, verified and cached — DL4J's {@code ZooModel.initPretrained} habit:
 * {@code Zoo.standard().load("DiT-XL/2-256")}. The cache is {@code ~/.dit4j/models} (system property
 * {@code dit4j.home} or environment variable {@code DIT4J_HOME} move it); {@code dit4j.zoo.baseUrl} /
 * {@code DIT4J_ZOO_BASE_URL} replace the download host (a mirror, or a local server in tests).
 */
public final class Zoo {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path cacheDir;
    private final String baseUrl;
    private final Map<String, ZooEntry> entries;

    public Zoo(Path cacheDir, String baseUrl, List<ZooEntry> entries) {
        this.cacheDir = cacheDir;
        this.baseUrl = baseUrl;
        this.entries = new LinkedHashMap<>();
        for (ZooEntry e : entries) this.entries.put(e.name(), e);
    }

    /** The shipped manifest with the configured cache and host. */
    public static Zoo standard() {
        String home = setting("dit4j.home", "DIT4J_HOME");
        Path dir = (home != null ? Paths.get(home) : Paths.get(System.getProperty("user.home"), ".dit4j")).resolve("models");
        return new Zoo(dir, setting("dit4j.zoo.baseUrl", "DIT4J_ZOO_BASE_URL"), manifest());
    }

    private static String setting(String property, String env) {
        String v = System.getProperty(property);
        return v != null ? v : System.getenv(env);
    }

    static List<ZooEntry> manifest() {
        try (InputStream in = Zoo.class.getResourceAsStream("/zoo/models.json")) {
            if (in == null) throw new IllegalStateException("zoo manifest missing from the build");
            return parse(JSON.readTree(in));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<ZooEntry> parse(JsonNode root) {
        List<ZooEntry> out = new ArrayList<>();
        for (JsonNode m : root.path("models")) {
            ModelConfig inline = m.has("model_config") ? ModelFamilies.fromMap(JSON.convertValue(m.get("model_config"), Map.class), "zoo entry " + m.path("name").asText()) : null;
            Map<String, String> companions = new LinkedHashMap<>();
            m.path("companions").fields().forEachRemaining(c -> companions.put(c.getKey(), c.getValue().asText()));
            out.add(new ZooEntry(m.path("name").asText(), m.path("kind").asText("dit"), m.path("architecture").asText(null), m.path("image_size").asInt(0),
                    m.path("file").asText(), m.path("url").asText(), m.path("sha256").asText(null),
                    m.has("size") ? m.get("size").asLong() : null, m.path("tensors").asInt(0), m.path("values").asLong(0), inline,
                    companions, m.has("max_bytes") ? m.get("max_bytes").asLong() : null, m.path("manual").asBoolean(false),
                    m.path("vae").asText(null)));
        }
        return out;
    }

    public Collection<ZooEntry> list() {
        return Collections.unmodifiableCollection(entries.values());
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    public ZooEntry entry(String name) {
        ZooEntry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException("no zoo model named '" + name + "' (available: " + String.join(", ", entries.keySet()) + ")");
        return e;
    }

    /** Where the entry's file lives in the cache (present or not). */
    public Path path(String name) {
        return cacheDir.resolve(entry(name).file());
    }

    public boolean isCached(String name) {
        ZooEntry e = entry(name);
        Path target = path(name);
        return Files.isRegularFile(target) && e.companions().keySet().stream().allMatch(c -> Files.isRegularFile(target.resolveSibling(c)));
    }

    String url(ZooEntry e) {
        return baseUrl == null ? e.url() : baseUrl.replaceAll("/+$", "") + "/" + e.file();
    }

    private String companionUrl(ZooEntry e, String companion) {
        if (baseUrl == null) return e.companions().get(companion);
        Path rel = Paths.get(e.file()).resolveSibling(companion);
        return baseUrl.replaceAll("/+$", "") + "/" + rel.toString().replace('\\', '/');
    }

    /** The cached file, downloading and verifying it (and its companions, first) if needed. */
    public Path fetch(String name, DownloadProgress progress) throws IOException {
        ZooEntry e = entry(name);
        Path target = path(name);
        for (String c : e.companions().keySet()) {
            Path file = target.resolveSibling(c);
            if (!Files.isRegularFile(file))
                new Downloader(companionUrl(e, c), file, null, null, COMPANION_MAX_BYTES, () -> helpForManualDownload(e, target)).download(null, f -> {});
        }
        if (e.manual()) {
            if (!Files.isRegularFile(target))
                throw new IllegalArgumentException(name + " cannot be downloaded with plain HTTP: " + helpForManualDownload(e, target));
            if (recordedHash(target) == null) verify(name);   // a file put there by hand: checked once, then trusted by its hash
            return target;
        }
        if (Files.isRegularFile(target)) return target;
        new Downloader(url(e), target, e.sha256(), e.size(), maxBytes(e), () -> helpForManualDownload(e, target))
                .download(progress, file -> verifyContents(e, file));
        recordHash(target, Downloader.sha256(target));
        return target;
    }

    /** A companion is a config or tokenizer file (clip-vit-large-patch14's vocab.json: under 1 MiB). */
    static final long COMPANION_MAX_BYTES = 16L << 20;

    /** The most an entry's file can take when the manifest gives no size: its {@code max_bytes}, else its values as float64 plus 16 MiB of container. */
    static long maxBytes(ZooEntry e) {
        if (e.maxBytes() != null) return e.maxBytes();
        return e.values() > 0 ? e.values() * 8 + (16L << 20) : 64L << 30;
    }

    /** Checks a cached file: the hash recorded at download (or the manifest's), then its tensors against the architecture. */
    public String verify(String name) throws IOException {
        ZooEntry e = entry(name);
        Path file = path(name);
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(name + " is not downloaded yet: " + helpForManualDownload(e, file));
        String hash = Downloader.sha256(file);
        String expected = e.sha256() != null ? e.sha256() : recordedHash(file);
        if (expected != null && !expected.equalsIgnoreCase(hash))
            throw new IllegalArgumentException(file + ": SHA-256 " + hash + " differs from the expected " + expected + "; delete it and download again");
        verifyContents(e, file);
        if (expected == null) recordHash(file, hash);
        return hash;
    }

    private static void verifyContents(ZooEntry e, Path file) {
        Map<String, org.nd4j.linalg.api.ndarray.INDArray> weights = e.isInception()
                ? FidInceptionV3.checkedStateDict(TorchCheckpoint.loadStateDict(file, TorchCheckpoint.Pick.EMA), file.toString())
                : e.isVae()
                ? VaeWeights.load(file, e.vaeConfig()).weights()
                : e.isTextEncoder() ? textEncoderWeights(file)
                : Weights.load(file, null, e.config(), TorchCheckpoint.Pick.EMA).weights();
        long values = weights.values().stream().mapToLong(org.nd4j.linalg.api.ndarray.INDArray::length).sum();
        if (e.tensors() > 0 && weights.size() != e.tensors())
            throw new IllegalArgumentException(file + ": " + weights.size() + " tensors, " + e.name() + " has " + e.tensors());
        if (e.values() > 0 && values != e.values())
            throw new IllegalArgumentException(file + ": " + values + " values, " + e.name() + " has " + e.values());
    }

    /** A text encoder's tensors, read with the config.json beside them; its tokenizer files must load too. */
    private static Map<String, org.nd4j.linalg.api.ndarray.INDArray> textEncoderWeights(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        ClipTokenizer.load(dir);
        return ClipTextModel.load(file).stateDict();
    }

    private static Path hashFile(Path file) {
        return file.resolveSibling(file.getFileName() + ".sha256");
    }

    private static String recordedHash(Path file) throws IOException {
        Path h = hashFile(file);
        return Files.isRegularFile(h) ? Files.readString(h, StandardCharsets.US_ASCII).trim().split("\\s+")[0] : null;
    }

    private static void recordHash(Path file, String hash) throws IOException {
        org.dit4j.io.AtomicFiles.write(hashFile(file), o -> o.write((hash + "  " + file.getFileName() + "\n").getBytes(StandardCharsets.US_ASCII)));
    }

    private String helpForManualDownload(ZooEntry e, Path target) {
        String companions = e.companions().isEmpty() ? "" : " (and " + String.join(", ", e.companions().values()) + " beside it, under their own names)";
        return "download " + e.url() + " by hand, save it as " + target + companions + ", then run: dit4j zoo verify " + e.name();
    }

    /**
     * U-ViT's {@code FrozenCLIPEmbedder}: {@code pathOrName} is a Hugging Face CLIP folder or weights file when it
     * exists, else a zoo text encoder ({@code clip-vit-large-patch14}), downloaded and verified first; {@code tokenizer}
     * null means the tokenizer files beside the model.
     */
    public FrozenClipEmbedder loadTextEncoder(String pathOrName, Path tokenizer) throws IOException {
        Path p = Paths.get(pathOrName);
        if (Files.exists(p)) return FrozenClipEmbedder.load(p, tokenizer);
        ZooEntry e = entries.get(pathOrName);
        if (e == null || !e.isTextEncoder())
            throw new IllegalArgumentException("'" + pathOrName + "' is neither a file or folder nor a zoo text encoder (" + String.join(", ",
                    entries.values().stream().filter(ZooEntry::isTextEncoder).map(ZooEntry::name).toList()) + ")");
        return FrozenClipEmbedder.load(fetch(pathOrName, null), tokenizer);
    }

    /** The pretrained autoencoder ({@code sd-vae-ft-mse}, {@code sd-vae-ft-ema}). */
    public AutoencoderKL loadVae(String name) throws IOException {
        ZooEntry e = entry(name);
        return VaeWeights.loadModel(fetch(name, null), e.vaeConfig());
    }

    /** pytorch-fid's FID InceptionV3 with its verified weights. */
    public FidInceptionV3 loadInception(String name) throws IOException {
        if (!entry(name).isInception()) throw new IllegalArgumentException(name + " is not an Inception feature extractor");
        return FidInceptionV3.load(fetch(name, null));
    }

    /** {@code initPretrained}: the model with its verified pretrained weights. */
    public Denoiser load(String name) throws IOException {
        ZooEntry e = entry(name);
        Path file = fetch(name, null);
        ModelConfig cfg = e.config();
        return ModelFamilies.of(cfg).create(cfg, Weights.load(file, null, cfg, TorchCheckpoint.Pick.EMA).weights(), file.toString());
    }
}
