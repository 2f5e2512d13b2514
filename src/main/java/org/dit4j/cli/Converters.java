package org.dit4j.cli;

import org.dit4j.pipeline.GuidanceChannels;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/** Flag values that are not plain enum constant names. */
final class Converters {
    private Converters() {}

    /** A fixed set of spellings, each naming one value; also the completion candidates picocli lists. */
    private abstract static class Named<E> implements ITypeConverter<E>, Iterable<String> {
        private final Map<String, E> values = new LinkedHashMap<>();

        Named(String a, E va, String b, E vb) {
            values.put(a, va);
            values.put(b, vb);
        }

        @Override
        public E convert(String s) {
            E v = values.get(s);
            if (v == null) throw new TypeConversionException("expected " + String.join(" or ", values.keySet()) + ", got '" + s + "'");
            return v;
        }

        @Override
        public Iterator<String> iterator() {
            return values.keySet().iterator();
        }
    }

    /** {@code --cfg-channels 3|all}: "3" is what the family's official code guides (DiT: channels [0, 3)). */
    static final class CfgChannels extends Named<GuidanceChannels> {
        CfgChannels() {
            super("3", GuidanceChannels.OFFICIAL, "all", GuidanceChannels.ALL);
        }
    }

    /** How {@code train --devices N} trains. */
    enum Parallel { REPLICAS, PARALLEL_WRAPPER }

    static final class ParallelConverter extends Named<Parallel> {
        ParallelConverter() {
            super("replicas", Parallel.REPLICAS, "parallel-wrapper", Parallel.PARALLEL_WRAPPER);
        }
    }
}
