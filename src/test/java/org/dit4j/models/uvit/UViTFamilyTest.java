package org.dit4j.models.uvit;

import org.dit4j.io.Weights;
import org.dit4j.models.Conditioning;
import org.dit4j.models.ModelConfig;
import org.dit4j.models.ModelFamilies;
import org.dit4j.models.StagedModel;
import org.dit4j.models.nn.SameDiffParams;
import org.dit4j.util.Graphs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.*;

import static org.dit4j.models.uvit.TinyUViT.*;
import static org.junit.jupiter.api.Assertions.*;

/** The U-ViT family: released configs and their parameter counts, state-dict order, init, inference from shapes, the staged view. */
class UViTFamilyTest {
    /**
     * Parameters of {@code libs/uvit.py} / {@code libs/uvit_t2i.py} counted from the constructor's module definitions:
     * pos_embed, patch_embed Conv2d(C, D, p, p), the optional time MLP, label_emb / context_embed, depth//2 + 1 +
     * depth//2 Blocks (LayerNorm, qkv, proj, LayerNorm, Mlp, and skip_linear Linear(2D, D) on the out-blocks), norm,
     * decoder_pred Linear(D, p²C), final_layer Conv2d(C, C, 3).
     */
    static long officialCount(UViTConfig c) {
        long d = c.embedDim(), ch = c.inChans(), p = c.patchSize(), hid = (long) (d * c.mlpRatio());
        long n = (long) c.numTokens() * d + d * ch * p * p + d;
        if (c.mlpTimeEmbed()) n += d * 4 * d + 4 * d + 4 * d * d + d;
        if (c.isT2I()) n += (long) c.clipDim() * d + d;
        else if (c.numClassesArg() > 0) n += c.numClassesArg() * d;
        long block = 2 * d + 3 * d * d + (c.qkvBias() ? 3 * d : 0) + d * d + d + 2 * d + d * hid + hid + hid * d + d;
        int half = c.depth() / 2;
        n += (2L * half + 1) * block + (c.skip() ? half * (2 * d * d + d) : 0);
        n += 2 * d + d * p * p * ch + p * p * ch;
        if (c.conv()) n += ch * ch * 9 + ch;
        return n;
    }

    @Test
    void everyReleasedConfigurationHasTheOfficialParameterCount() {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String name : ModelFamilies.modelNames()) {
            ModelConfig cfg = ModelFamilies.named(name);
            if (!(cfg instanceof UViTConfig u)) continue;
            long ours = ModelFamilies.of(u).shapes(u).values().stream().mapToLong(s -> Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum();
            assertEquals(officialCount(u), ours, name);
            assertEquals(u, ModelFamilies.fromYaml(u.toYaml(), name + " round trip"), name);
            counts.put(name, ours);
        }
        assertEquals(10, counts.size());
        System.out.println("U-ViT parameter counts: " + counts);
        // the paper's sizes: S 44M, M 131M, L 287M, H 501M
        assertEquals(44, Math.round(counts.get("cifar10_uvit_small") / 1e6));
        assertEquals(131, Math.round(counts.get("imagenet64_uvit_mid") / 1e6));
        assertEquals(287, Math.round(counts.get("imagenet256_uvit_large") / 1e6));
        assertEquals(501, Math.round(counts.get("imagenet256_uvit_huge") / 1e6));
        assertEquals("discrete", ((UViTConfig) ModelFamilies.named("imagenet256_uvit_huge")).schedule());
        assertEquals(1000, ModelFamilies.named("imagenet512_uvit_huge").nullLabel());
        assertEquals(-1, ModelFamilies.named("imagenet64_uvit_mid").nullLabel());
        assertEquals(0, ModelFamilies.named("cifar10_uvit_small").numClasses());
    }

    @Test
    void stateDictOrderIsTheOfficialOneAndNothingIsABuffer() {
        UViTConfig cfg = condConfig();
        UViTFamily f = new UViTFamily(UViTFamily.NAME);
        List<String> keys = new ArrayList<>(f.shapes(cfg).keySet());
        assertEquals(fixtureOrder("cond/config.json"), keys);
        assertTrue(f.buffers(cfg).isEmpty());
        assertTrue(cond().isTrainable("pos_embed"));
        List<String> t2iKeys = new ArrayList<>(new UViTFamily(UViTFamily.T2I).shapes(t2iConfig()).keySet());
        assertEquals(fixtureOrder("t2i/ctx8/config.json"), t2iKeys);
    }

    /** The official key order, as the fixture's {@code weights.tensors[]} table lists it. */
    static List<String> fixtureOrder(String configJson) {
        try {
            var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir(configJson).toFile());
            List<String> names = new ArrayList<>();
            root.path("weights").path("tensors").forEach(t -> names.add(t.path("name").asText()));
            return names;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void initialWeightsFollowInitWeights() {
        UViTConfig cfg = condConfig();
        Map<String, INDArray> w = new UViTFamily(UViTFamily.NAME).initialWeights(cfg, 3);
        assertEquals(new UViTFamily(UViTFamily.NAME).shapes(cfg).keySet(), w.keySet());
        assertEquals(0.02, w.get("in_blocks.0.mlp.fc1.weight").stdNumber().doubleValue(), 0.002);
        assertEquals(0.02, w.get("pos_embed").stdNumber().doubleValue(), 0.002);
        assertEquals(0, w.get("in_blocks.0.mlp.fc1.bias").amaxNumber().doubleValue());
        assertEquals(1, w.get("norm.weight").minNumber().doubleValue());
        assertEquals(1.0, w.get("label_emb.weight").stdNumber().doubleValue(), 0.1);
        double bound = 1 / Math.sqrt(4 * 2 * 2);   // patch_embed fan_in = C·p·p
        assertTrue(w.get("patch_embed.proj.weight").amaxNumber().doubleValue() <= bound);
        assertTrue(w.get("patch_embed.proj.bias").amaxNumber().doubleValue() > 0);
        assertTrue(w.get("final_layer.weight").amaxNumber().doubleValue() <= 1 / Math.sqrt(4 * 9));
    }

    @Test
    void stagedViewComputesTheForwardPass() {
        UViTModel m = cond();
        for (StagedModel s : List.of(m, t2i())) {
            UViTModel u = (UViTModel) s;
            INDArray x = npy(u.config().isT2I() ? "t2i/ctx8/x.npy" : "cond/x.npy");
            double[] t = {1000, 431, 1};
            Conditioning c = u.config().isT2I() ? new Conditioning(null, npy("t2i/ctx8/context.npy"), null) : Conditioning.labels(3, 7, 10);
            SameDiff g = Graphs.create();
            SameDiffParams p = new SameDiffParams(g, u.stateDict());
            Map<String, SDVariable> in = u.declareInputs(g);
            Map<String, SDVariable> state = new HashMap<>(u.embed(p, in));
            assertEquals(u.stateSpecs().keySet(), state.keySet());
            for (StagedModel.BlockCall call : u.blockCalls()) {
                Map<String, SDVariable> bin = new HashMap<>();
                call.reads().forEach((local, st) -> bin.put(local, state.get(st)));
                Map<String, SDVariable> out = u.block(call.kind(), p, call.prefix(), bin);
                call.writes().forEach((st, local) -> state.put(st, out.get(local)));
            }
            SDVariable y = u.head(p, state, in);
            INDArray staged = g.output(u.inputs(x, t, c), y.name()).get(y.name());
            assertEquals(0, staged.sub(u.forward(x, t, c)).amaxNumber().doubleValue(), 1e-6, u.config().family());
        }
    }

    @Test
    void theArchitectureIsInferredFromAReleasedWidthAndStrictLoadingNamesWhatIsWrong(@TempDir Path dir) throws Exception {
        UViTConfig small = new UViTConfig("uvit", 8, 2, 4, 512, 4, 8, 4, false, true, 1001, 768, 77, true, true, false, "continuous", 0, 0.18215, UViTConfig.Sample.DEFAULT);
        UViTFamily f = new UViTFamily(UViTFamily.NAME);
        Map<String, INDArray> w = f.initialWeights(small, 1);
        assertEquals(small, f.infer(w, "w"));
        UViTConfig t2i = new UViTConfig("uvit-t2i", 8, 2, 4, 512, 2, 8, 4, true, false, -1, 64, 77, false, false, false, "discrete", 0, 0.2301, UViTConfig.Sample.DEFAULT);
        assertEquals(t2i, new UViTFamily(UViTFamily.T2I).infer(new UViTFamily(UViTFamily.T2I).initialWeights(t2i, 1), "w"));
        // a .pth with a missing tensor: the strict load names it
        Map<String, INDArray> file = org.dit4j.io.TorchCheckpoint.loadStateDict(dir("cond/weights/uvit-tiny-cond.pth"), org.dit4j.io.TorchCheckpoint.Pick.EMA);
        file.remove("out_blocks.1.skip_linear.bias");
        var e = assertThrows(RuntimeException.class, () -> UViTModel.fromStateDict(condConfig(), file, "nnet.pth"));
        assertTrue(e.getMessage().contains("out_blocks.1.skip_linear.bias"), e.getMessage());
        // through the generic loader, with the architecture given
        Weights.Imported imp = Weights.load(dir("cond/weights/uvit-tiny-cond.pth"), null, condConfig(), org.dit4j.io.TorchCheckpoint.Pick.EMA);
        assertEquals(69, imp.weights().size());
    }

    @Test
    void badConfigsAreOneLineErrorsNamingTheKey() {
        for (String bad : new String[]{"family: uvit\nschedule: cosine", "family: uvit\nnum_classes: 0", "family: uvit\nclip_dim: 8",
                "family: uvit-t2i\nnum_classes: 10", "family: uvit\nqk_scale: 0.5", "family: uvit\nsample:\n  algorithm: ddim", "family: uvit\nschedule: discrete\nsample:\n  algorithm: euler_maruyama_sde", "family: uvit\nembed_dim: 100\nnum_heads: 12"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> ModelFamilies.fromYaml(bad + "\n", "bad.yaml"), bad);
            assertTrue(e.getMessage().startsWith("bad.yaml: ") && !e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
