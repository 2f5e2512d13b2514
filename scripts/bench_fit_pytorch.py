#!/usr/bin/env python3
"""The FiT work of `dit4j bench --fit-models`, in PyTorch with the official FiTv1 code: forwards and one guided step
(forward_with_cfg on cat([z, z]), as sample_fit_ddp.py) at each image size.

Usage: OMP_NUM_THREADS=2 /usr/bin/python3 scripts/bench_fit_pytorch.py --fit-repo PATH/TO/FiT [--sizes 256x256,320x160]
Prints the same tab-separated columns as `dit4j bench`, then the peak RSS. Debian's python3-torch; not part of dit4j.
"""
import argparse
import os
import resource
import statistics
import sys
import time

import torch


def timed(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms), min(ms)


XL = dict(context_size=256, patch_size=2, in_channels=4, hidden_size=1152, depth=28, num_heads=16, mlp_ratio=4.0,
          class_dropout_prob=0.1, num_classes=1000, learn_sigma=True, use_swiglu=True, use_swiglu_large=True, rel_pos_embed='rope')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit-repo", required=True)
    ap.add_argument("--sizes", default="256x256,320x160")
    ap.add_argument("--batches", default="1")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
    import fit_stand_ins
    fit_stand_ins.install(a.fit_repo)
    from fit.model.fit_model import FiT
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    model = FiT(**XL).eval()
    for p in model.parameters():
        p.normal_(0, 0.02)
    print("model\tinput\tbatch\twork\tmedian_ms\tmin_ms\trepeats\t(torch %s, %d threads)" % (torch.__version__, torch.get_num_threads()))
    p = 2
    for size in a.sizes.split(","):
        hh, ww = (int(v) // 8 // p for v in size.split("x"))
        n_tok = hh * ww

        def inputs(n):
            g = torch.meshgrid(torch.arange(ww, dtype=torch.float32), torch.arange(hh, dtype=torch.float32), indexing='xy')
            grid = torch.cat([g[0].reshape(1, -1), g[1].reshape(1, -1)], dim=0).repeat(n, 1, 1).long()
            return grid, torch.ones(n, n_tok), torch.tensor((hh, ww)).repeat(n, 1)[:, None, :]

        for b in map(int, a.batches.split(",")):
            x = torch.randn(b, p * p * 4, n_tok)
            t = torch.full((b,), 500)
            y = torch.zeros(b, dtype=torch.long)
            grid, mask, sz = inputs(b)
            med, mn = timed(lambda: model.forward(x, t, y, grid, mask, sz), a.warmup, a.repeats)
            print("FiT-XL/2\t%s\t%d\tforward\t%.1f\t%.1f\t%d" % (size, b, med, mn, a.repeats))
        z = torch.randn(1, p * p * 4, n_tok)
        zz = torch.cat([z, z])
        grid, mask, sz = inputs(2)
        y = torch.tensor([207, 1000])
        t = torch.full((2,), 500)
        med, mn = timed(lambda: model.forward_with_cfg(zz, t, y, grid, mask, sz[:1], 4.0), a.warmup, a.repeats)
        print("FiT-XL/2\t%s\t1\tguided_step\t%.1f\t%.1f\t%d" % (size, med, mn, a.repeats))
    print("# peak RSS %.0f MiB" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == "__main__":
    main()
