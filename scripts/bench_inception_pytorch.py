#!/usr/bin/env python3
"""Times pytorch-fid's InceptionV3([3]) forward (resize + pool3, what fid_score runs per batch) on CPU, for the
side-by-side row of docs/PERFORMANCE.md. torchvision's default initialisation stands in for the 95 MB download
(speed does not depend on the values). Needs torch + torchvision and a pytorch-fid checkout.

usage: PFID_REPO=path/to/pytorch-fid bench_inception_pytorch.py [--batches 1,16] [--repeats 3] [--threads 2]"""
import argparse
import os
import sys
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    sys.path.insert(0, os.path.join(os.environ["PFID_REPO"], "src"))
    from pytorch_fid import inception

    built = {}

    def fake_load(url, progress=True):
        return built["sd"]

    # Build the FID network once with the official code, taking its own state_dict as the "download".
    tv = inception._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    tv.Mixed_5b = inception.FIDInceptionA(192, pool_features=32)
    tv.Mixed_5c = inception.FIDInceptionA(256, pool_features=64)
    tv.Mixed_5d = inception.FIDInceptionA(288, pool_features=64)
    tv.Mixed_6b = inception.FIDInceptionC(768, channels_7x7=128)
    tv.Mixed_6c = inception.FIDInceptionC(768, channels_7x7=160)
    tv.Mixed_6d = inception.FIDInceptionC(768, channels_7x7=160)
    tv.Mixed_6e = inception.FIDInceptionC(768, channels_7x7=192)
    tv.Mixed_7b = inception.FIDInceptionE_1(1280)
    tv.Mixed_7c = inception.FIDInceptionE_2(2048)
    with torch.no_grad():   # init_weights=False leaves torch.empty memory: give it small finite values
        for k, v in tv.state_dict().items():
            if v.is_floating_point():
                v.copy_(torch.ones_like(v) if k.endswith("running_var") else 0.05 * torch.randn_like(v))
    built["sd"] = tv.state_dict()
    inception.load_state_dict_from_url = fake_load
    net = inception.InceptionV3([3]).eval()
    print("model\tbatch\tmedian_ms\timages_per_s")
    for b in [int(x) for x in a.batches.split(",")]:
        x = torch.rand(b, 3, 299, 299)
        with torch.no_grad():
            net(x)
            ts = []
            for _ in range(a.repeats):
                t0 = time.perf_counter()
                net(x)
                ts.append((time.perf_counter() - t0) * 1000)
        ts.sort()
        med = ts[len(ts) // 2]
        print(f"pytorch-fid InceptionV3\t{b}\t{med:.1f}\t{b * 1000 / med:.2f}")


if __name__ == "__main__":
    main()
