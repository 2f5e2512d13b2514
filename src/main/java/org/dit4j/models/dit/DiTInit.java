package org.dit4j.models.dit;

import org.dit4j.models.nn.AdaLnZeroInit;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/** The official {@code initialize_weights} ({@link AdaLnZeroInit}) with DiT's fixed sin-cos table. */
public final class DiTInit {
    private DiTInit() {}

    public static void initialize(DiTModel model, long seed) {
        model.loadStateDict(weights(model.config(), seed), "initialisation");
    }

    /** The initial state dict of {@code cfg} drawn from {@code seed}, in official order. */
    public static Map<String, INDArray> weights(DiTConfig cfg, long seed) {
        Map<String, INDArray> buffers = new LinkedHashMap<>();
        new DiTFamily().addMissingBuffers(cfg, buffers);
        return AdaLnZeroInit.weights(DiTFamily.declared(cfg), buffers, seed);
    }
}
