package org.dit4j.models;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/** A view of a model that is the model in everything it does not override: its weights, graphs and forward pass. */
public abstract class ForwardingDenoiser implements Denoiser {
    protected final Denoiser model;

    protected ForwardingDenoiser(Denoiser model) {
        this.model = model;
    }

    @Override
    public ModelConfig config() {
        return model.config();
    }

    @Override
    public INDArray forward(INDArray x, double[] t, Conditioning c) {
        return model.forward(x, t, c);
    }

    @Override
    public Map<String, long[]> parameterShapes() {
        return model.parameterShapes();
    }

    @Override
    public boolean isTrainable(String name) {
        return model.isTrainable(name);
    }

    @Override
    public Map<String, INDArray> stateDict() {
        return model.stateDict();
    }

    @Override
    public void loadStateDict(Map<String, INDArray> weights, String source) {
        model.loadStateDict(weights, source);
    }

    @Override
    public List<SameDiff> graphs() {
        return model.graphs();
    }
}
