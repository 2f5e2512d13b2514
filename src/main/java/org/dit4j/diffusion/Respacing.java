package org.dit4j.diffusion;

import java.util.TreeSet;

/** {@code space_timesteps}: which timesteps of the base process a respaced process keeps ("250", "10,20", "ddim50"). */
public final class Respacing {
    private Respacing() {}

    public static int[] spaceTimesteps(int numTimesteps, String sectionCounts) {
        TreeSet<Integer> steps = new TreeSet<>();
        String spec = sectionCounts == null || sectionCounts.isBlank() ? String.valueOf(numTimesteps) : sectionCounts.trim();
        if (spec.startsWith("ddim")) {
            int desired = parse(spec.substring(4), spec);
            for (int stride = 1; stride < numTimesteps; stride++) {
                if ((numTimesteps + stride - 1) / stride == desired) {
                    for (int t = 0; t < numTimesteps; t += stride) steps.add(t);
                    return toArray(steps);
                }
            }
            throw new IllegalArgumentException("respacing '" + spec + "': cannot create exactly " + desired + " steps from "
                    + numTimesteps + " with an integer stride");
        }
        String[] parts = spec.split(",", -1);   // keep empty sections: the official int(x) refuses "10," too
        int[] counts = new int[parts.length];
        for (int i = 0; i < parts.length; i++) counts[i] = parse(parts[i], spec);
        int sizePer = numTimesteps / counts.length, extra = numTimesteps % counts.length, start = 0;
        for (int i = 0; i < counts.length; i++) {
            int size = sizePer + (i < extra ? 1 : 0);
            if (size < counts[i])
                throw new IllegalArgumentException("respacing '" + spec + "': cannot divide a section of " + size + " steps into " + counts[i]);
            double stride = counts[i] <= 1 ? 1 : (double) (size - 1) / (counts[i] - 1);
            double cur = 0.0;
            for (int k = 0; k < counts[i]; k++) {
                steps.add(start + (int) Math.rint(cur));   // Python's round() rounds half to even
                cur += stride;
            }
            start += size;
        }
        return toArray(steps);
    }

    private static int parse(String s, String spec) {
        try {
            int v = Integer.parseInt(s.trim());
            if (v <= 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("respacing '" + spec + "' is not a comma-separated list of positive step counts or 'ddimN'");
        }
    }

    private static int[] toArray(TreeSet<Integer> s) {
        return s.stream().mapToInt(Integer::intValue).toArray();
    }
}
