#!/usr/bin/env python3
"""FID cases where scipy's sqrtm(sigma1 @ sigma2) comes back non-finite, so the official functions (pytorch-fid's
calculate_frechet_distance, ADM's frechet_distance) retry with 1e-6*I on both covariances: 3 samples in 16 dimensions,
feature 0 constant in set 1 and feature 1 constant in set 2 (plus a case without the retry, for contrast).
Writes {name}_a.npz / {name}_b.npz (mu, sigma float64) and result.json. Needs numpy + scipy 1.10 (Debian 12).
usage: make_fid_retry.py OUT_DIR"""
import json
import sys

import numpy as np
from scipy import linalg


def frechet(mu1, sigma1, mu2, sigma2, eps=1e-6):
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    finite = bool(np.isfinite(covmean).all())
    if not finite:
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)), finite


def main(out):
    rng = np.random.default_rng(1)
    result = {}
    for name, n, d, constant in (("retry_n3_d16", 3, 16, True), ("plain_n3_d16", 3, 16, False)):
        x1, x2 = rng.normal(size=(n, d)), rng.normal(size=(n, d))
        if constant:
            x1[:, 0] = 0
            x2[:, 1] = 0
        s = [(x.mean(0), np.cov(x, rowvar=False)) for x in (x1, x2)]
        np.savez(f"{out}/{name}_a.npz", mu=s[0][0], sigma=s[0][1])
        np.savez(f"{out}/{name}_b.npz", mu=s[1][0], sigma=s[1][1])
        fid, finite = frechet(*s[0], *s[1])
        result[name] = {"fid": fid, "sqrtm_finite": finite}
    json.dump(result, open(f"{out}/result.json", "w"), indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
