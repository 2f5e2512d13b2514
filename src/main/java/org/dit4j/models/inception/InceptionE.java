package org.dit4j.models.inception;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * pytorch-fid's {@code FIDInceptionE_1} (Mixed_7b: padding-excluding average pool) and {@code FIDInceptionE_2} (Mixed_7c:
 * a 3×3 max pool, a quirk of the TensorFlow graph that pytorch-fid keeps).
 */
final class InceptionE {
    enum Pool { AVG_EXCLUDE_PAD, MAX }

    private final Pool pool;
    private final BasicConv2d branch1x1, branch3x3_1, branch3x3_2a, branch3x3_2b;
    private final BasicConv2d branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3a, branch3x3dbl_3b, branchPool;

    InceptionE(InceptionTensors t, String name, long in, Pool pool) {
        this.pool = pool;
        branch1x1 = new BasicConv2d(t, name + ".branch1x1", in, 320, 1, 1, 0);
        branch3x3_1 = new BasicConv2d(t, name + ".branch3x3_1", in, 384, 1, 1, 0);
        branch3x3_2a = new BasicConv2d(t, name + ".branch3x3_2a", 384, 384, 1, 3, 1, 0, 1);
        branch3x3_2b = new BasicConv2d(t, name + ".branch3x3_2b", 384, 384, 3, 1, 1, 1, 0);
        branch3x3dbl_1 = new BasicConv2d(t, name + ".branch3x3dbl_1", in, 448, 1, 1, 0);
        branch3x3dbl_2 = new BasicConv2d(t, name + ".branch3x3dbl_2", 448, 384, 3, 1, 1);
        branch3x3dbl_3a = new BasicConv2d(t, name + ".branch3x3dbl_3a", 384, 384, 1, 3, 1, 0, 1);
        branch3x3dbl_3b = new BasicConv2d(t, name + ".branch3x3dbl_3b", 384, 384, 3, 1, 1, 1, 0);
        branchPool = new BasicConv2d(t, name + ".branch_pool", in, 192, 1, 1, 0);
    }

    SDVariable apply(SDVariable x) {                                                               // (N, 8, 8, in)
        var sd = x.getSameDiff();
        SDVariable b1 = branch1x1.apply(x);                                                        // (N, 8, 8, 320)
        SDVariable b3 = branch3x3_1.apply(x);                                                      // (N, 8, 8, 384)
        b3 = sd.concat(3, branch3x3_2a.apply(b3), branch3x3_2b.apply(b3));                         // (N, 8, 8, 768)
        SDVariable bd = branch3x3dbl_2.apply(branch3x3dbl_1.apply(x));                             // (N, 8, 8, 384)
        bd = sd.concat(3, branch3x3dbl_3a.apply(bd), branch3x3dbl_3b.apply(bd));                   // (N, 8, 8, 768)
        SDVariable pooled = pool == Pool.MAX ? Pools.max3x3Same(x) : Pools.avg3x3SameExcludePad(x); // (N, 8, 8, in)
        SDVariable bp = branchPool.apply(pooled);                                                  // (N, 8, 8, 192)
        return sd.concat(3, b1, b3, bd, bp);                                                       // (N, 8, 8, 2048)
    }
}
