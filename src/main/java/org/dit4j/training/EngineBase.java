package org.dit4j.training;

import org.dit4j.data.TrainingData;
import org.dit4j.models.StateDicts;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/** What every engine keeps the same way: the config, the data, the EMA and the step counter. */
public abstract class EngineBase implements TrainingLoop {
    protected final TrainConfig cfg;
    protected final TrainingData data;
    protected Ema ema;
    protected long current;

    protected EngineBase(TrainConfig cfg, TrainingData data) {
        this.cfg = cfg;
        this.data = data;
    }

    /** Starts the EMA (when the config keeps one) from the initial weights, as train.py does. */
    protected void startEma(Map<String, INDArray> initial) {
        ema = cfg.bool("use_ema") ? new Ema(initial, cfg.real("ema_decay"), cfg.bool("ema_warmup")) : null;
    }

    /** The model's current weights as a full state dict (live arrays). */
    protected abstract Map<String, INDArray> liveWeights();

    @Override
    public TrainConfig trainConfig() {
        return cfg;
    }

    /** Total optimiser steps: max_steps, or as many as the epochs take. */
    @Override
    public long totalSteps() {
        return cfg.totalSteps(data.size());
    }

    @Override
    public long currentStep() {
        return current;
    }

    @Override
    public Ema ema() {
        return ema;
    }

    @Override
    public Map<String, INDArray> samplingWeights() {
        return ema != null ? ema.copy() : StateDicts.copy(liveWeights());
    }
}
