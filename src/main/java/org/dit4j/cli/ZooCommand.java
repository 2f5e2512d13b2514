package org.dit4j.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.dit4j.zoo.Zoo;
import org.dit4j.zoo.ZooEntry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "zoo", mixinStandardHelpOptions = true, description = "Pretrained models: list, download (cached, resumable, verified), verify.",
        subcommands = {ZooCommand.ListModels.class, ZooCommand.Download.class, ZooCommand.Verify.class})
public final class ZooCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand (list, download, verify)");
    }

    @Command(name = "list", description = "Models in the manifest and whether they are cached.")
    static final class ListModels implements Callable<Integer> {
        @Override
        public Integer call() {
            Zoo zoo = Zoo.standard();
            for (ZooEntry e : zoo.list())
                System.out.printf(Locale.ROOT, "%-23s %-9s %-23s %s  %s%n", e.name(), e.kind(), e.architecture(),
                        zoo.isCached(e.name()) ? "cached " : e.manual() ? "by hand" : "       ", zoo.path(e.name()));
            return 0;
        }
    }

    @Command(name = "download", description = "Download (or resume) and verify a model into the cache.")
    static final class Download implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "e.g. DiT-XL/2-256")
        String name;

        @Override
        public Integer call() throws Exception {
            Path p = fetchWithProgress(Zoo.standard(), name);
            System.out.println(name + " -> " + p);
            return 0;
        }
    }

    @Command(name = "verify", description = "Check a cached model's hash and tensors.")
    static final class Verify implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            String hash = Zoo.standard().verify(name);
            System.out.println(name + ": ok, sha256 " + hash);
            return 0;
        }
    }

    /** Downloads with a byte progress bar (size, rate, ETA) on a terminal. */
    static Path fetchWithProgress(Zoo zoo, String name) throws Exception {
        if (zoo.isCached(name) || System.console() == null) return zoo.fetch(name, null);
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName(name).setStyle(ProgressBarStyle.ASCII)
                .setUnit("MB", 1 << 20).showSpeed().build()) {
            return zoo.fetch(name, (done, total) -> {
                if (total > 0) bar.maxHint(total);
                bar.stepTo(done);
            });
        }
    }
}
