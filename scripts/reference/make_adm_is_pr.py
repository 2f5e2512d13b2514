#!/usr/bin/env python3
"""Inception Score and precision/recall cases for MetricsTest, computed with the arithmetic of ADM's evaluator.py
(compute_inception_score with split_size=5000; ManifoldEstimator defaults, float32 squared distances, i.e. the
fallback branch of its DistanceBlock), numpy only. Writes probs.npy (5003, 8) float32, ref.npy (300, 16),
sample.npy (250, 16) float32 and result.json. usage: make_adm_is_pr.py OUT_DIR"""
import json
import sys

import numpy as np


def inception_score(preds, split_size=5000):          # evaluator.py, after the TF softmax
    scores = []
    for i in range(0, len(preds), split_size):
        part = preds[i : i + split_size]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        kl = np.mean(np.sum(kl, 1))
        scores.append(np.exp(kl))
    return float(np.mean(scores))


def distances(u, v):                                   # _batch_pairwise_distances in float32
    nu = np.sum(np.square(u), 1).reshape(-1, 1)
    nv = np.sum(np.square(v), 1).reshape(1, -1)
    return np.maximum(nu - 2 * np.matmul(u, v.T) + nv, np.float32(0))


def radii(x, k=3):
    d = distances(x, x)
    return np.partition(d, k, axis=1)[:, k]


def prec_recall(ref, sample):
    r1, r2 = radii(ref), radii(sample)
    d = distances(ref, sample)
    precision = np.mean(np.any(d <= r1[:, None], axis=0))
    recall = np.mean(np.any(d <= r2[None, :], axis=1))
    return float(precision), float(recall)


def main(out):
    rng = np.random.default_rng(16)
    logits = (rng.normal(size=(5003, 8)) * np.linspace(0.5, 3, 8)).astype(np.float32)
    e = np.exp(logits - logits.max(1, keepdims=True))
    probs = (e / e.sum(1, keepdims=True)).astype(np.float32)
    ref = np.maximum(0, rng.normal(size=(300, 16))).astype(np.float32)
    sample = np.maximum(0, 0.3 + 1.2 * rng.normal(size=(250, 16))).astype(np.float32)
    np.save(f"{out}/probs.npy", probs)
    np.save(f"{out}/ref.npy", ref)
    np.save(f"{out}/sample.npy", sample)
    p, r = prec_recall(ref, sample)
    json.dump({"inception_score": inception_score(probs), "inception_score_split_1000": inception_score(probs, 1000),
               "precision": p, "recall": r, "numpy": np.__version__}, open(f"{out}/result.json", "w"), indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
