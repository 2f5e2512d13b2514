#!/usr/bin/env python3
"""Reference outputs of the official DiT code for architectures the shared fixtures do not cover.

Usage: python3 scripts/reference/make_reference.py --dit-repo PATH/TO/facebookresearch/DiT --out src/test/resources/reference

Weights come from `det_weights` (splitmix64 over name-seeded counters), which dit4j's tests reproduce in Java
(org.dit4j.DeterministicWeights), so only inputs and outputs are stored. Needs Debian's python3-torch; never used
by dit4j at run time.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

MASK = (1 << 64) - 1
GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def uniform(seed, name, n):
    """n values in [0, 1): the top 24 bits of splitmix64(state + (i+1)*golden), state = seed ^ fnv1a64(name)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed ^ fnv1a64(name)) + (np.arange(1, n + 1, dtype=np.uint64) * GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) * 2.0 ** -24


def det_tensor(seed, name, shape, a):
    u = uniform(seed, name, int(np.prod(shape)))
    return torch.from_numpy(((2.0 * u - 1.0) * a).astype(np.float32).reshape(shape))


def det_weights(model, seed):
    for name, p in model.state_dict().items():
        if name == "pos_embed":
            continue  # the official fixed sin-cos table
        a = 0.8 if name.endswith("embedding_table.weight") else 0.1 if p.dim() == 1 else (3.0 / np.prod(p.shape[1:])) ** 0.5
        p.copy_(det_tensor(seed, name, tuple(p.shape), a))


def save(out, name, arr):
    np.save(os.path.join(out, name), np.ascontiguousarray(arr.detach().numpy() if torch.is_tensor(arr) else arr))


CASES = {
    # patch 4, no learned sigma (fixed-large variance), odd widths: a shape no fixture has.
    "p4-fixed-sigma": dict(kwargs=dict(input_size=16, patch_size=4, in_channels=4, hidden_size=96, depth=3, num_heads=6,
                                       mlp_ratio=2.5, class_dropout_prob=0.1, num_classes=7, learn_sigma=False),
                           seed=20261122, t=[999, 400, 3, 0], y=[0, 6, 3, 7], cfg=2.5, ddpm_steps="10"),
    # full-size DiT-S/2 at 256x256 (32x32 latents), 1000 classes.
    "DiT-S-2": dict(kwargs=dict(input_size=32, patch_size=2, in_channels=4, hidden_size=384, depth=12, num_heads=6,
                                mlp_ratio=4.0, class_dropout_prob=0.1, num_classes=1000, learn_sigma=True),
                    seed=7, t=[999, 123], y=[207, 1000], cfg=None, ddpm_steps=None),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dit-repo", required=True, help="checkout of facebookresearch/DiT (models.py, diffusion/)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import timm_stand_in
    timm_stand_in.install()
    sys.path.insert(0, args.dit_repo)
    from models import DiT
    from diffusion import create_diffusion
    import diffusion.gaussian_diffusion as gd
    torch.set_grad_enabled(False)

    for case, c in CASES.items():
        out = os.path.join(args.out, case)
        os.makedirs(out, exist_ok=True)
        model = DiT(**c["kwargs"]).eval()
        det_weights(model, c["seed"])
        shape = (len(c["t"]), c["kwargs"]["in_channels"], c["kwargs"]["input_size"], c["kwargs"]["input_size"])
        x = det_tensor(c["seed"], "input.x", shape, 2.0)
        t, y = torch.tensor(c["t"]), torch.tensor(c["y"])
        save(out, "x.npy", x)
        save(out, "t.npy", t.numpy().astype(np.int64))
        save(out, "y.npy", y.numpy().astype(np.int64))
        save(out, "forward_out.npy", model(x, t, y))
        if c["ddpm_steps"]:
            # Guided DDPM with recorded per-step noise, as sample.py builds the batch.
            n = len(c["y"])
            z = det_tensor(c["seed"], "input.z", (n,) + shape[1:], 1.5)
            zz = torch.cat([z, z])
            yy = torch.cat([y, torch.full((n,), c["kwargs"]["num_classes"])])
            steps = int(c["ddpm_steps"])
            noise = [det_tensor(c["seed"], "input.step_noise.%d" % i, tuple(zz.shape), 1.7) for i in range(steps)]
            pending = list(noise)
            real_randn_like = gd.th.randn_like
            gd.th.randn_like = lambda ref: pending.pop(0)
            try:
                diff = create_diffusion(c["ddpm_steps"], learn_sigma=c["kwargs"]["learn_sigma"])
                final = diff.p_sample_loop(model.forward_with_cfg, zz.shape, zz, clip_denoised=False,
                                           model_kwargs=dict(y=yy, cfg_scale=c["cfg"]), device="cpu")
            finally:
                gd.th.randn_like = real_randn_like
            save(out, "ddpm_z.npy", z)
            save(out, "ddpm_step_noise.npy", torch.stack(noise))
            save(out, "ddpm_y.npy", yy.numpy().astype(np.int64))
            save(out, "ddpm_final.npy", final)
        with open(os.path.join(out, "case.json"), "w") as f:
            json.dump({k: v for k, v in c.items()}, f, indent=1)
        print("wrote", out)


if __name__ == "__main__":
    main()
