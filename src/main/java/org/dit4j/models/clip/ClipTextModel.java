package org.dit4j.models.clip;

import org.dit4j.io.Safetensors;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.io.WeightsFormat;
import org.dit4j.models.StateDicts;
import org.dit4j.models.nn.SameDiffParams;
import org.dit4j.models.nn.ShapeParams;
import org.dit4j.util.Graphs;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * transformers' {@code CLIPTextModel} as a SameDiff graph over its weights ({@code text_model.*} names):
 * input ids (N, T) → {@code last_hidden_state} (N, T, D). One graph per sequence length, all over the same arrays.
 */
public final class ClipTextModel {
    static final String PREFIX = "text_model";
    /** A persistent buffer in files written by transformers < 4.31; the positions are always {@code arange(T)}. */
    static final String POSITION_IDS = PREFIX + ".embeddings.position_ids";
    private static final String IDS = "input_ids", OUTPUT = "last_hidden_state";

    private final ClipTextConfig cfg;
    private final Map<String, INDArray> weights;
    private final Map<Integer, SameDiff> graphs = new HashMap<>();

    private ClipTextModel(ClipTextConfig cfg, Map<String, INDArray> weights) {
        this.cfg = cfg;
        this.weights = weights;
    }

    /** The parameters of {@code CLIPTextModel(cfg)} in the official state-dict order (without {@code position_ids}). */
    public static Map<String, long[]> shapes(ClipTextConfig cfg) {
        ShapeParams p = new ShapeParams();
        new ClipTextTransformer(p, PREFIX, cfg);
        return p.shapes();
    }

    /** The model over {@code weights} (official names; float32 contiguous arrays are taken over, others copied), checked strictly. */
    public static ClipTextModel fromStateDict(ClipTextConfig cfg, Map<String, INDArray> weights, String source) {
        Map<String, INDArray> w = new LinkedHashMap<>(weights);
        w.remove(POSITION_IDS);
        return new ClipTextModel(cfg, StateDicts.takeOver(shapes(cfg), w, source));
    }

    /**
     * A Hugging Face model folder ({@code config.json} + {@code model.safetensors} or {@code pytorch_model.bin}; a
     * {@code CLIPTextModel} or a whole {@code CLIPModel}, of which only the {@code text_model.*} tensors are used), or
     * one such weights file with its {@code config.json} beside it.
     */
    public static ClipTextModel load(Path path) {
        Path weightsFile = weightsFile(path);
        Path config = (Files.isDirectory(path) ? path : path.toAbsolutePath().getParent()).resolve("config.json");
        if (!Files.isRegularFile(config)) throw new IllegalArgumentException(path + ": no config.json for the CLIP text model");
        return fromStateDict(ClipTextConfig.read(config), readTextWeights(weightsFile), weightsFile.toString());
    }

    /** The weights file of a model folder (safetensors preferred), or {@code path} itself when it is a file. */
    public static Path weightsFile(Path path) {
        if (Files.isRegularFile(path)) return path;
        if (!Files.isDirectory(path)) throw new IllegalArgumentException(path + ": no such CLIP text model folder or file");
        for (String name : List.of("model.safetensors", "pytorch_model.bin"))
            if (Files.isRegularFile(path.resolve(name))) return path.resolve(name);
        throw new IllegalArgumentException(path + ": no model.safetensors or pytorch_model.bin in the CLIP text model folder");
    }

    /**
     * The {@code text_model.*} tensors of a safetensors or torch file; a {@code CLIPModel}'s vision tower is skipped
     * (a safetensors file never reads it: 1.2 of clip-vit-large-patch14's 1.7 GB).
     */
    public static Map<String, INDArray> readTextWeights(Path file) {
        WeightsFormat format = WeightsFormat.sniff(file);
        Map<String, INDArray> all = switch (format) {
            case SAFETENSORS -> Safetensors.read(file, new HashMap<>(), k -> k.startsWith(PREFIX + "."));
            case PYTORCH -> TorchCheckpoint.loadStateDict(file, TorchCheckpoint.Pick.MODEL);
            default -> throw new IllegalArgumentException(file + ": a CLIP text model is read from safetensors or pytorch_model.bin, not " + format.name().toLowerCase(Locale.ROOT));
        };
        Map<String, INDArray> text = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(PREFIX + ".")) text.put(k, v);
        });
        if (text.isEmpty()) throw new IllegalArgumentException(file + ": no " + PREFIX + ".* tensors (not a Hugging Face CLIPTextModel or CLIPModel file)");
        return text;
    }

    public ClipTextConfig config() {
        return cfg;
    }

    /** The weights under their official names, in state-dict order (the model's own arrays). */
    public Map<String, INDArray> stateDict() {
        return Collections.unmodifiableMap(weights);
    }

    /** {@code CLIPTextModel(input_ids=ids).last_hidden_state}: ids (N, T) integers → (N, T, D) float32. */
    public INDArray forward(INDArray ids) {
        return run(ids, OUTPUT).get(OUTPUT);
    }

    /** The embeddings ({@code embeddings}), each layer's output ({@code layer0}, …) and {@code last_hidden_state}, each (N, T, D). */
    Map<String, INDArray> forwardWithIntermediates(INDArray ids) {
        String[] names = new String[cfg.numHiddenLayers() + 2];
        names[0] = "embeddings";
        for (int i = 0; i < cfg.numHiddenLayers(); i++) names[i + 1] = "layer" + i;
        names[names.length - 1] = OUTPUT;
        return run(ids, names);
    }

    private synchronized Map<String, INDArray> run(INDArray ids, String... outputs) {
        if (ids.rank() != 2) throw new IllegalArgumentException("input ids must be (N, T), got shape " + Arrays.toString(ids.shape()));
        int n = (int) ids.size(0), tokens = (int) ids.size(1);
        if (tokens < 1 || tokens > cfg.maxPositionEmbeddings())
            throw new IllegalArgumentException("sequence length " + tokens + " is outside 1.." + cfg.maxPositionEmbeddings() + " (max_position_embeddings)");
        if (n == 0) throw new IllegalArgumentException("no input ids (N = 0)");
        if (!ids.dataType().isIntType()) throw new IllegalArgumentException("input ids must be integers, got " + ids.dataType());
        INDArray asLong = ids.castTo(DataType.LONG);
        long lo = asLong.minNumber().longValue(), hi = asLong.maxNumber().longValue();
        if (lo < 0 || hi >= cfg.vocabSize()) throw new IllegalArgumentException("token id outside 0.." + (cfg.vocabSize() - 1) + ": " + (lo < 0 ? lo : hi));
        INDArray flat = asLong.castTo(DataType.INT).reshape(n * (long) tokens);
        SameDiff sd = graphs.computeIfAbsent(tokens, this::build);
        Map<String, INDArray> out = new LinkedHashMap<>();
        // SameDiff recycles its output buffers on the next call: hand out copies the caller owns.
        sd.output(Map.of(IDS, flat), outputs).forEach((k, v) -> out.put(k, v.reshape(n, tokens, cfg.hiddenSize()).dup()));
        return out;
    }

    private SameDiff build(int tokens) {
        SameDiff sd = Graphs.create();
        SameDiffParams p = new SameDiffParams(sd, weights);
        SDVariable ids = sd.placeHolder(IDS, DataType.INT, -1);
        List<SDVariable> hidden = new ArrayList<>();
        new ClipTextTransformer(p, PREFIX, cfg).forward(ids, tokens, hidden).rename(OUTPUT);
        hidden.get(0).rename("embeddings");
        for (int i = 1; i < hidden.size(); i++) hidden.get(i).rename("layer" + (i - 1));
        return sd;
    }
}
