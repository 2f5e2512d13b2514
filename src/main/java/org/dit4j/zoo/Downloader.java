package org.dit4j.zoo;

import org.dit4j.io.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.UnknownHostException;
import java.nio.file.*;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One file over HTTP(S) into {@code target}: written to {@code target.part}, resumed with a Range request when a
 * partial file exists, checked (size, SHA-256, then the caller's check) and only then renamed into place. Connecting
 * and every read have a timeout ({@value #CONNECT_TIMEOUT} and {@value #READ_TIMEOUT}, in seconds; 20 and 30 by
 * default), so a stalled mirror fails instead of hanging, and a body longer than the most the file can be stops there.
 * {@link HttpURLConnection} rather than {@code HttpClient}: only it has a timeout on each read of the body.
 */
final class Downloader {
    static final String CONNECT_TIMEOUT = "dit4j.download.connectTimeout", READ_TIMEOUT = "dit4j.download.readTimeout";
    private static final int MAX_REDIRECTS = 5;
    private final String url;
    private final Path target;
    private final String sha256;
    private final Long size;
    private final long maxBytes;
    private final Supplier<String> manualHelp;

    /** {@code maxBytes}: the most the file can hold when {@code size} is unknown (a bound from its contents). */
    Downloader(String url, Path target, String sha256, Long size, long maxBytes, Supplier<String> manualHelp) {
        this.url = url;
        this.target = target;
        this.sha256 = sha256;
        this.size = size;
        this.maxBytes = size != null ? size : maxBytes;
        this.manualHelp = manualHelp;
    }

    Path part() {
        return target.resolveSibling(target.getFileName() + ".part");
    }

    void download(DownloadProgress progress, Consumer<Path> check) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        Path part = part();
        AtomicFiles.requireReplaceableFile(part);
        AtomicFiles.requireReplaceableFile(target);
        long have = Files.isRegularFile(part) ? Files.size(part) : 0;
        int readSeconds = seconds(READ_TIMEOUT, 30);
        HttpURLConnection c;
        int status;
        try {
            c = connect(have, seconds(CONNECT_TIMEOUT, 20), readSeconds);
            status = c.getResponseCode();
        } catch (ConnectException | UnknownHostException e) {
            throw new IOException("cannot reach " + url + " (offline?): " + manualHelp.get());
        } catch (SocketTimeoutException e) {
            throw new IOException(url + " did not answer within " + readSeconds + " s (a stalled server or mirror): try again later, or "
                    + manualHelp.get());
        }
        try {
            boolean append = status == 206 && have > 0;
            if (status == 416 && have > 0) {
                append = true;   // the partial file is already complete
            } else if (status != 200 && status != 206) {
                throw new IOException(url + " answered HTTP " + status + ": " + manualHelp.get());
            }
            if (!append) have = 0;
            long length = c.getContentLengthLong();
            long total = size != null ? size : length >= 0 ? length + have : -1;
            if (status != 416) {
                long done = have;
                try (InputStream in = c.getInputStream();
                     OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE,
                             append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                    byte[] buf = new byte[1 << 16];
                    for (int n; (n = in.read(buf)) > 0; ) {
                        if (done + n > maxBytes) {
                            out.close();
                            Files.deleteIfExists(part);
                            throw new IOException(url + " sent more than " + maxBytes + " bytes, " + (size != null ? "the size the zoo manifest gives"
                                    : "the most the file's tensors can take") + "; download rejected and deleted");
                        }
                        out.write(buf, 0, n);
                        done += n;
                        if (progress != null) progress.update(done, total);
                    }
                } catch (SocketTimeoutException e) {
                    throw new IOException(url + " stalled: no data for " + readSeconds + " s after " + done + " bytes; run again to resume");
                }
            }
        } finally {
            c.disconnect();
        }
        try {
            long got = Files.size(part);
            if (size != null && got != size) throw new IOException("downloaded " + got + " bytes, expected " + size);
            if (sha256 != null) {
                String hash = sha256(part);
                if (!hash.equalsIgnoreCase(sha256)) throw new IOException("SHA-256 " + hash + " differs from the expected " + sha256);
            }
            check.accept(part);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(part);
            throw new IOException(url + ": download rejected and deleted (" + e.getMessage() + ")");
        }
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Follows up to {@value #MAX_REDIRECTS} redirects, across http and https (which HttpURLConnection does not). */
    private HttpURLConnection connect(long have, int connectSeconds, int readSeconds) throws IOException {
        URL u = URI.create(url).toURL();
        for (int hops = 0; ; hops++) {
            if (!u.getProtocol().equals("http") && !u.getProtocol().equals("https")) throw new IOException(url + ": redirected to " + u + ", not HTTP(S)");
            HttpURLConnection c = (HttpURLConnection) u.openConnection();
            c.setInstanceFollowRedirects(false);
            c.setConnectTimeout(connectSeconds * 1000);
            c.setReadTimeout(readSeconds * 1000);
            if (have > 0) c.setRequestProperty("Range", "bytes=" + have + "-");
            int status = c.getResponseCode();
            if (status < 300 || status >= 400 || status == 304) return c;
            String location = c.getHeaderField("Location");
            c.disconnect();
            if (location == null) throw new IOException(url + " answered HTTP " + status + " without a Location: " + manualHelp.get());
            if (hops == MAX_REDIRECTS) throw new IOException(url + ": more than " + MAX_REDIRECTS + " redirects: " + manualHelp.get());
            try {
                u = u.toURI().resolve(location).toURL();
            } catch (URISyntaxException | IllegalArgumentException e) {
                throw new IOException(url + ": redirected to an invalid address '" + location + "'");
            }
        }
    }

    private static int seconds(String property, int fallback) {
        String v = System.getProperty(property);
        if (v == null) return fallback;
        try {
            int s = Integer.parseInt(v.trim());
            if (s > 0 && s <= 86_400) return s;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("system property " + property + " is '" + v + "', expected whole seconds in [1, 86400]");
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
