#!/usr/bin/env bash
# DPM-Solver++(2M) at 10/20/25 steps against DDPM-250 and DDIM-250 from the same initial noise, on a model trained by
# the README's toy command: RMS distance of the final samples (pixels in [-1, 1]) and wall time per sampler.
#   scripts/dpm_quality.sh [RUN]   (RUN defaults to runs/toy; trained first if it has no checkpoint)
# Prints a table for docs/PERFORMANCE.md. Needs python3 with numpy for the distances (measurement only).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
run="${1:-runs/toy}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
if ! ls "$run"/checkpoints/step-* >/dev/null 2>&1; then
  scripts/dit4j train --config configs/training/toy-pixel.yaml --out "$run" >/dev/null
fi
labels=281,504,657,281,504,657,281,504
common=(sample --ckpt "$run" --labels "$labels" --seed 11 --cfg-scale 1 --no-decode --out "$out/png")
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
declare -A secs
secs[ddpm250]=$(t scripts/dit4j "${common[@]}" --sampler ddpm --steps 250 --save-latents "$out/ddpm250.npy")
secs[ddim250]=$(t scripts/dit4j "${common[@]}" --sampler ddim --steps 250 --save-latents "$out/ddim250.npy")
for n in 10 20 25; do
  secs[dpm$n]=$(t scripts/dit4j "${common[@]}" --sampler dpm-solver++ --steps "$n" --save-latents "$out/dpm$n.npy")
done
python3 - "$out" "${secs[ddpm250]}" "${secs[ddim250]}" "${secs[dpm10]}" "${secs[dpm20]}" "${secs[dpm25]}" <<'PY'
import sys, numpy as np
d = sys.argv[1]
secs = dict(zip(["ddpm250", "ddim250", "dpm10", "dpm20", "dpm25"], map(float, sys.argv[2:])))
a = {k: np.load(f"{d}/{k}.npy").astype(np.float64) for k in secs}
rms = lambda x, y: float(np.sqrt(np.mean((x - y) ** 2)))
print("| sampler | process wall time (s) | ratio to DDPM-250 | RMS to DDPM-250 | RMS to DDIM-250 |")
print("|---|---|---|---|---|")
for k in secs:
    print(f"| {k} | {secs[k]:.1f} | {secs[k] / secs['ddpm250']:.3f} | {rms(a[k], a['ddpm250']):.4f} | {rms(a[k], a['ddim250']):.4f} |")
for k in ("ddpm250", "ddim250"):
    print(f"(RMS of the {k} samples themselves: {float(np.sqrt(np.mean(a[k] ** 2))):.4f})")
PY
