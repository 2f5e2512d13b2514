package org.dit4j.models.vae;

import org.dit4j.models.nn.Ops;
import org.dit4j.models.nn.Params;
import org.nd4j.autodiff.samediff.SDVariable;

import java.util.ArrayList;
import java.util.List;

/** LDM's {@code Decoder}: conv_in, mid block, levels in reverse with num_res_blocks + 1 ResnetBlocks and upsampling, conv_out. */
final class Decoder {
    private final VaeLayers.Conv2d convIn, convOut;
    private final VaeLayers.ResnetBlock mid1, mid2;
    private final VaeLayers.AttnBlock midAttn;
    private final List<List<VaeLayers.ResnetBlock>> blocks = new ArrayList<>();   // index = level, as in the state dict
    private final List<VaeLayers.Upsample> ups = new ArrayList<>();
    private final VaeLayers.GroupNorm normOut;

    Decoder(Params p, VaeConfig c) {
        int levels = c.levels();
        long top = c.channels(levels - 1);
        convIn = new VaeLayers.Conv2d(p, "decoder.conv_in", c.zChannels(), top, 3, 1, 1);
        mid1 = new VaeLayers.ResnetBlock(p, "decoder.mid.block_1", top, top);
        midAttn = new VaeLayers.AttnBlock(p, "decoder.mid.attn_1", top);
        mid2 = new VaeLayers.ResnetBlock(p, "decoder.mid.block_2", top, top);
        for (int i = 0; i < levels; i++) {
            // Level i is entered from level i + 1 (or the mid block at the top).
            long in = i == levels - 1 ? top : c.channels(i + 1);
            List<VaeLayers.ResnetBlock> level = new ArrayList<>();
            for (int j = 0; j <= c.numResBlocks(); j++) {
                level.add(new VaeLayers.ResnetBlock(p, "decoder.up." + i + ".block." + j, in, c.channels(i)));
                in = c.channels(i);
            }
            blocks.add(level);
            ups.add(i != 0 ? new VaeLayers.Upsample(p, "decoder.up." + i + ".upsample", in) : null);
        }
        normOut = new VaeLayers.GroupNorm(p, "decoder.norm_out", c.channels(0));
        convOut = new VaeLayers.Conv2d(p, "decoder.conv_out", c.channels(0), c.outCh(), 3, 1, 1);
    }

    /** z (N, z, h, w) → (N, 3, h·f, w·f). */
    SDVariable apply(SDVariable z) {
        SDVariable h = convIn.apply(z);
        h = mid2.apply(midAttn.apply(mid1.apply(h))).rename("dec_mid_out");
        for (int i = blocks.size() - 1; i >= 0; i--) {
            for (VaeLayers.ResnetBlock b : blocks.get(i)) h = b.apply(h);
            if (ups.get(i) != null) h = ups.get(i).apply(h);
        }
        h = Ops.silu(z.getSameDiff(), normOut.apply(h)).rename("dec_conv_out_in");
        return convOut.apply(h);
    }
}
