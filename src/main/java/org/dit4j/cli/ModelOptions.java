package org.dit4j.cli;

import org.dit4j.io.TorchCheckpoint;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The architecture flags every command that builds a model shares. */
final class ModelOptions {
    @Option(names = "--model", description = "Official architecture name, e.g. DiT-XL/2 (configs/models/; default: read from the checkpoint).")
    String model;

    @Option(names = "--model-config", description = "YAML model config: family (default dit) and the official constructor keys.")
    Path modelConfig;

    @Option(names = "--weights", defaultValue = "ema", description = "Which weights of a training checkpoint: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    TorchCheckpoint.Pick weights;
}
