#!/usr/bin/env python3
"""A rank-deficient FID case (N < D) for FrechetDistanceTest: features x1 (100, 256), x2 (120, 256) float32 and the
Frechet distance as pytorch-fid's calculate_frechet_distance computes it from np.mean / np.cov of their float64 copies
(scipy.linalg.sqrtm, its retry on a non-finite result, .real). Needs numpy + scipy (Debian 12: scipy 1.10.1; scipy >= 1.14
reimplemented sqrtm). usage: make_fid_rank_deficient.py OUT_DIR"""
import json
import sys

import numpy as np
import scipy
from scipy import linalg


def frechet(mu1, sigma1, mu2, sigma2, eps=1e-6):
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    finite = bool(np.isfinite(covmean).all())
    if not finite:
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    imag = float(np.max(np.abs(covmean.imag))) if np.iscomplexobj(covmean) else 0.0
    covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)), finite, imag


def main(out):
    rng = np.random.default_rng(0)

    def feats(n, d, shift):
        m = rng.normal(size=(d, d)) / np.sqrt(d)
        return np.maximum(0, shift + rng.normal(size=(n, d)) @ m + 0.3 * rng.normal(size=(n, d))).astype(np.float32)

    x1, x2 = feats(100, 256, 0.0), feats(120, 256, 0.2)
    np.save(f"{out}/x1.npy", x1)
    np.save(f"{out}/x2.npy", x2)
    stats = [(np.mean(x.astype(np.float64), 0), np.cov(x.astype(np.float64), rowvar=False)) for x in (x1, x2)]
    fid, finite, imag = frechet(*stats[0], *stats[1])
    json.dump({"fid": fid, "sqrtm_finite": finite, "sqrtm_max_abs_imag": imag, "scipy": scipy.__version__,
               "numpy": np.__version__}, open(f"{out}/result.json", "w"), indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
