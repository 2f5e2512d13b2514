package org.dit4j.models;

import org.dit4j.diffusion.NoiseSource;
import org.dit4j.models.dit.DiTModel;
import org.dit4j.models.nn.PosEmbed;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

import static org.dit4j.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** The experimental DiT at other grids: the interpolated sin-cos table and graphs that share the model's weights. */
class DiTAnySizeTest {
    @Test
    void interpolatedTableAtTheTrainedGridIsTheOfficialOne() {
        assertEquals(PosEmbed.sincos2d(64, 4), PosEmbed.sincos2dInterpolated(64, 4, 4, 4));
        INDArray wide = PosEmbed.sincos2dInterpolated(64, 4, 2, 8);
        // row 1 of a 2-row grid sits where row 2 of the trained 4-row grid was; column 2 of 8 where column 1 of 4 was
        assertEquals(PosEmbed.sincos2d(64, 4).slice(0).getRow(2 * 4 + 1), wide.slice(0).getRow(8 + 2));
    }

    @Test
    void otherGridsRunOnTheSameWeights() {
        DiTModel m = TinyDiT.model();
        INDArray x = NoiseSource.seeded(3).next(2, 4, 16, 8);
        INDArray out = m.forward(x, new double[]{10, 900}, new long[]{1, 2});
        assertArrayEquals(new long[]{2, 8, 16, 8}, out.shape());
        // the native size is still the official forward
        assertClose(npy("forward_out.npy"), m.forward(npy("x.npy"), times("t.npy"), longs("y.npy")), 1e-4, 1e-4, "native forward");
        // weights loaded later reach the resized graph too
        Map<String, INDArray> w = new HashMap<>();
        m.stateDict().forEach((k, v) -> w.put(k, v.dup()));
        Map<String, INDArray> zero = new HashMap<>(w);
        zero.put("final_layer.linear.weight", w.get("final_layer.linear.weight").mul(0));
        zero.put("final_layer.linear.bias", w.get("final_layer.linear.bias").mul(0));
        try {
            m.loadStateDict(zero, "zeroed head");
            assertEquals(0.0, m.forward(x, new double[]{10, 900}, new long[]{1, 2}).amaxNumber().doubleValue());
        } finally {
            m.loadStateDict(w, "restored");
        }
        assertClose(out, m.forward(x, new double[]{10, 900}, new long[]{1, 2}), 0, 0, "restored");
        assertThrows(IllegalArgumentException.class, () -> m.forward(NoiseSource.seeded(3).next(1, 4, 15, 8), new double[]{1}, new long[]{1}));
    }
}
