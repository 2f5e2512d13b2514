package org.dit4j.models.inception;

import org.nd4j.autodiff.samediff.SDVariable;

/** torchvision's {@code InceptionB} (Mixed_6a), unchanged by pytorch-fid: the 35×35 → 17×17 reduction. */
final class InceptionB {
    private final BasicConv2d branch3x3, branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3;

    InceptionB(InceptionTensors t, String name, long in) {
        branch3x3 = new BasicConv2d(t, name + ".branch3x3", in, 384, 3, 2, 0);
        branch3x3dbl_1 = new BasicConv2d(t, name + ".branch3x3dbl_1", in, 64, 1, 1, 0);
        branch3x3dbl_2 = new BasicConv2d(t, name + ".branch3x3dbl_2", 64, 96, 3, 1, 1);
        branch3x3dbl_3 = new BasicConv2d(t, name + ".branch3x3dbl_3", 96, 96, 3, 2, 0);
    }

    SDVariable apply(SDVariable x) {                                                               // (N, 35, 35, in)
        SDVariable b3 = branch3x3.apply(x);                                                        // (N, 17, 17, 384)
        SDVariable bd = branch3x3dbl_3.apply(branch3x3dbl_2.apply(branch3x3dbl_1.apply(x)));       // (N, 17, 17, 96)
        SDVariable bp = Pools.max3x3Stride2(x);                                                    // (N, 17, 17, in)
        return x.getSameDiff().concat(3, b3, bd, bp);                                              // (N, 17, 17, 480 + in)
    }
}
