package org.dit4j.models;

import org.dit4j.models.dit.DiT;
import org.dit4j.models.dit.DiTConfig;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.Fixtures;
import org.dit4j.io.TorchCheckpoint;

/** The fixture DiT, loaded once per JVM (building the graph is the slow part). */
final class TinyDiT {
    private static DiTModel model;

    static synchronized DiTModel model() {
        if (model == null) {
            DiTConfig cfg = DiTConfig.load(Fixtures.tiny("config.json"));
            DiTModel m = DiTModel.create(cfg);
            m.loadStateDict(TorchCheckpoint.loadStateDict(Fixtures.tiny("weights/DiT-tiny.pt"), TorchCheckpoint.Pick.EMA), "DiT-tiny.pt");
            model = m;
        }
        return model;
    }
}
