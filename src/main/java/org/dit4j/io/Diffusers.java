package org.dit4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dit4j.models.DiTConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** diffusers model folders: {@code config.json} + {@code diffusion_pytorch_model.safetensors} (or {@code .bin}). */
public final class Diffusers {
    public static final String CONFIG = "config.json", SAFETENSORS = "diffusion_pytorch_model.safetensors", BIN = "diffusion_pytorch_model.bin";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Diffusers() {}

    /** The model folder: the directory itself, or a pipeline's {@code transformer/} subfolder. */
    public static Path modelDir(Path dir) {
        return modelDir(dir, "transformer");
    }

    /** The model folder: the directory itself, or the pipeline subfolder {@code component} ({@code transformer}, {@code vae}). */
    public static Path modelDir(Path dir, String component) {
        if (Files.isRegularFile(dir.resolve(CONFIG)) && (Files.isRegularFile(dir.resolve(SAFETENSORS)) || Files.isRegularFile(dir.resolve(BIN))))
            return dir;
        Path t = dir.resolve(component);
        return Files.isDirectory(t) ? modelDir(t, component) : null;
    }

    public static Path weightsFile(Path dir) {
        return weightsFile(dir, "transformer");
    }

    public static Path weightsFile(Path dir, String component) {
        Path m = modelDir(dir, component);
        if (m == null) return null;
        return Files.isRegularFile(m.resolve(SAFETENSORS)) ? m.resolve(SAFETENSORS) : m.resolve(BIN);
    }

    /** The DiT architecture from a {@code DiTTransformer2DModel}/{@code Transformer2DModel} config. */
    public static DiTConfig readConfig(Path dir, int mlpHidden) {
        Path file = modelDir(dir).resolve(CONFIG);
        try {
            JsonNode c = JSON.readTree(file.toFile());
            int heads = c.path("num_attention_heads").asInt(16), headDim = c.path("attention_head_dim").asInt(72);
            int in = c.path("in_channels").asInt(4), out = c.path("out_channels").asInt(in);
            int hidden = heads * headDim;
            return new DiTConfig(c.path("sample_size").asInt(32), c.path("patch_size").asInt(2), in, hidden,
                    c.path("num_layers").asInt(28), heads, mlpHidden > 0 ? (double) mlpHidden / hidden : 4.0, 0.1,
                    c.path("num_embeds_ada_norm").asInt(1000), out == 2 * in);
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read diffusers config (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            throw new WeightsFormatException(file, e.getMessage());
        }
    }

    public static void writeConfig(Path file, DiTConfig cfg) throws IOException {
        ObjectNode c = JSON.createObjectNode();
        c.put("_class_name", "DiTTransformer2DModel");
        c.put("activation_fn", "gelu-approximate");
        c.put("attention_bias", true);
        c.put("attention_head_dim", cfg.headDim());
        c.put("in_channels", cfg.inChannels());
        c.put("norm_elementwise_affine", false);
        c.put("norm_eps", 1e-5);
        c.put("norm_type", "ada_norm_zero");
        c.put("num_attention_heads", cfg.numHeads());
        c.put("num_embeds_ada_norm", cfg.numClasses());
        c.put("num_layers", cfg.depth());
        c.put("out_channels", cfg.outChannels());
        c.put("patch_size", cfg.patchSize());
        c.put("sample_size", cfg.inputSize());
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(c);
        AtomicFiles.write(file, o -> o.write(bytes));
    }
}
