package org.dit4j.models.fitmindone;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.dit4j.io.Weights;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The fixture MindONE FiT (../shared/fixtures/fit-mindone), loaded once per JVM from its MindSpore checkpoint. */
final class TinyMindOneFiT {
    private static MindOneFiTModel model;

    private TinyMindOneFiT() {}

    static Path fixture(String rel) {
        return Fixtures.root().resolve("fit-mindone").resolve(rel);
    }

    static INDArray npy(String rel) {
        return Npy.read(fixture(rel));
    }

    static double[] times(String rel) {
        return npy(rel).castTo(DataType.DOUBLE).toDoubleVector();
    }

    static long[] longs(String rel) {
        return npy(rel).castTo(DataType.LONG).toLongVector();
    }

    static Map<?, ?> json() {
        try {
            return new ObjectMapper().readValue(fixture("config.json").toFile(), Map.class);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The fixture's constructor arguments, with {@code input_size} = its pipeline's image_size / 8. */
    static MindOneFiTConfig config() {
        Map<?, ?> json = json();
        Map<Object, Object> kwargs = new LinkedHashMap<>((Map<?, ?>) json.get("model"));
        kwargs.put("input_size", ((Number) ((Map<?, ?>) json.get("pipeline")).get("image_size")).intValue() / 8);
        return MindOneFiTConfig.fromMap(kwargs, "fit-mindone/config.json");
    }

    static synchronized MindOneFiTModel model() {
        if (model == null) {
            MindOneFiTConfig cfg = config();
            Path ckpt = fixture("weights/fit-mindone-tiny.ckpt");
            model = MindOneFiTModel.fromStateDict(cfg, Weights.load(ckpt, null, cfg, null).weights(), ckpt.toString());
        }
        return model;
    }
}
