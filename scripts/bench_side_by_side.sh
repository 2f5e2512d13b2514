#!/usr/bin/env bash
# The issue-7 table: PyTorch (scripts/bench_pytorch.py) and dit4j (dit4j bench) on the same work, alternating, in
# separate processes so /usr/bin/time's peak RSS belongs to one job. Prints both tools' result lines, tagged.
#   scripts/bench_side_by_side.sh /path/to/facebookresearch/DiT [rounds]
# With DPM_REPO=/path/to/LuChengTHU/dpm-solver, a guided DPM-Solver++(2M) 20-step sample of DiT-S/2 is timed too;
# with FIT_REPO=/path/to/whlzy/FiT, FiT-XL/2's forward and guided step at 256x256 and 320x160 (scripts/bench_fit_pytorch.py).
set -euo pipefail
dit_repo="${1:?usage: $0 DIT_REPO [ROUNDS]}"
rounds="${2:-2}"
here="$(cd "$(dirname "$0")" && pwd)"
export OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE DIT4J_MAX_OFFHEAP="${DIT4J_MAX_OFFHEAP:-12G}"
jobs=(
  "--models DiT-S/2 --batches 1,8 --ddim-steps 50 --repeats 3 --warmup 1"
  "--models DiT-B/2 --batches 1,8 --ddim-steps 0 --repeats 5 --warmup 2"
  "--models DiT-S/2 --batches 1 --ddim-steps 0 --train-batch 8 --repeats 3 --warmup 1"
  "--models DiT-XL/2 --batches 2 --ddim-steps 0 --repeats 3 --warmup 1"
)
[[ -n "${DPM_REPO:-}" ]] && jobs+=("--models DiT-S/2 --batches 1 --ddim-steps 0 --dpm-steps 20 --repeats 3 --warmup 1")
fit_job="--batches 1 --repeats 3 --warmup 1"
[[ -n "${FIT_REPO:-}" ]] && jobs+=("FIT")
for round in $(seq "$rounds"); do
  for job in "${jobs[@]}"; do
    for tool in pytorch dit4j; do
      if [[ $job == FIT && $tool == pytorch ]]; then cmd=(/usr/bin/python3 "$here/bench_fit_pytorch.py" --fit-repo "$FIT_REPO" --sizes 256x256,320x160 $fit_job)
      elif [[ $job == FIT ]]; then cmd=("$here/dit4j" bench --models= --ddim-steps 0 --fit-models FiT-XL/2 --fit-sizes 256x256,320x160 $fit_job)
      elif [[ $tool == pytorch ]]; then cmd=(/usr/bin/python3 "$here/bench_pytorch.py" --dit-repo "$dit_repo" ${DPM_REPO:+--dpm-repo "$DPM_REPO"} $job)
      else cmd=("$here/dit4j" bench $job); fi
      /usr/bin/time -f "rss_kb %M" -o /tmp/bench_rss.$$ "${cmd[@]}" 2>/dev/null | grep -v '^model' | sed "s/^/round$round $tool\t/"
      echo -e "round$round $tool\t# peak RSS $(awk '{print $2}' /tmp/bench_rss.$$) kB for: $job"
    done
  done
done
rm -f /tmp/bench_rss.$$
