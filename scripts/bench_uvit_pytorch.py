#!/usr/bin/env python3
"""The U-ViT work of `dit4j bench --uvit-models`, in PyTorch with the official code (baofff/U-ViT `libs/uvit.py`,
`libs/uvit_t2i.py`): forwards, one guided step as the eval scripts take it (`cfg_nnet`: a conditional and an
unconditional pass over the same x, `cond + s·(cond − uncond)`, batch 1) and a training step (the `LSimple` ε-MSE,
backward, AdamW with the config's betas and weight decay).

Usage: OMP_NUM_THREADS=2 /usr/bin/python3 scripts/bench_uvit_pytorch.py --uvit-repo PATH/TO/U-ViT \
           --models imagenet256_uvit_huge [--batches 1] [--train-batch 8]
The architecture comes from dit4j's configs/models/<name>.yaml (the official constructor keys). Prints the same
tab-separated columns as `dit4j bench`, then the peak RSS. Run one model per process to read its peak memory.
Debian's python3-torch (1.13: no scaled_dot_product_attention, so the official code takes its 'math' attention);
not part of dit4j.
"""
import argparse
import os
import resource
import statistics
import sys
import time

import torch
import yaml


def timed(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms), min(ms)


# keys of dit4j's model YAMLs that are training or sampling settings, not UViT(...) arguments
NOT_ARGUMENTS = {"family", "name", "schedule", "p_uncond", "scale_factor", "sample"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvit-repo", required=True, help="a checkout of baofff/U-ViT")
    ap.add_argument("--models", default="imagenet256_uvit_huge")
    ap.add_argument("--batches", default="1")
    ap.add_argument("--train-batch", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    sys.path.insert(0, a.uvit_repo)
    configs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "models")
    print("model\tinput\tbatch\twork\tmedian_ms\tmin_ms\trepeats\t(torch %s, %d threads)" % (torch.__version__, torch.get_num_threads()))
    for name in a.models.split(","):
        with open(os.path.join(configs, name + ".yaml")) as f:
            cfg = yaml.safe_load(f)
        t2i = cfg["family"] == "uvit-t2i"
        kwargs = {k: v for k, v in cfg.items() if k not in NOT_ARGUMENTS}
        # gradient checkpointing trades time for memory; dit4j has none, so both sides run without it
        kwargs["use_checkpoint"] = False
        if t2i:
            from libs.uvit_t2i import UViT
        else:
            from libs.uvit import UViT
        torch.manual_seed(0)
        nnet = UViT(**kwargs)
        scale = cfg.get("sample", {}).get("scale", 0.0)
        size, chans = cfg["img_size"], cfg.get("in_chans", 3)

        def cond(n, null=False):
            if t2i:
                return dict(context=torch.randn(n, cfg.get("num_clip_token", 77), cfg.get("clip_dim", 768)))
            if cfg.get("num_classes", -1) > 0:
                return dict(y=torch.full((n,), cfg["num_classes"] - 1 if null else 0, dtype=torch.long))
            return {}

        nnet.eval()
        with torch.no_grad():
            for b in map(int, a.batches.split(",")):
                x, t, c = torch.randn(b, chans, size, size), torch.full((b,), 500.0), cond(b)
                med, mn = timed(lambda: nnet(x, t, **c), a.warmup, a.repeats)
                print("%s\t%d\t%d\tforward\t%.1f\t%.1f\t%d" % (name, size, b, med, mn, a.repeats))
            if t2i or cfg.get("p_uncond", 0) > 0:
                z, t = torch.randn(1, chans, size, size), torch.full((1,), 500.0)
                c, u = cond(1), cond(1, null=True)

                def cfg_nnet():
                    _cond = nnet(z, t, **c)
                    _uncond = nnet(z, t, **u)
                    return _cond + scale * (_cond - _uncond)

                med, mn = timed(cfg_nnet, a.warmup, a.repeats)
                print("%s\t%d\t1\tguided_step\t%.1f\t%.1f\t%d" % (name, size, med, mn, a.repeats))
        if a.train_batch > 0:
            nnet.train()
            opt = torch.optim.AdamW(nnet.parameters(), lr=2e-4, weight_decay=0.03, betas=(0.99, 0.999))
            b = a.train_batch
            x0, c = torch.randn(b, chans, size, size), cond(b)
            n = torch.randint(1, 1001, (b,))
            alphas_cumprod = torch.cumprod(1 - torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2, 0)

            def step():
                eps = torch.randn_like(x0)
                a_n = alphas_cumprod[n - 1].float().view(-1, 1, 1, 1)
                xn = a_n.sqrt() * x0 + (1 - a_n).sqrt() * eps
                loss = (eps - nnet(xn, n, **c)).pow(2).flatten(1).mean(1).mean()   # LSimple: mos, then the batch mean
                opt.zero_grad()
                loss.backward()
                opt.step()

            med, mn = timed(step, a.warmup, a.repeats)
            print("%s\t%d\t%d\ttrain_step\t%.1f\t%.1f\t%d" % (name, size, b, med, mn, a.repeats))
    print("# peak RSS %.0f MiB" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == "__main__":
    main()
