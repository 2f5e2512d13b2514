package org.dit4j.models.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** Records parameter names and shapes without allocating them: the architecture of DiT-XL/2 costs nothing. */
public final class ShapeParams implements Params {
    private final SameDiff sd = SameDiff.create();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Set<String> buffers = new LinkedHashSet<>();
    private final Map<String, String> modules = new LinkedHashMap<>();

    @Override
    public SDVariable weight(String name, long... shape) {
        shapes.put(name, shape.clone());
        return sd.placeHolder(name, DataType.FLOAT, shape);
    }

    @Override
    public SDVariable buffer(String name, long... shape) {
        buffers.add(name);
        return weight(name, shape);
    }

    @Override
    public void module(String name, String type) {
        modules.put(name, type);
    }

    /** The module that owns parameter {@code name} ({@code blocks.0.attn.qkv} for {@code blocks.0.attn.qkv.weight}), or "". */
    public String moduleOf(String name) {
        String best = "";
        for (String m : modules.keySet()) if (name.startsWith(m + ".") && m.length() > best.length()) best = m;
        return best;
    }

    /** The type of a module recorded by {@link #module}, or "" for parameters a model declares itself. */
    public String typeOf(String module) {
        return modules.getOrDefault(module, "");
    }

    /** The frozen tensors among {@link #shapes()}. */
    public Set<String> buffers() {
        return buffers;
    }

    /** Names and shapes recorded so far, in definition order. */
    public Map<String, long[]> shapes() {
        return shapes;
    }
}
