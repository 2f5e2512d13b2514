package org.dit4j.zoo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.*;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One file over HTTP(S) into {@code target}: written to {@code target.part}, resumed with a Range request when a
 * partial file exists, checked (size, SHA-256, then the caller's check) and only then renamed into place.
 */
final class Downloader {
    private static final HttpClient CLIENT = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(20)).build();
    private final String url;
    private final Path target;
    private final String sha256;
    private final Long size;
    private final Supplier<String> manualHelp;

    Downloader(String url, Path target, String sha256, Long size, Supplier<String> manualHelp) {
        this.url = url;
        this.target = target;
        this.sha256 = sha256;
        this.size = size;
        this.manualHelp = manualHelp;
    }

    Path part() {
        return target.resolveSibling(target.getFileName() + ".part");
    }

    void download(DownloadProgress progress, Consumer<Path> check) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        Path part = part();
        long have = Files.isRegularFile(part) ? Files.size(part) : 0;
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url)).GET();
        if (have > 0) req.header("Range", "bytes=" + have + "-");
        HttpResponse<InputStream> resp;
        try {
            resp = CLIENT.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
            throw new IOException("cannot reach " + url + " (offline?): " + manualHelp.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("download interrupted");
        }
        int status = resp.statusCode();
        boolean append = status == 206 && have > 0;
        if (status == 416 && have > 0) {
            resp.body().close();
            append = true;   // the partial file is already complete
        } else if (status != 200 && status != 206) {
            resp.body().close();
            throw new IOException(url + " answered HTTP " + status + ": " + manualHelp.get());
        }
        if (!append) have = 0;
        long total = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (total >= 0 && status != 416) total += have;
        if (status != 416) {
            try (InputStream in = resp.body();
                 OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE,
                         append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                byte[] buf = new byte[1 << 16];
                long done = have;
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                    done += n;
                    if (progress != null) progress.update(done, total);
                }
            }
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
