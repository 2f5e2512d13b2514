#!/usr/bin/env python3
"""The job of `dit4j sample ... --no-decode --save-latents`, as the official DiT sample.py does it: one whole process.

Usage: OMP_NUM_THREADS=2 /usr/bin/python3 scripts/bench_sample_pytorch.py --dit-repo PATH/TO/DiT --ckpt dit-s2.pt \\
           --labels 207,360 --cfg-scale 4 --steps 10 --out latents.npy [--timings]
       /usr/bin/python3 scripts/bench_sample_pytorch.py --dit-repo PATH/TO/DiT --write-checkpoint dit-s2.pt
           (a random-weight DiT-S/2 state dict for 256x256 images, torch.save'd, for both tools to read)
sample.py's steps without its VAE: DiT_models[...] + load_state_dict of torch.load (find_model's), create_diffusion(str(steps)),
z duplicated with the null class 1000, forward_with_cfg through the DDIM loop, the conditional half kept. It imports
neither torchvision nor diffusers (sample.py does): a lower bound on sample.py's start-up. With --timings, one line per
phase on stderr, like `dit4j sample --timings`. Debian's python3-torch; not part of dit4j.
"""
import time

T_SCRIPT = time.time()
import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


def process_start():
    """The epoch second this process started (Linux: /proc/self/stat's starttime, in clock ticks since boot)."""
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return time.time() - uptime + start_ticks / os.sysconf("SC_CLK_TCK")


class Phases:
    def __init__(self, on):
        self.on, self.start = on, process_start()
        self.last = self.start

    def mark(self, phase, now=None):
        now = time.time() if now is None else now
        if self.on:
            print("timings: %-44s %8d ms" % (phase, round((now - self.last) * 1e3)), file=sys.stderr)
        self.last = now

    def total(self):
        if self.on:
            print("timings: %-44s %8d ms" % ("total since process start", round((time.time() - self.start) * 1e3)), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dit-repo", required=True)
    ap.add_argument("--model", default="DiT-S/2")
    ap.add_argument("--image-size", type=int, default=256)
    ap.add_argument("--write-checkpoint", help="write a random-weight model's state dict here and stop")
    ap.add_argument("--ckpt")
    ap.add_argument("--labels", default="207,360")
    ap.add_argument("--cfg-scale", type=float, default=4.0)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--timings", action="store_true")
    a = ap.parse_args()
    phases = Phases(a.timings)
    phases.mark("process start to script", T_SCRIPT)
    import numpy as np
    import torch
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
    import timm_stand_in  # models.py's three timm layers, as in scripts/bench_pytorch.py
    timm_stand_in.install()
    sys.path.insert(0, a.dit_repo)
    from models import DiT_models
    from diffusion import create_diffusion
    phases.mark("imports (torch, numpy, DiT code)")

    torch.set_grad_enabled(False)
    torch.manual_seed(a.seed)
    latent_size = a.image_size // 8
    if a.write_checkpoint:
        model = DiT_models[a.model](input_size=latent_size)
        for p in model.parameters():
            if p.requires_grad:   # pos_embed stays the fixed sin-cos table
                p.normal_(0, 0.02)
        torch.save(model.state_dict(), a.write_checkpoint)
        print("wrote a random-weight %s state dict to %s" % (a.model, a.write_checkpoint))
        return
    if not a.ckpt or not a.out:
        ap.error("--ckpt and --out are needed to sample")

    state_dict = torch.load(a.ckpt, map_location=lambda storage, loc: storage)   # download.find_model
    if "ema" in state_dict:
        state_dict = state_dict["ema"]
    phases.mark("weight reading")
    model = DiT_models[a.model](input_size=latent_size, num_classes=1000)
    model.load_state_dict(state_dict)
    model.eval()
    diffusion = create_diffusion(str(a.steps))
    phases.mark("model building")

    class_labels = [int(s) for s in a.labels.split(",")]
    n = len(class_labels)
    z = torch.randn(n, 4, latent_size, latent_size)
    y = torch.tensor(class_labels)
    z = torch.cat([z, z], 0)
    y_null = torch.tensor([1000] * n)
    y = torch.cat([y, y_null], 0)
    model_kwargs = dict(y=y, cfg_scale=a.cfg_scale)
    samples = None
    for i, out in enumerate(diffusion.ddim_sample_loop_progressive(
            model.forward_with_cfg, z.shape, z, clip_denoised=False, model_kwargs=model_kwargs, device="cpu")):
        samples = out["sample"]
        if i == 0:
            phases.mark("first sampling step")
    phases.mark("other sampling steps (%d)" % (a.steps - 1))
    samples, _ = samples.chunk(2, dim=0)
    np.save(a.out, samples.numpy())
    print("wrote latents %s to %s" % (list(samples.shape), a.out))
    phases.mark("writing latents")
    phases.total()


if __name__ == "__main__":
    main()
