#!/usr/bin/env python3
"""Runs pytorch-fid's own command line (`python -m pytorch_fid --save-stats DIR OUT.npz`) end to end on CPU, with
its weight download answered from a local file (e.g. the fixture weights of fixtures/eval/make_inception_pt.py), so
that `dit4j evaluate --save-stats` can be timed beside it on the same images and the same weights. Also makes the
test images: random 256x256 crops of the toy photographs, as PNGs.

usage: bench_fid_pytorch.py --pfid-repo DIR --weights W.pt --images DIR --out OUT.npz [-- pytorch-fid flags]
       bench_fid_pytorch.py --make-images N --images DIR [--seed 0]
       bench_fid_pytorch.py --compare A.npz B.npz          (FID between two statistics files, pytorch-fid's formula)"""
import argparse
import glob
import os
import sys
import time


def make_images(n, out, seed):
    import numpy as np
    from PIL import Image
    here = os.path.dirname(os.path.abspath(__file__))
    photos = [Image.open(p).convert("RGB")
              for p in sorted(glob.glob(os.path.join(here, "..", "datasets", "toy", "train", "*", "*.*")))
              if not p.endswith(".json")]
    rng = np.random.default_rng(seed)
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        im = photos[i % len(photos)]
        side = int(rng.integers(160, min(im.size) + 1))
        x, y = int(rng.integers(0, im.size[0] - side + 1)), int(rng.integers(0, im.size[1] - side + 1))
        im.crop((x, y, x + side, y + side)).resize((256, 256), Image.BICUBIC).save(os.path.join(out, "%06d.png" % i))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pfid-repo")
    ap.add_argument("--weights")
    ap.add_argument("--images")
    ap.add_argument("--out")
    ap.add_argument("--make-images", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compare", nargs=2)
    a, rest = ap.parse_known_args()
    if a.make_images:
        return make_images(a.make_images, a.images, a.seed)
    sys.path.insert(0, os.path.join(a.pfid_repo, "src"))
    if a.compare:
        import numpy as np
        from pytorch_fid.fid_score import calculate_frechet_distance
        s = [np.load(p) for p in a.compare]
        print("fid_between\t%.6g\tmax_abs_mu_diff\t%.3g\tmax_abs_sigma_diff\t%.3g" % (
            calculate_frechet_distance(s[0]["mu"], s[0]["sigma"], s[1]["mu"], s[1]["sigma"]),
            np.abs(s[0]["mu"] - s[1]["mu"]).max(), np.abs(s[0]["sigma"] - s[1]["sigma"]).max()))
        return
    import torch
    from pytorch_fid import fid_score, inception
    inception.load_state_dict_from_url = lambda url, progress=True: torch.load(a.weights)
    n = len([f for f in os.listdir(a.images) if f.endswith(".png")])
    sys.argv = ["pytorch_fid", "--device", "cpu", *rest, "--save-stats", a.images, a.out]
    start = time.perf_counter()
    fid_score.main()
    took = time.perf_counter() - start
    print("pytorch-fid\timages %d\tseconds %.1f\timages_per_s %.2f" % (n, took, n / took))


if __name__ == "__main__":
    main()
