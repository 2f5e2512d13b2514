package org.dit4j.models.uvit;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.dit4j.io.TorchCheckpoint;
import org.dit4j.models.ModelFamilies;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The fixtures' tiny U-ViTs (fixtures/uvit/cond: class-conditional, null label 10; fixtures/uvit/t2i/ctx8). */
public final class TinyUViT {
    private TinyUViT() {}

    public static Path dir(String rel) {
        return Fixtures.root().resolve("uvit").resolve(rel);
    }

    public static INDArray npy(String rel) {
        return Npy.read(dir(rel));
    }

    public static double[] doubles(String rel) {
        return npy(rel).castTo(DataType.DOUBLE).toDoubleVector();
    }

    public static long[] longs(String rel) {
        return npy(rel).castTo(DataType.LONG).toLongVector();
    }

    /** {@code cond/config.json}'s constructor arguments, as the discrete-time class model trained with label dropout. */
    public static UViTConfig condConfig() {
        return config("cond", UViTFamily.NAME, "discrete", 0.1);
    }

    public static UViTConfig t2iConfig() {
        return config("t2i/ctx8", UViTFamily.T2I, "discrete", 0.1);
    }

    static UViTConfig config(String rel, String family, String schedule, double pUncond) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("family", family);
        Map<?, ?> kwargs = (Map<?, ?>) readJson(dir(rel + "/config.json")).get("model");
        kwargs.forEach((k, v) -> m.put(String.valueOf(k), v));
        m.put("schedule", schedule);
        m.put("p_uncond", pUncond);
        return (UViTConfig) ModelFamilies.fromMap(m, rel + "/config.json");
    }

    private static Map<?, ?> readJson(Path p) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readValue(p.toFile(), Map.class);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static UViTModel cond() {
        return UViTModel.fromStateDict(condConfig(), TorchCheckpoint.loadStateDict(dir("cond/weights/uvit-tiny-cond.pth"), TorchCheckpoint.Pick.EMA), "uvit-tiny-cond");
    }

    public static UViTModel t2i() {
        return UViTModel.fromStateDict(t2iConfig(), TorchCheckpoint.loadStateDict(dir("t2i/ctx8/weights/uvit-tiny-t2i-ctx8.pth"), TorchCheckpoint.Pick.EMA), "uvit-tiny-t2i-ctx8");
    }
}
