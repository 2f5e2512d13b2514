package org.dit4j.models.inception;

import org.nd4j.autodiff.samediff.SDVariable;

/** torchvision's {@code InceptionD} (Mixed_7a), unchanged by pytorch-fid: the 17×17 → 8×8 reduction. */
final class InceptionD {
    private final BasicConv2d branch3x3_1, branch3x3_2, branch7x7x3_1, branch7x7x3_2, branch7x7x3_3, branch7x7x3_4;

    InceptionD(InceptionTensors t, String name, long in) {
        branch3x3_1 = new BasicConv2d(t, name + ".branch3x3_1", in, 192, 1, 1, 0);
        branch3x3_2 = new BasicConv2d(t, name + ".branch3x3_2", 192, 320, 3, 2, 0);
        branch7x7x3_1 = new BasicConv2d(t, name + ".branch7x7x3_1", in, 192, 1, 1, 0);
        branch7x7x3_2 = new BasicConv2d(t, name + ".branch7x7x3_2", 192, 192, 1, 7, 1, 0, 3);
        branch7x7x3_3 = new BasicConv2d(t, name + ".branch7x7x3_3", 192, 192, 7, 1, 1, 3, 0);
        branch7x7x3_4 = new BasicConv2d(t, name + ".branch7x7x3_4", 192, 192, 3, 2, 0);
    }

    SDVariable apply(SDVariable x) {                                                               // (N, 17, 17, 768)
        SDVariable b3 = branch3x3_2.apply(branch3x3_1.apply(x));                                   // (N, 8, 8, 320)
        SDVariable b7 = branch7x7x3_4.apply(branch7x7x3_3.apply(branch7x7x3_2.apply(branch7x7x3_1.apply(x))));  // (N, 8, 8, 192)
        SDVariable bp = Pools.max3x3Stride2(x);                                                    // (N, 8, 8, 768)
        return x.getSameDiff().concat(3, b3, b7, bp);                                              // (N, 8, 8, 1280)
    }
}
