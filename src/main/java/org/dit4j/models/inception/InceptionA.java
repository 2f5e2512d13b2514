package org.dit4j.models.inception;

import org.nd4j.autodiff.samediff.SDVariable;

/** pytorch-fid's {@code FIDInceptionA} (Mixed_5b/5c/5d): torchvision's InceptionA with a padding-excluding average pool. */
final class InceptionA {
    private final BasicConv2d branch1x1, branch5x5_1, branch5x5_2, branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3, branchPool;

    InceptionA(InceptionTensors t, String name, long in, long poolFeatures) {
        branch1x1 = new BasicConv2d(t, name + ".branch1x1", in, 64, 1, 1, 0);
        branch5x5_1 = new BasicConv2d(t, name + ".branch5x5_1", in, 48, 1, 1, 0);
        branch5x5_2 = new BasicConv2d(t, name + ".branch5x5_2", 48, 64, 5, 1, 2);
        branch3x3dbl_1 = new BasicConv2d(t, name + ".branch3x3dbl_1", in, 64, 1, 1, 0);
        branch3x3dbl_2 = new BasicConv2d(t, name + ".branch3x3dbl_2", 64, 96, 3, 1, 1);
        branch3x3dbl_3 = new BasicConv2d(t, name + ".branch3x3dbl_3", 96, 96, 3, 1, 1);
        branchPool = new BasicConv2d(t, name + ".branch_pool", in, poolFeatures, 1, 1, 0);
    }

    SDVariable apply(SDVariable x) {                                                               // (N, H, W, in)
        SDVariable b1 = branch1x1.apply(x);                                                        // (N, H, W, 64)
        SDVariable b5 = branch5x5_2.apply(branch5x5_1.apply(x));                                   // (N, H, W, 64)
        SDVariable b3 = branch3x3dbl_3.apply(branch3x3dbl_2.apply(branch3x3dbl_1.apply(x)));       // (N, H, W, 96)
        SDVariable bp = branchPool.apply(Pools.avg3x3SameExcludePad(x));                           // (N, H, W, pf)
        return x.getSameDiff().concat(3, b1, b5, b3, bp);                                          // (N, H, W, 224 + pf)
    }
}
