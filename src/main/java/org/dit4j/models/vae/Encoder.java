package org.dit4j.models.vae;

import org.dit4j.models.nn.Ops;
import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;

import java.util.ArrayList;
import java.util.List;

/** LDM's {@code Encoder}: conv_in, levels of ResnetBlocks with downsampling, mid block, norm/SiLU/conv_out to 2·z. */
final class Encoder {
    private final VaeLayers.Conv2d convIn, convOut;
    private final List<List<VaeLayers.ResnetBlock>> blocks = new ArrayList<>();
    private final List<VaeLayers.Downsample> downs = new ArrayList<>();
    private final VaeLayers.ResnetBlock mid1, mid2;
    private final VaeLayers.AttnBlock midAttn;
    private final VaeLayers.GroupNorm normOut;

    Encoder(Params p, VaeConfig c) {
        convIn = new VaeLayers.Conv2d(p, "encoder.conv_in", c.inChannels(), c.ch(), 3, 1, 1);
        long in = c.ch();
        for (int i = 0; i < c.levels(); i++) {
            List<VaeLayers.ResnetBlock> level = new ArrayList<>();
            for (int j = 0; j < c.numResBlocks(); j++) {
                level.add(new VaeLayers.ResnetBlock(p, "encoder.down." + i + ".block." + j, in, c.channels(i)));
                in = c.channels(i);
            }
            blocks.add(level);
            downs.add(i != c.levels() - 1 ? new VaeLayers.Downsample(p, "encoder.down." + i + ".downsample", in) : null);
        }
        mid1 = new VaeLayers.ResnetBlock(p, "encoder.mid.block_1", in, in);
        midAttn = new VaeLayers.AttnBlock(p, "encoder.mid.attn_1", in);
        mid2 = new VaeLayers.ResnetBlock(p, "encoder.mid.block_2", in, in);
        normOut = new VaeLayers.GroupNorm(p, "encoder.norm_out", in);
        convOut = new VaeLayers.Conv2d(p, "encoder.conv_out", in, c.doubleZ() ? 2L * c.zChannels() : c.zChannels(), 3, 1, 1);
    }

    /** x (N, 3, H, W) → (N, 2z, H/f, W/f). */
    SDVariable apply(SDVariable x) {
        SDVariable h = convIn.apply(x).rename("enc_conv_in_out");
        for (int i = 0; i < blocks.size(); i++) {
            for (VaeLayers.ResnetBlock b : blocks.get(i)) h = b.apply(h);
            if (downs.get(i) != null) h = downs.get(i).apply(h);
            h = h.rename("enc_down" + i + "_out");
        }
        h = mid2.apply(midAttn.apply(mid1.apply(h))).rename("enc_mid_out");
        return convOut.apply(Ops.silu(x.getSameDiff(), normOut.apply(h))).rename("enc_out");
    }
}
