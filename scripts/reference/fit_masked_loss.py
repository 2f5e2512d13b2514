#!/usr/bin/env python3
"""FiT's masked training loss on the fixture batch, with the official code, for FiTMaskedLossTest's constants.

Usage: /usr/bin/python3 scripts/reference/fit_masked_loss.py --fit-repo PATH/TO/whlzy-FiT --fixtures ../shared/fixtures/fit
Runs the unmodified fit/scheduler/improved_diffusion (create_diffusion with config_fit_xl.yaml's improved_diffusion) on
x.npy, training/{t,noise}.npy and mask.npy, with a "model" that returns a fixed output: noclamp/forward_out.npy (0 at
padding, as FiT's own output) and the same plus 0.1 everywhere (not 0 at padding). Prints mse, vb and loss per sample and
the gradient of loss.mean() with respect to that output (its sum of squares, and the value at three positions).
Debian's python3-torch; not part of dit4j.
"""
import argparse
import sys

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit-repo", required=True)
    ap.add_argument("--fixtures", required=True)
    a = ap.parse_args()
    sys.path.insert(0, a.fit_repo + "/fit/scheduler")
    from improved_diffusion import create_diffusion
    d = create_diffusion(timestep_respacing="", noise_schedule="linear", use_kl=False, sigma_small=False,
                         predict_xstart=False, learn_sigma=True, rescale_learned_sigmas=False, diffusion_steps=1000)
    f = a.fixtures
    x = torch.from_numpy(np.load(f + "/x.npy"))
    t = torch.from_numpy(np.load(f + "/training/t.npy"))
    noise = torch.from_numpy(np.load(f + "/training/noise.npy"))
    mask = torch.from_numpy(np.load(f + "/mask.npy"))
    base = torch.from_numpy(np.load(f + "/noclamp/forward_out.npy"))
    for name, out in (("zero-at-padding", base), ("plus-0.1", base + 0.1)):
        out = out.clone().requires_grad_(True)
        terms = d.training_losses(lambda x_t, t, **kw: out, x, t, model_kwargs=dict(mask=mask), noise=noise)
        terms["loss"].mean().backward()
        g = out.grad
        print(name)
        for k in ("mse", "vb", "loss"):
            print(f"  {k} = {terms[k].tolist()!r}")
        print(f"  grad_sumsq = {float((g.double() ** 2).sum())!r}")
        print(f"  grad[0,0,0] = {float(g[0, 0, 0])!r}, grad[0,0,40] = {float(g[0, 0, 40])!r}, grad[2,20,10] = {float(g[2, 20, 10])!r}")


if __name__ == "__main__":
    main()
