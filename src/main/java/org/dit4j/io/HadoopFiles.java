package org.dit4j.io;

import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Files at a location that is either a local path or a Hadoop file-system URI ({@code hdfs://nn:8020/x},
 * {@code file:///x}, {@code s3a://bucket/x}, whatever file systems the Hadoop client on the classpath has). URIs go
 * through Hadoop's {@code FileSystem} API, plain paths through java.nio. Hadoop is not in the self-contained jar (the
 * cluster provides it, as it provides Spark): only {@link Hadoop} names its classes, and it is loaded on the first URI.
 * Every failure is an {@link IllegalArgumentException} whose message names the location.
 */
public final class HadoopFiles {
    private static final Pattern URI_SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:/.*");

    private HadoopFiles() {}

    /** Positioned reads of one file. */
    public interface Reader extends AutoCloseable {
        long length();

        void readFully(long position, byte[] buffer, int offset, int length);

        @Override
        void close();
    }

    /** True for {@code scheme:/...} (a Hadoop URI); false for a local path. */
    public static boolean isUri(String location) {
        return URI_SCHEME.matcher(location).matches();
    }

    /** {@code name} inside folder {@code dir}. */
    public static String resolve(String dir, String name) {
        if (!isUri(dir)) return Path.of(dir).resolve(name).toString();
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }

    public static boolean isFile(String location) {
        return isUri(location) ? Hadoop.call(location, () -> Hadoop.isFile(location)) : Files.isRegularFile(Path.of(location));
    }

    public static Reader open(String location) {
        if (isUri(location)) return Hadoop.call(location, () -> Hadoop.open(location));
        try {
            FileChannel ch = FileChannel.open(Path.of(location), StandardOpenOption.READ);
            long size = ch.size();
            return new Reader() {
                @Override
                public long length() {
                    return size;
                }

                @Override
                public void readFully(long position, byte[] buffer, int offset, int length) {
                    ByteBuffer bb = ByteBuffer.wrap(buffer, offset, length);
                    try {
                        while (bb.hasRemaining()) {
                            if (ch.read(bb, position + bb.position() - offset) < 0)
                                throw new IllegalArgumentException(location + ": ends before byte " + (position + length));
                        }
                    } catch (IOException e) {
                        throw failure(location, e);
                    }
                }

                @Override
                public void close() {
                    try {
                        ch.close();
                    } catch (IOException ignored) {
                        // read-only: nothing is lost
                    }
                }
            };
        } catch (IOException e) {
            throw failure(location, e);
        }
    }

    /** The whole file (manifests, labels: small files). */
    public static byte[] readAll(String location) {
        try (Reader r = open(location)) {
            if (r.length() > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(location + ": over 2 GiB, too large to read whole");
            byte[] b = new byte[(int) r.length()];
            r.readFully(0, b, 0, b.length);
            return b;
        }
    }

    /** Writes {@code target} under a temporary name beside it, then renames it into place. */
    public static void write(String target, AtomicFiles.Writer writer) {
        if (!isUri(target)) {
            try {
                AtomicFiles.write(Path.of(target), writer);
            } catch (IOException e) {
                throw failure(target, e);
            }
            return;
        }
        Hadoop.call(target, () -> {
            Hadoop.write(target, writer);
            return null;
        });
    }

    /**
     * Copies the local folder {@code source} to {@code target} (a URI): written as {@code .NAME.tmp} beside it, then
     * renamed, so a reader sees the whole folder or none of it (on HDFS; object stores rename by copying).
     */
    public static void uploadDirectory(Path source, String target) {
        Hadoop.call(target, () -> {
            Hadoop.uploadDirectory(source, target);
            return null;
        });
    }

    /** Copies {@code source} (a URI of a folder) into the local folder {@code target}. */
    public static void downloadDirectory(String source, Path target) {
        Hadoop.call(source, () -> {
            Hadoop.downloadDirectory(source, target);
            return null;
        });
    }

    /** The file at {@code location} as a stream that refuses to hand out more than {@code limit} bytes (one line naming it). */
    public static InputStream openStream(String location, long limit) {
        InputStream raw;
        if (isUri(location)) {
            raw = Hadoop.call(location, () -> Hadoop.openStream(location));
        } else {
            try {
                raw = Files.newInputStream(Path.of(location));
            } catch (IOException e) {
                throw failure(location, e);
            }
        }
        return new LimitedInputStream(new java.io.BufferedInputStream(raw), limit,
                n -> new IllegalArgumentException(location + ": more than " + n + " bytes, above the limit for this file"));
    }

    /** An entry of a folder: its name, its location (the folder's, then {@code /name}), and whether it is a folder or a file. */
    public record Entry(String name, String location, boolean directory, boolean file) {}

    /** The entries of folder {@code dir} (a URI), in the file system's order; an error naming it when it is missing or not a folder. */
    public static List<Entry> entries(String dir) {
        return Hadoop.call(dir, () -> Hadoop.entries(dir));
    }

    /** The names in folder {@code dir} (a URI); empty when it does not exist. */
    public static List<String> list(String dir) {
        return Hadoop.call(dir, () -> Hadoop.list(dir));
    }

    /** Deletes {@code location} (a URI) and everything under it. */
    public static void delete(String location) {
        Hadoop.call(location, () -> {
            Hadoop.delete(location);
            return null;
        });
    }

    static IllegalArgumentException failure(String location, Throwable e) {
        String reason = e instanceof FileNotFoundException || e instanceof java.nio.file.NoSuchFileException ? "no such file"
                : e instanceof java.nio.file.AccessDeniedException || e.getClass().getSimpleName().equals("AccessControlException") ? "permission denied"
                : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage().lines().findFirst().orElse(""));
        return new IllegalArgumentException(location + ": " + reason, e);
    }

    /** Everything that names Hadoop's classes. */
    private static final class Hadoop {
        static {
            // Hadoop's pure-Java code paths are what dit4j uses; its warning that no native library was found is noise.
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.hadoop.util.NativeCodeLoader",
                    System.getProperty("org.slf4j.simpleLogger.log.org.apache.hadoop.util.NativeCodeLoader", "error"));
        }

        interface Call<T> {
            T run() throws IOException;
        }

        static <T> T call(String location, Call<T> c) {
            try {
                return c.run();
            } catch (NoClassDefFoundError e) {
                throw new IllegalArgumentException(location + ": Hadoop file systems need the Hadoop client on the classpath"
                        + " (scripts/dit4j adds Spark's for URI arguments; spark-submit has it)");
            } catch (IllegalArgumentException e) {
                if (e.getMessage() != null && e.getMessage().startsWith(location)) throw e;
                throw failure(location, e);
            } catch (IOException | UncheckedIOException | IllegalStateException e) {
                throw failure(location, e);
            }
        }

        private static org.apache.hadoop.fs.Path path(String location) {
            try {
                new URI(location);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException(location + ": not a valid URI (" + e.getReason() + ")");
            }
            return new org.apache.hadoop.fs.Path(location);
        }

        private static org.apache.hadoop.fs.FileSystem fs(org.apache.hadoop.fs.Path p) throws IOException {
            return p.getFileSystem(new org.apache.hadoop.conf.Configuration());
        }

        static boolean isFile(String location) throws IOException {
            org.apache.hadoop.fs.Path p = path(location);
            org.apache.hadoop.fs.FileSystem fs = fs(p);
            return fs.exists(p) && fs.getFileStatus(p).isFile();
        }

        static Reader open(String location) throws IOException {
            org.apache.hadoop.fs.Path p = path(location);
            org.apache.hadoop.fs.FileSystem fs = fs(p);
            long size = fs.getFileStatus(p).getLen();
            org.apache.hadoop.fs.FSDataInputStream in = fs.open(p);
            return new Reader() {
                @Override
                public long length() {
                    return size;
                }

                @Override
                public synchronized void readFully(long position, byte[] buffer, int offset, int length) {
                    try {
                        in.readFully(position, buffer, offset, length);
                    } catch (IOException e) {
                        throw failure(location, e);
                    }
                }

                @Override
                public void close() {
                    try {
                        in.close();
                    } catch (IOException ignored) {
                        // read-only: nothing is lost
                    }
                }
            };
        }

        static void write(String target, AtomicFiles.Writer writer) throws IOException {
            org.apache.hadoop.fs.Path p = path(target);
            org.apache.hadoop.fs.FileSystem fs = fs(p);
            org.apache.hadoop.fs.Path tmp = temporary(p);
            try {
                try (OutputStream out = fs.create(tmp, true)) {
                    writer.write(out);
                }
                if (fs.exists(p) && !fs.delete(p, false)) throw new IOException("cannot replace " + p);
                if (!fs.rename(tmp, p)) throw new IOException("cannot rename " + tmp + " to " + p);
            } finally {
                if (fs.exists(tmp)) fs.delete(tmp, true);
            }
        }

        static void uploadDirectory(Path source, String target) throws IOException {
            org.apache.hadoop.fs.Path p = path(target);
            org.apache.hadoop.fs.FileSystem fs = fs(p);
            org.apache.hadoop.fs.Path tmp = temporary(p);
            try {
                fs.mkdirs(tmp);
                try (var files = Files.list(source)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        if (!Files.isRegularFile(f)) continue;
                        try (InputStream in = Files.newInputStream(f);
                             OutputStream out = fs.create(new org.apache.hadoop.fs.Path(tmp, f.getFileName().toString()), true)) {
                            in.transferTo(out);
                        }
                    }
                }
                if (fs.exists(p) && !fs.delete(p, true)) throw new IOException("cannot replace " + p);
                if (!fs.rename(tmp, p)) throw new IOException("cannot rename " + tmp + " to " + p);
            } finally {
                if (fs.exists(tmp)) fs.delete(tmp, true);
            }
        }

        static void downloadDirectory(String source, Path target) throws IOException {
            org.apache.hadoop.fs.Path p = path(source);
            org.apache.hadoop.fs.FileSystem fs = fs(p);
            Files.createDirectories(target);
            for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(p)) {
                if (!st.isFile() || st.getPath().getName().endsWith(".crc")) continue;
                try (InputStream in = fs.open(st.getPath())) {
                    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                    in.transferTo(bytes);
                    AtomicFiles.write(target.resolve(st.getPath().getName()), o -> bytes.writeTo(o));
                }
            }
        }

        static List<String> list(String dir) throws IOException {
            org.apache.hadoop.fs.Path p = path(dir);
            org.apache.hadoop.fs.FileSystem fs = fs(p);
            List<String> names = new ArrayList<>();
            if (!fs.exists(p)) return names;
            for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(p)) names.add(st.getPath().getName());
            return names;
        }

        static InputStream openStream(String location) throws IOException {
            org.apache.hadoop.fs.Path p = path(location);
            return fs(p).open(p);
        }

        static List<Entry> entries(String dir) throws IOException {
            org.apache.hadoop.fs.Path p = path(dir);
            org.apache.hadoop.fs.FileSystem fs = fs(p);
            if (!fs.getFileStatus(p).isDirectory()) throw new IllegalArgumentException(dir + ": not a folder");
            List<Entry> entries = new ArrayList<>();
            for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(p)) {
                String name = st.getPath().getName();
                URI u = st.getPath().toUri();
                // Hadoop's local file system calls a FIFO or a device a file: opening one would block or never end
                boolean file = st.isFile() && (!"file".equals(u.getScheme()) || Files.isRegularFile(Path.of(u)));
                entries.add(new Entry(name, resolve(dir, name), st.isDirectory(), file));
            }
            return entries;
        }

        static void delete(String location) throws IOException {
            org.apache.hadoop.fs.Path p = path(location);
            fs(p).delete(p, true);
        }

        /** {@code .NAME.PID.tmp} beside {@code p}: hidden from Hadoop's listings of finished outputs. */
        private static org.apache.hadoop.fs.Path temporary(org.apache.hadoop.fs.Path p) {
            return new org.apache.hadoop.fs.Path(p.getParent(), "." + p.getName() + "." + ProcessHandle.current().pid() + ".tmp");
        }
    }
}
