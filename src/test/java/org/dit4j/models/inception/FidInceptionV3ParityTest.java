package org.dit4j.models.inception;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.io.Npy;
import org.dit4j.models.inception.FidInceptionV3.Output;
import org.dit4j.runtime.Execution;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

import static org.dit4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.*;

/**
 * pytorch-fid's InceptionV3 against the official run on the fixture's three images (64×64 and 32×48 resized up, 299×299
 * as is), with its deterministic weights: preprocessed input, blocks 0–2, pool3, logits, sFID feature; and ADM's TF1
 * preprocessing against torch-fidelity's emulation. Tolerances are the fixture README's.
 */
class FidInceptionV3ParityTest {
    private static Map<String, INDArray> weights;
    private static FidInceptionV3 model;

    @BeforeAll
    static void build() {
        weights = InceptionFixtureWeights.stateDict();
        model = FidInceptionV3.fromStateDict(weights, "fixture weights");
    }

    private static INDArray npy(int img, String file) {
        return Npy.read(InceptionFixtureWeights.eval("inception/img" + img + "/" + file));
    }

    /** The fixture's crops (3, C, k, k): top-left, centre, bottom-right of a (C, H, W) tensor. */
    static INDArray crops(INDArray chw, int k) {
        long h = chw.size(1), w = chw.size(2), h0 = (h - k) / 2, w0 = (w - k) / 2;
        long[][] at = {{0, 0}, {h0, w0}, {h - k, w - k}};
        INDArray out = Nd4j.create(DataType.FLOAT, 3, chw.size(0), k, k);
        for (int i = 0; i < 3; i++)
            out.putSlice(i, chw.get(NDArrayIndex.all(), NDArrayIndex.interval(at[i][0], at[i][0] + k), NDArrayIndex.interval(at[i][1], at[i][1] + k)));
        return out;
    }

    static INDArray input(int img, InceptionPreprocess p) {
        INDArray im = npy(img, "image.npy");                                                       // (H, W, 3) uint8
        int h = (int) im.size(0), w = (int) im.size(1);
        int[] v = im.castTo(DataType.INT).dup('c').data().asInt();
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        float[] out = new float[3 * 299 * 299];
        p.apply(b, 0, h, w, out, 0);
        return Nd4j.create(out, new long[]{1, 3, 299, 299}, 'c');
    }

    @Test
    void weightRuleAndKeyOrderReproduceTheFixtureStateDict() throws Exception {
        JsonNode cfg = new ObjectMapper().readTree(InceptionFixtureWeights.eval("inception/config.json").toFile()).get("weights");
        assertEquals(566, weights.size());
        int i = 0;
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Map.Entry<String, INDArray> e : weights.entrySet()) {
            JsonNode t = cfg.get("tensors").get(i++);
            assertEquals(t.get("name").asText(), e.getKey(), "entry " + i);
            if (e.getKey().endsWith("num_batches_tracked")) continue;
            float[] v = e.getValue().data().asFloat();
            for (int j = 0; j < 4 && j < v.length; j++) assertEquals(t.get("first4").get(j).asDouble(), v[j], 0.0, e.getKey());
            long[] s = e.getValue().shape();
            StringBuilder shape = new StringBuilder("(");
            for (int j = 0; j < s.length; j++) shape.append(j > 0 ? ", " : "").append(s[j]);
            shape.append(s.length == 1 ? ",)" : ")");
            sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update("float32".getBytes(StandardCharsets.US_ASCII));
            sha.update(shape.toString().getBytes(StandardCharsets.US_ASCII));
            ByteBuffer bb = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            bb.asFloatBuffer().put(v);
            sha.update(bb.array());
        }
        assertEquals(cfg.get("state_dict_sha256_float_only").asText(), java.util.HexFormat.of().formatHex(sha.digest()));
        // the official parameter count: BatchNorm's running statistics are buffers
        assertEquals(23_850_960L, weights.entrySet().stream().filter(e -> !e.getKey().contains("running_") && e.getValue().dataType() == DataType.FLOAT)
                .mapToLong(e -> e.getValue().length()).sum());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void pytorchFidPathMatchesTheOfficialRun(int img) {
        INDArray x = input(img, InceptionPreprocess.PYTORCH_FID);
        assertClose(npy(img, "pre_crops.npy"), crops(x.slice(0), 16), 1e-6, 0, "img" + img + " input");
        assertClose(npy(img, "pre_mean.npy"), x.slice(0).castTo(DataType.DOUBLE).mean(1, 2), 1e-6, 0, "img" + img + " input mean");
        Map<Output, INDArray> y = model.forward(x, Output.values());
        int[] k = {6, 5, 3};
        for (int b = 0; b < 3; b++) {
            INDArray block = y.get(Output.values()[b]).slice(0);
            assertClose(npy(img, "block" + b + "_crops.npy"), crops(block, k[b]), 2e-4, 1e-4, "img" + img + " block" + b);
            assertClose(npy(img, "block" + b + "_mean.npy"), block.mean(1, 2), 2e-4, 1e-4, "img" + img + " block" + b + " mean");
        }
        assertClose(npy(img, "pool3.npy"), y.get(Output.POOL3).slice(0), 1e-4, 0, "img" + img + " pool3");
        assertClose(npy(img, "logits.npy"), y.get(Output.LOGITS).slice(0), 1e-4, 0, "img" + img + " logits");
        assertClose(npy(img, "logits_nobias.npy"), y.get(Output.LOGITS_NOBIAS).slice(0), 1e-4, 0, "img" + img + " logits without bias");
        INDArray softmax = Nd4j.nn().softmax(y.get(Output.LOGITS_NOBIAS), 1).slice(0);
        assertClose(npy(img, "softmax_nobias.npy"), softmax, 1e-6, 0, "img" + img + " softmax without bias");
        assertClose(npy(img, "spatial.npy"), y.get(Output.SPATIAL).reshape(17, 17, 7), 2e-4, 1e-4, "img" + img + " spatial");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void admPreprocessingMatchesTheTf1Emulation(int img) {
        INDArray x = input(img, InceptionPreprocess.ADM);
        assertClose(npy(img, "pre_tf1_crops.npy"), crops(x.slice(0), 16), 1e-6, 0, "img" + img + " TF1 input");
        Map<Output, INDArray> y = model.forward(x, Output.POOL3, Output.SPATIAL);
        assertClose(npy(img, "pool3_tf1pre.npy"), y.get(Output.POOL3).slice(0), 1e-4, 0, "img" + img + " pool3 (TF1 input)");
        assertClose(npy(img, "spatial_tf1pre.npy"), y.get(Output.SPATIAL).reshape(17, 17, 7), 2e-4, 1e-4, "img" + img + " spatial (TF1 input)");
    }

    /** The layers run channels-last with 1×1 convolutions as matrix products over the batch: each image keeps its own rows. */
    @ParameterizedTest
    @ValueSource(strings = {"PLANNED", "SAMEDIFF"})
    void aBatchMatchesTheOfficialRunImageByImageUnderEitherExecutor(String mode) {
        Execution.Mode before = Execution.mode();
        Execution.use(Execution.Mode.valueOf(mode));
        try {
            INDArray x = Nd4j.concat(0, input(2, InceptionPreprocess.PYTORCH_FID), input(0, InceptionPreprocess.PYTORCH_FID));
            Map<Output, INDArray> y = model.forward(x, Output.BLOCK1, Output.POOL3, Output.SPATIAL);
            int[] img = {2, 0};
            for (int i = 0; i < 2; i++) {
                assertClose(npy(img[i], "block1_crops.npy"), crops(y.get(Output.BLOCK1).slice(i), 5), 2e-4, 1e-4, mode + " row " + i + " block1");
                assertClose(npy(img[i], "pool3.npy"), y.get(Output.POOL3).slice(i), 1e-4, 0, mode + " row " + i + " pool3");
                assertClose(npy(img[i], "spatial.npy"), y.get(Output.SPATIAL).slice(i).reshape(17, 17, 7), 2e-4, 1e-4, mode + " row " + i + " spatial");
            }
        } finally {
            Execution.use(before);
        }
    }

    @Test
    void aMissingOrMisshapedTensorIsNamed() {
        Map<String, INDArray> w = new java.util.LinkedHashMap<>(weights);
        w.remove("Mixed_6d.branch1x1.bn.running_var");
        w.put("fc.weight", Nd4j.zeros(DataType.FLOAT, 1000, 2048));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FidInceptionV3.fromStateDict(w, "x.pt"));
        assertTrue(e.getMessage().contains("Mixed_6d.branch1x1.bn.running_var") && e.getMessage().contains("fc.weight"), e.getMessage());
    }
}
