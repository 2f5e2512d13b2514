package org.dit4j.models;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.LinkedHashMap;
import java.util.Map;

/** Records parameter names and shapes without allocating them: the architecture of DiT-XL/2 costs nothing. */
public final class ShapeParams implements Params {
    private final SameDiff sd = SameDiff.create();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    @Override
    public SameDiff sd() {
        return sd;
    }

    @Override
    public SDVariable weight(String name, long... shape) {
        shapes.put(name, shape.clone());
        return sd.placeHolder(name, DataType.FLOAT, shape);
    }

    @Override
    public SDVariable buffer(String name, long... shape) {
        return weight(name, shape);
    }

    /** Names and shapes recorded so far, in definition order. */
    public Map<String, long[]> shapes() {
        return shapes;
    }

    /** The official state dict's names and shapes, in order, for {@code cfg}. */
    public static Map<String, long[]> of(DiTConfig cfg) {
        ShapeParams p = new ShapeParams();
        new DiT(p, cfg);
        return p.shapes;
    }
}
