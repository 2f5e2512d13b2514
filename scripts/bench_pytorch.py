#!/usr/bin/env python3
"""The work of `dit4j bench`, in PyTorch with the official DiT code: forward passes and a guided DDIM sample.

Usage: OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/bench_pytorch.py --dit-repo PATH/TO/DiT
           [--dpm-steps N --dpm-repo PATH/TO/dpm-solver]   (the official DPM-Solver++(2M), guided as its README's DiT example)
Prints the same tab-separated columns as `dit4j bench`. Debian's python3-torch; not part of dit4j.
"""
import argparse
import os
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


def profiled(title, fn, repeats):
    """Self CPU time per op kind over `repeats` calls, as `dit4j bench --profile` lists it (ms per call, share)."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(repeats):
            fn()
    rows = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in rows)
    print("# profile: %s (%d calls; %.1f ms per call of self time)" % (title, repeats, total / 1e3 / repeats))
    for e in rows[:15]:
        print("#   %-28s %6d calls  %9.1f ms  %5.1f %%" % (e.key, e.count // repeats, e.self_cpu_time_total / 1e3 / repeats,
                                                           100.0 * e.self_cpu_time_total / total))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dit-repo", required=True)
    ap.add_argument("--models", default="DiT-S/2,DiT-B/2")
    ap.add_argument("--input-size", type=int, default=32)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--ddim-steps", type=int, default=10)
    ap.add_argument("--dpm-steps", type=int, default=0)
    ap.add_argument("--dpm-repo", help="LuChengTHU/dpm-solver checkout (dpm_solver_pytorch.py), for --dpm-steps")
    ap.add_argument("--train-batch", type=int, default=0, help="also time a training step (loss, backward, AdamW)")
    ap.add_argument("--profile", action="store_true", help="after each forward's (and the training step's) timing, torch.profiler's time per op over the repeats")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
    import timm_stand_in
    timm_stand_in.install()
    sys.path.insert(0, a.dit_repo)
    from models import DiT_models
    from diffusion import create_diffusion
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    print("model\tinput\tbatch\twork\tmedian_ms\tmin_ms\trepeats\t(torch %s, %d threads)" % (torch.__version__, torch.get_num_threads()))
    for name in a.models.split(","):
        model = DiT_models[name](input_size=a.input_size).eval()
        for p in model.parameters():
            p.normal_(0, 0.02)
        for b in [int(x) for x in a.batches.split(",")]:
            x = torch.randn(b, 4, a.input_size, a.input_size)
            t = torch.full((b,), 500)
            y = torch.zeros(b, dtype=torch.long)
            med, mn = timed(lambda: model(x, t, y), a.warmup, a.repeats)
            print("%s\t%d\t%d\tforward\t%.1f\t%.1f\t%d" % (name, a.input_size, b, med, mn, a.repeats))
            if a.profile:
                profiled("%s forward, batch %d" % (name, b), lambda: model(x, t, y), a.repeats)
        if a.train_batch > 0:
            train_diffusion = create_diffusion("")
            opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0)
            x0 = torch.randn(a.train_batch, 4, a.input_size, a.input_size)
            tt = torch.tensor([(i * 997) % 1000 for i in range(a.train_batch)])
            yy = torch.zeros(a.train_batch, dtype=torch.long)

            def train_step():
                with torch.enable_grad():
                    model.train()
                    loss = train_diffusion.training_losses(model, x0, tt, dict(y=yy))["loss"].mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    model.eval()
            med, mn = timed(train_step, a.warmup, a.repeats)
            print("%s\t%d\t%d\ttrain_step\t%.1f\t%.1f\t%d" % (name, a.input_size, a.train_batch, med, mn, a.repeats))
            if a.profile:
                profiled("%s training step (loss, backward, AdamW), batch %d" % (name, a.train_batch), train_step, a.repeats)
        if a.ddim_steps > 0:
            diffusion = create_diffusion(str(a.ddim_steps))

            def sample():
                z = torch.randn(1, 4, a.input_size, a.input_size)
                zz = torch.cat([z, z])
                yy = torch.tensor([207, 1000])
                return diffusion.ddim_sample_loop(model.forward_with_cfg, zz.shape, zz, clip_denoised=False,
                                                  model_kwargs=dict(y=yy, cfg_scale=4.0), device="cpu")
            med, mn = timed(sample, a.warmup, a.repeats)
            print("%s\t%d\t1\tddim%d_cfg\t%.1f\t%.1f\t%d" % (name, a.input_size, a.ddim_steps, med, mn, a.repeats))
        if a.dpm_steps > 0:
            sys.path.insert(0, a.dpm_repo)
            from dpm_solver_pytorch import NoiseScheduleVP, model_wrapper, DPM_Solver
            ns = NoiseScheduleVP("discrete", betas=torch.from_numpy(create_diffusion("").betas))
            fn = model_wrapper(lambda x, t, y: model(x, t, y)[:, :4], ns, model_type="noise", model_kwargs={},
                               guidance_type="classifier-free", condition=torch.tensor([207]),
                               unconditional_condition=torch.tensor([1000]), guidance_scale=4.0)
            solver = DPM_Solver(fn, ns, algorithm_type="dpmsolver++")

            def dpm():
                z = torch.randn(1, 4, a.input_size, a.input_size)
                return solver.sample(z, steps=a.dpm_steps, order=2, skip_type="time_uniform", method="multistep")
            med, mn = timed(dpm, a.warmup, a.repeats)
            print("%s\t%d\t1\tdpmpp2m%d_cfg\t%.1f\t%.1f\t%d" % (name, a.input_size, a.dpm_steps, med, mn, a.repeats))


if __name__ == "__main__":
    main()
