package org.dit4j.cli;

import org.dit4j.diffusion.DpmSolver;
import org.dit4j.pipeline.GuidanceChannels;
import org.dit4j.pipeline.SampleRequest;
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

        /** Alternating spelling, value, spelling, value, ...; the first spelling of a value is its name. */
        Named(Object... spellingsAndValues) {
            for (int i = 0; i < spellingsAndValues.length; i += 2) {
                @SuppressWarnings("unchecked") E v = (E) spellingsAndValues[i + 1];
                values.put((String) spellingsAndValues[i], v);
            }
        }

        String nameOf(E value) {
            return values.entrySet().stream().filter(e -> e.getValue() == value).findFirst().orElseThrow().getKey();
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

    /** {@code --interpolation}: sample_fit_ddp.py's names, kept as spelled. */
    static final class InterpolationConverter extends Named<String> {
        InterpolationConverter() {
            super("no", "no", "linear", "linear", "dynntk", "dynntk", "partntk", "partntk", "yarn", "yarn");
        }
    }

    /** {@code --sampler ddpm|ddim|dpm-solver|dpm-solver++}. */
    static final class SamplerConverter implements ITypeConverter<SampleRequest.SamplerKind>, Iterable<String> {
        @Override
        public SampleRequest.SamplerKind convert(String s) {
            try {
                return SampleRequest.SamplerKind.parse(s);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }

        @Override
        public Iterator<String> iterator() {
            return java.util.Arrays.stream(SampleRequest.SamplerKind.values()).map(SampleRequest.SamplerKind::spelling).iterator();
        }
    }

    /** {@code --solver-method}: the official method names ('fast' is the release's adaptive-order singlestep plan). */
    static final class SolverMethodConverter extends Named<DpmSolver.Method> {
        private static final SolverMethodConverter INSTANCE = new SolverMethodConverter();

        SolverMethodConverter() {
            super("multistep", DpmSolver.Method.MULTISTEP, "singlestep", DpmSolver.Method.SINGLESTEP, "fast", DpmSolver.Method.SINGLESTEP,
                    "singlestep-fixed", DpmSolver.Method.SINGLESTEP_FIXED);
        }

        static String name(DpmSolver.Method m) {
            return INSTANCE.nameOf(m);
        }
    }

    /** {@code --skip-type}: the official skip_type names. */
    static final class SkipTypeConverter extends Named<DpmSolver.SkipType> {
        private static final SkipTypeConverter INSTANCE = new SkipTypeConverter();

        SkipTypeConverter() {
            super("time_uniform", DpmSolver.SkipType.TIME_UNIFORM, "logSNR", DpmSolver.SkipType.LOG_SNR,
                    "time_quadratic", DpmSolver.SkipType.TIME_QUADRATIC);
        }

        static String name(DpmSolver.SkipType s) {
            return INSTANCE.nameOf(s);
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
