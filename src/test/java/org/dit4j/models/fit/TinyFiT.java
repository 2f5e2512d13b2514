package org.dit4j.models.fit;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.dit4j.io.Weights;
import org.dit4j.models.TokenLayout;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The fixture FiT (../shared/fixtures/fit), loaded once per JVM, with the pinned code's time clamp or without. */
public final class TinyFiT {
    private static FiTModel clamped;

    private TinyFiT() {}

    public static Path fixture(String rel) {
        return Fixtures.root().resolve("fit").resolve(rel);
    }

    public static INDArray npy(String rel) {
        return Npy.read(fixture(rel));
    }

    /** The fixture's model kwargs as a FiT config. */
    public static FiTConfig config() {
        try {
            Map<?, ?> json = new ObjectMapper().readValue(fixture("config.json").toFile(), Map.class);
            Map<Object, Object> kwargs = new LinkedHashMap<>((Map<?, ?>) json.get("model"));
            return FiTConfig.fromMap(kwargs, "fit/config.json");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** With {@code time_clamp: true}: the pinned official code. */
    public static synchronized FiTModel clamped() {
        if (clamped == null) {
            FiTConfig cfg = config().withTimeClamp(true);
            clamped = FiTModel.fromStateDict(cfg, Weights.load(fixture("weights/fit-tiny.pt"), null, cfg, null).weights(), "fit-tiny.pt");
        }
        return clamped;
    }

    /** The padded batch's layout: grid_long.npy, mask.npy and the dataset's sizes. */
    public static TokenLayout batchLayout() {
        return new TokenLayout(npy("grid_long.npy"), npy("mask.npy"), npy("batch/size.npy"));
    }
}
