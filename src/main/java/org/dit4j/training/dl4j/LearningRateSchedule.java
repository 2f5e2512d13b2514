package org.dit4j.training.dl4j;

import org.dit4j.training.TrainConfig;
import org.nd4j.linalg.schedule.ISchedule;

/** {@link TrainConfig#learningRate} as a DL4J schedule over iterations (= optimiser steps), serialisable with the graph. */
public final class LearningRateSchedule implements ISchedule {
    private double start, end;
    private int warmup;
    private boolean cosine;
    private long total;

    @SuppressWarnings("unused")   // for DL4J's JSON deserialisation
    private LearningRateSchedule() {}

    public LearningRateSchedule(TrainConfig cfg, long totalSteps) {
        this(cfg.real("start_learning_rate"), cfg.real("end_learning_rate"), cfg.integer("warmup_steps"), cosineOnly(cfg), totalSteps);
    }

    private static boolean cosineOnly(TrainConfig cfg) {
        if ("customized".equals(cfg.str("scheduler")))
            throw new IllegalArgumentException("scheduler customized (U-ViT's) is for the SameDiff trainer; the ComputationGraph engines take constant or cosine");
        return cfg.cosine();
    }

    private LearningRateSchedule(double start, double end, int warmup, boolean cosine, long total) {
        this.start = start;
        this.end = end;
        this.warmup = warmup;
        this.cosine = cosine;
        this.total = total;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        return TrainConfig.learningRate(start, end, warmup, cosine, iteration, total);
    }

    @Override
    public ISchedule clone() {
        return new LearningRateSchedule(start, end, warmup, cosine, total);
    }

    // Bean accessors: DL4J (de)serialises schedules with Jackson.
    public double getStart() { return start; }
    public void setStart(double v) { start = v; }
    public double getEnd() { return end; }
    public void setEnd(double v) { end = v; }
    public int getWarmup() { return warmup; }
    public void setWarmup(int v) { warmup = v; }
    public boolean isCosine() { return cosine; }
    public void setCosine(boolean v) { cosine = v; }
    public long getTotal() { return total; }
    public void setTotal(long v) { total = v; }
}
