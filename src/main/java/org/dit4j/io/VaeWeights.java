package org.dit4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.models.StateDicts;
import org.dit4j.models.vae.AutoencoderKL;
import org.dit4j.models.vae.VaeConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Autoencoder weights from every layout people have: LDM names ({@code vae-ft-mse-840000-ema-pruned.ckpt},
 * {@code {"state_dict"}} wrapper, {@code first_stage_model.} prefix, MindONE .ckpt) and diffusers {@code AutoencoderKL}
 * (current and legacy attention names, Linear attention weights). The architecture comes from a diffusers
 * {@code config.json} when there is one, and otherwise from the tensor names and shapes.
 */
public final class VaeWeights {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LEVEL = Pattern.compile("^encoder\\.down\\.(\\d+)\\.block\\.(\\d+)\\.");

    public record Imported(VaeConfig config, Map<String, INDArray> weights, String naming) {}

    private VaeWeights() {}

    public static Imported load(Path in, VaeConfig config) {
        WeightsFormat format = WeightsFormat.sniffVae(in);
        Path file = in;
        JsonNode diffusersConfig = null;
        if (format == WeightsFormat.DIFFUSERS) {
            file = Diffusers.weightsFile(in, "vae");
            diffusersConfig = readJson(Diffusers.modelDir(in, "vae").resolve(Diffusers.CONFIG));
        }
        Map<String, INDArray> raw = switch (format) {
            case MINDSPORE -> MindSporeCheckpoint.read(file);
            case SAFETENSORS -> Safetensors.read(file);
            case DIT4J -> throw new WeightsFormatException(in, "is a DiT checkpoint, not an autoencoder");
            default -> file.getFileName().toString().endsWith(".safetensors") ? Safetensors.read(file)
                    : TorchCheckpoint.loadStateDict(file, TorchCheckpoint.Pick.EMA);
        };
        boolean diffusers = raw.keySet().stream().anyMatch(k -> k.contains("down_blocks.") || k.contains("mid_block."));
        int levels = diffusersConfig != null ? diffusersConfig.path("block_out_channels").size() : countLevels(raw, diffusers);
        Map<String, INDArray> ldm = KeyMapping.load(diffusers ? "vae-diffusers" : "vae-ldm").toOfficial(raw, 0, levels, in.toString());
        VaeConfig cfg = config != null ? config : diffusersConfig != null ? fromDiffusers(diffusersConfig, in) : infer(ldm, in);
        Map<String, long[]> shapes = AutoencoderKL.parameterShapes(cfg);
        StateDicts.check(shapes, ldm, in.toString());
        Map<String, INDArray> ordered = new LinkedHashMap<>();
        for (String k : shapes.keySet()) ordered.put(k, ldm.get(k));
        return new Imported(cfg, ordered, diffusers ? "diffusers" : "ldm");
    }

    /** A loaded autoencoder. */
    public static AutoencoderKL loadModel(Path in, VaeConfig config) {
        Imported w = load(in, config);
        AutoencoderKL vae = AutoencoderKL.create(w.config());
        vae.loadStateDict(w.weights(), in.toString());
        return vae;
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read (" + e.getMessage() + ")");
        }
    }

    private static int countLevels(Map<String, INDArray> raw, boolean diffusers) {
        Pattern p = Pattern.compile(diffusers ? "encoder\\.down_blocks\\.(\\d+)\\." : "encoder\\.down\\.(\\d+)\\.");
        int levels = 0;
        for (String k : raw.keySet()) {
            Matcher m = p.matcher(k);
            if (m.find()) levels = Math.max(levels, Integer.parseInt(m.group(1)) + 1);
        }
        return levels;
    }

    static VaeConfig fromDiffusers(JsonNode c, Path source) {
        List<Integer> out = new ArrayList<>();
        c.path("block_out_channels").forEach(n -> out.add(n.asInt()));
        if (out.isEmpty()) throw new WeightsFormatException(source, "diffusers config has no block_out_channels");
        int ch = out.get(0);
        List<Integer> mult = out.stream().map(o -> o / ch).toList();
        int z = c.path("latent_channels").asInt(4);
        return new VaeConfig(ch, mult, c.path("layers_per_block").asInt(2), z, z, c.path("in_channels").asInt(3),
                c.path("out_channels").asInt(3), true, c.path("scaling_factor").asDouble(0.18215));
    }

    /** ch, ch_mult, num_res_blocks, z_channels and embed_dim from LDM tensor names and shapes. */
    static VaeConfig infer(Map<String, INDArray> w, Path source) {
        INDArray convIn = w.get("encoder.conv_in.weight"), convOut = w.get("encoder.conv_out.weight"), quant = w.get("quant_conv.weight"),
                decOut = w.get("decoder.conv_out.weight");
        if (convIn == null || convOut == null || quant == null || decOut == null)
            throw new WeightsFormatException(source, "not autoencoder weights (encoder.conv_in, encoder.conv_out, quant_conv and decoder.conv_out expected)");
        int ch = (int) convIn.size(0);
        int levels = 0, blocks = 0;
        for (String k : w.keySet()) {
            Matcher m = LEVEL.matcher(k);
            if (m.find()) {
                levels = Math.max(levels, Integer.parseInt(m.group(1)) + 1);
                blocks = Math.max(blocks, Integer.parseInt(m.group(2)) + 1);
            }
        }
        List<Integer> mult = new ArrayList<>();
        for (int i = 0; i < levels; i++) {
            INDArray c2 = w.get("encoder.down." + i + ".block.0.conv2.weight");
            if (c2 == null) throw new WeightsFormatException(source, "missing encoder.down." + i + ".block.0.conv2.weight");
            mult.add((int) (c2.size(0) / ch));
        }
        return new VaeConfig(ch, mult, blocks, (int) convOut.size(0) / 2, (int) quant.size(0) / 2, (int) convIn.size(1),
                (int) decOut.size(0), true, 0.18215);
    }

    /**
     * Writes LDM names as safetensors, a diffusers {@code AutoencoderKL} folder, or a MindSpore {@code .ckpt} with the
     * names and shapes MindONE's {@code tools/vae_converter.py} writes (the LDM ones: its norm gamma/beta become weight/bias).
     */
    public static void export(Path out, Weights.Target target, VaeConfig cfg, Map<String, INDArray> ldm) throws IOException {
        switch (target) {
            case SAFETENSORS -> {
                Safetensors.write(out, ldm, Map.of("format", "pt"));
                return;
            }
            case MINDSPORE -> {
                MindSporeCheckpoint.write(out, ldm);
                return;
            }
            case DIT4J -> throw new IllegalArgumentException("autoencoders are written as safetensors, diffusers or mindspore, not as dit4j checkpoints");
            case DIFFUSERS -> { }
        }
        Map<String, INDArray> d = KeyMapping.load("vae-diffusers").fromOfficial(ldm, 0, cfg.levels());
        AtomicFiles.writeDirectory(out, tmp -> {
            Safetensors.write(tmp.resolve(Diffusers.SAFETENSORS), d, Map.of("format", "pt"));
            var c = JSON.createObjectNode();
            c.put("_class_name", "AutoencoderKL");
            c.put("act_fn", "silu");
            var boc = c.putArray("block_out_channels");
            for (int i = 0; i < cfg.levels(); i++) boc.add(cfg.channels(i));
            var down = c.putArray("down_block_types");
            var up = c.putArray("up_block_types");
            for (int i = 0; i < cfg.levels(); i++) {
                down.add("DownEncoderBlock2D");
                up.add("UpDecoderBlock2D");
            }
            c.put("in_channels", cfg.inChannels());
            c.put("latent_channels", cfg.embedDim());
            c.put("layers_per_block", cfg.numResBlocks());
            c.put("norm_num_groups", 32);
            c.put("out_channels", cfg.outCh());
            c.put("scaling_factor", cfg.scalingFactor());
            byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(c);
            Files.write(tmp.resolve(Diffusers.CONFIG), bytes);
        });
    }
}
