package org.dit4j.cli;

import org.dit4j.io.WeightsFormatException;
import org.dit4j.models.UnknownArchitectureException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;

/** The {@code dit4j} command: thin subcommands that parse flags and call the Java API. */
@Command(name = "dit4j", mixinStandardHelpOptions = true, versionProvider = Dit4j.Version.class,
        description = "Diffusion transformers on the JVM.",
        subcommands = {SampleCommand.class, SampleBatchCommand.class, ForwardCommand.class, TrainCommand.class, ExtractFeaturesCommand.class, ExtractTextFeaturesCommand.class, DecodeCommand.class, EncodeCommand.class, ConvertCommand.class, EvaluateCommand.class, ZooCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Dit4j implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (sample, sample-batch, forward, train, extract-features, extract-text-features, decode, encode, convert, evaluate, zoo, bench)");
    }

    public static void main(String[] args) {
        useBuiltNativeLibrary();
        System.exit(run(args));
    }

    /**
     * JavaCPP loads the generic libnd4j unless told the platform extension of the build the jar carries (-Pavx2,
     * -Ponednn-avx2); set before ND4J initialises, unless the command line sets it.
     */
    static void useBuiltNativeLibrary() {
        String key = "org.bytedeco.javacpp.platform.extension";
        if (System.getProperty(key) != null) return;
        try (var in = Dit4j.class.getResourceAsStream("/dit4j-native.properties")) {
            if (in == null) return;
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            String ext = p.getProperty("platform.extension", "").trim();
            if (!ext.isEmpty() && !ext.startsWith("$")) System.setProperty(key, ext);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** When the last {@link #run} began (epoch milliseconds): where {@code --timings}' JVM start-up phase ends. */
    static volatile long runStartMillis;

    /** Runs the CLI and returns the exit code: 0 on success, 2 for bad usage or input, 1 for anything unexpected. */
    public static int run(String... args) {
        runStartMillis = System.currentTimeMillis();
        CommandLine cli = new CommandLine(new Dit4j()).setCaseInsensitiveEnumValuesAllowed(true);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
            if (t instanceof UnknownArchitectureException) {
                cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": error: " + oneLine(t.getMessage()) + " (give --model or --model-config)");
                return 2;
            }
            if (t instanceof IllegalArgumentException || t instanceof WeightsFormatException || t instanceof IOException
                    || t instanceof UnsupportedOperationException) {
                cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": error: " + oneLine(t.getMessage()));
                return 2;
            }
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": internal error: " + t);
            return 1;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            CommandLine cmd = e.getCommandLine();
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": error: " + oneLine(e.getMessage())
                    + " (see " + cmd.getCommandSpec().qualifiedName() + " --help)");
            return 2;
        });
        return cli.execute(args);
    }

    static String oneLine(String s) {
        return s == null ? "(no message)" : s.lines().findFirst().orElse("");
    }

    /** The version from the jar manifest. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Dit4j.class.getPackage().getImplementationVersion();
            return new String[]{"dit4j " + (v == null ? "(development build)" : v) + ", Deeplearning4j/SameDiff 1.0.0-M2.1, Java "
                    + System.getProperty("java.version")};
        }
    }
}
