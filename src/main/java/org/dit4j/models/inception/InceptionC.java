package org.dit4j.models.inception;

import org.nd4j.autodiff.samediff.SDVariable;

/** pytorch-fid's {@code FIDInceptionC} (Mixed_6b…6e): torchvision's InceptionC with a padding-excluding average pool. */
final class InceptionC {
    private final BasicConv2d branch1x1, branch7x7_1, branch7x7_2, branch7x7_3;
    private final BasicConv2d branch7x7dbl_1, branch7x7dbl_2, branch7x7dbl_3, branch7x7dbl_4, branch7x7dbl_5, branchPool;

    InceptionC(InceptionTensors t, String name, long in, long c7) {
        branch1x1 = new BasicConv2d(t, name + ".branch1x1", in, 192, 1, 1, 0);
        branch7x7_1 = new BasicConv2d(t, name + ".branch7x7_1", in, c7, 1, 1, 0);
        branch7x7_2 = new BasicConv2d(t, name + ".branch7x7_2", c7, c7, 1, 7, 1, 0, 3);
        branch7x7_3 = new BasicConv2d(t, name + ".branch7x7_3", c7, 192, 7, 1, 1, 3, 0);
        branch7x7dbl_1 = new BasicConv2d(t, name + ".branch7x7dbl_1", in, c7, 1, 1, 0);
        branch7x7dbl_2 = new BasicConv2d(t, name + ".branch7x7dbl_2", c7, c7, 7, 1, 1, 3, 0);
        branch7x7dbl_3 = new BasicConv2d(t, name + ".branch7x7dbl_3", c7, c7, 1, 7, 1, 0, 3);
        branch7x7dbl_4 = new BasicConv2d(t, name + ".branch7x7dbl_4", c7, c7, 7, 1, 1, 3, 0);
        branch7x7dbl_5 = new BasicConv2d(t, name + ".branch7x7dbl_5", c7, 192, 1, 7, 1, 0, 3);
        branchPool = new BasicConv2d(t, name + ".branch_pool", in, 192, 1, 1, 0);
    }

    /** The block's output and its {@code branch1x1} output: Mixed_6d's is TensorFlow's {@code mixed_6/conv}, ADM's sFID feature. */
    record Output(SDVariable out, SDVariable branch1x1) {}

    Output apply(SDVariable x) {                                                                   // (N, 17, 17, 768)
        SDVariable b1 = branch1x1.apply(x);                                                        // (N, 17, 17, 192)
        SDVariable b7 = branch7x7_3.apply(branch7x7_2.apply(branch7x7_1.apply(x)));                // (N, 17, 17, 192)
        SDVariable bd = branch7x7dbl_5.apply(branch7x7dbl_4.apply(branch7x7dbl_3.apply(
                branch7x7dbl_2.apply(branch7x7dbl_1.apply(x)))));                                  // (N, 17, 17, 192)
        SDVariable bp = branchPool.apply(Pools.avg3x3SameExcludePad(x));                           // (N, 17, 17, 192)
        return new Output(x.getSameDiff().concat(3, b1, b7, bd, bp), b1);                          // (N, 17, 17, 768)
    }
}
