package org.dit4j.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.*;
import java.security.SecureRandom;
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The one writer of every output: files and directories are written under a temporary name and renamed, so a crash
 * never leaves a half-written output. It replaces only what dit4j could have written there (a regular file, or a
 * folder with a dit4j or diffusers model layout and nothing else), never a symbolic link, device, FIFO or a foreign
 * folder. Temporaries are created with plain {@code createFile}/{@code createDirectory}, so outputs get the umask's
 * mode ({@code createTempFile} would make them 0600). Their names carry the writer's process id: the first write
 * into a folder removes those a killed process left there.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** What dit4j's folder writers put in a folder: {@link Checkpoint}, training checkpoints and diffusers folders. */
    private static final String TRAINING_STATE = "state.json";
    private static final Set<String> FOLDER_FILES = Set.of(Checkpoint.CONFIG, Checkpoint.WEIGHTS, Checkpoint.RAW,
            "optimizer.safetensors", TRAINING_STATE, Diffusers.CONFIG, Diffusers.SAFETENSORS);
    /** {@code .NAME.PID-RANDOM.tmp} (being written) and {@code .NAME.PID-RANDOM.old} (a folder being replaced). */
    private static final Pattern TEMPORARY = Pattern.compile("\\.(.+)\\.(\\d{1,18})-[0-9a-f]{8}\\.(tmp|old)");
    private static final Set<Path> SWEPT = ConcurrentHashMap.newKeySet();
    private static final SecureRandom RANDOM = new SecureRandom();

    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    @FunctionalInterface
    public interface DirWriter {
        void write(Path tempDir) throws IOException;
    }

    public static void write(Path target, Writer writer) throws IOException {
        Path abs = target.toAbsolutePath(), dir = abs.getParent();
        Files.createDirectories(dir);
        requireReplaceableFile(abs);
        sweep(dir);
        Path tmp = Files.createFile(temporary(abs, "tmp"));
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                writer.write(out);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Refuses a path dit4j must not write a file over: a symbolic link, a folder, a device, FIFO or socket. */
    public static void requireReplaceableFile(Path file) throws IOException {
        if (Files.isSymbolicLink(file))
            throw new IOException(file + " is a symbolic link; dit4j writes its outputs as regular files and will not replace it");
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS))
            throw new IOException(file + (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS) ? " is a folder" : " is not a regular file (a device, FIFO or socket)")
                    + "; dit4j will not write a file over it");
    }

    /** Fills a fresh temporary directory, then renames it to {@code target}, replacing a folder dit4j wrote before. */
    public static void writeDirectory(Path target, DirWriter writer) throws IOException {
        Path abs = target.toAbsolutePath(), parent = abs.getParent();
        Files.createDirectories(parent);
        requireReplaceableFolder(abs);
        sweep(parent);
        Path tmp = Files.createDirectory(temporary(abs, "tmp"));
        try {
            writer.write(tmp);
            if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
                Path old = temporary(abs, "old");
                Files.move(abs, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
                deleteRecursively(old);
            } else {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            }
        } finally {
            deleteRecursively(tmp);
        }
    }

    /**
     * Refuses to replace a folder dit4j did not write: one is replaceable if empty, or if it holds a dit4j checkpoint
     * ({@code config.yaml} + {@code model.safetensors}), a training checkpoint ({@code state.json}, however damaged) or
     * a diffusers model ({@code config.json} + weights) and only the regular files dit4j writes there (an input beside them, or anything else, keeps it).
     */
    public static void requireReplaceableFolder(Path dir) throws IOException {
        if (Files.isSymbolicLink(dir))
            throw new IOException(dir + " is a symbolic link; dit4j will not replace it with a folder");
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS))
            throw new IOException(dir + " exists and is not a folder; dit4j will not replace it");
        List<String> foreign = new ArrayList<>();
        Set<String> names = new HashSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = p.getFileName().toString();
                names.add(name);
                if (!(FOLDER_FILES.contains(name) && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) && !TEMPORARY.matcher(name).matches())
                    foreign.add(name);
            }
        }
        boolean layout = names.isEmpty() || names.containsAll(List.of(Checkpoint.CONFIG, Checkpoint.WEIGHTS))
                || names.containsAll(List.of(Diffusers.CONFIG, Diffusers.SAFETENSORS)) || names.contains(TRAINING_STATE);
        if (!foreign.isEmpty() || !layout)
            throw new IOException(dir + " is a folder dit4j did not write" + (foreign.isEmpty() ? "" : " (it holds "
                    + String.join(", ", foreign.stream().sorted().limit(3).toList()) + (foreign.size() > 3 ? ", …" : "") + ")")
                    + "; dit4j will not replace it: remove it or choose another output path");
    }

    private static Path temporary(Path target, String kind) {
        return target.resolveSibling(String.format("." + target.getFileName() + ".%d-%08x." + kind, ProcessHandle.current().pid(), RANDOM.nextInt()));
    }

    /** Once per folder and process: see {@link #removeLeftovers}. */
    private static void sweep(Path dir) throws IOException {
        if (SWEPT.add(dir)) removeLeftovers(dir);
    }

    /** Whether {@code name} is one of this class's temporaries. */
    public static boolean isTemporary(String name) {
        return TEMPORARY.matcher(name).matches();
    }

    /** Deletes the temporaries that processes which are gone left in {@code dir}, putting back a half-replaced folder. */
    public static void removeLeftovers(Path dir) throws IOException {
        long self = ProcessHandle.current().pid();
        List<Path> left = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(left::add);
        }
        for (Path p : left) {
            Matcher m = TEMPORARY.matcher(p.getFileName().toString());
            if (!m.matches()) continue;
            long pid = Long.parseLong(m.group(2));
            if (pid == self || ProcessHandle.of(pid).isPresent()) continue;
            Path original = dir.resolve(m.group(1));
            if (m.group(3).equals("old") && !Files.exists(original, LinkOption.NOFOLLOW_LINKS)) Files.move(p, original, StandardCopyOption.ATOMIC_MOVE);
            else deleteRecursively(p);
        }
    }

    /** Deletes a file or a folder tree; symbolic links inside are removed, never followed. */
    public static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(q);
        }
    }
}
