#!/usr/bin/env bash
# Issue 17's whole-process target: one `dit4j sample` process against one PyTorch process (scripts/bench_sample_pytorch.py,
# the official DiT code) doing the same job — DiT-S/2 from the same .pt file, 2 labels, guidance 4, 10 DDIM steps, latents
# only — each under /usr/bin/time -v (wall, peak RSS), alternating, ROUNDS rounds; dit4j both with its class-data-sharing
# archive and with DIT4J_CDS=0. Each run's --timings phase lines are printed, tagged; then the median walls and ratios.
#   scripts/bench_sample_process.sh /path/to/facebookresearch/DiT [ROUNDS] [WORK_DIR]
# The checkpoint (a random-weight DiT-S/2 state dict) is written once into WORK_DIR (default /tmp/dit4j-bench-sample) by
# PyTorch; one untimed run of each tool first fills the page cache, JavaCPP's cache and dit4j's archive. STEPS=1 makes it
# a start-up comparison (default 10).
set -euo pipefail
dit_repo="${1:?usage: $0 DIT_REPO [ROUNDS] [WORK_DIR]}"
rounds="${2:-3}"
work="${3:-/tmp/dit4j-bench-sample}"
here="$(cd "$(dirname "$0")" && pwd)"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" OMP_WAIT_POLICY=PASSIVE
mkdir -p "$work"
ckpt="$work/dit-s2.pt"
[[ -f "$ckpt" ]] || /usr/bin/python3 "$here/bench_sample_pytorch.py" --dit-repo "$dit_repo" --write-checkpoint "$ckpt" >&2
job=(--labels 207,360 --cfg-scale 4 --steps "${STEPS:-10}")

run() {   # run TAG CMD...: one process under time -v; prints its phase lines, wall and peak RSS, tagged
  local tag="$1"; shift
  local log="$work/$tag.time" err="$work/$tag.err"
  /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$err" || { echo "$tag failed:" >&2; cat "$err" >&2; exit 1; }
  grep '^timings: ' "$err" | sed "s/^/$tag\t/"
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  echo -e "$tag\twall_s $wall\tpeak_rss_kb $rss"
  echo "$wall" >> "$work/${tag%%@*}.walls"
}
pytorch() { run "$1" /usr/bin/python3 "$here/bench_sample_pytorch.py" --dit-repo "$dit_repo" --ckpt "$ckpt" "${job[@]}" --out "$work/pytorch.npy" --timings; }
dit4j() { run "$1" "$here/dit4j" sample --ckpt "$ckpt" --model DiT-S/2 --image-size 256 "${job[@]}" --sampler ddim --no-decode \
  --save-latents "$work/dit4j.npy" --out "$work/out" --timings; }

rm -f "$work"/*.walls
pytorch warmup-pytorch >/dev/null
dit4j warmup-dit4j >/dev/null   # makes the archive if the jar is newer than it
rm -f "$work"/*.walls
for round in $(seq "$rounds"); do
  # the order inside a round rotates, so no tool always follows the same one
  order=(pytorch dit4j dit4j-nocds)
  (( round % 3 == 2 )) && order=(dit4j-nocds pytorch dit4j)
  (( round % 3 == 0 )) && order=(dit4j dit4j-nocds pytorch)
  for tool in "${order[@]}"; do
    case $tool in
      pytorch) pytorch "pytorch@$round" ;;
      dit4j) DIT4J_CDS=1 dit4j "dit4j@$round" ;;
      dit4j-nocds) DIT4J_CDS=0 dit4j "dit4j-nocds@$round" ;;
    esac
  done
done
median() { sort -g "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
p=$(median "$work/pytorch.walls") d=$(median "$work/dit4j.walls") n=$(median "$work/dit4j-nocds.walls")
echo -e "median wall over $rounds rounds (load average now: $(cut -d' ' -f1-3 /proc/loadavg)):"
echo -e "  pytorch $p s\tdit4j $d s\tdit4j without CDS $n s"
awk -v p="$p" -v d="$d" -v n="$n" 'BEGIN {printf "  ratios of the medians: dit4j / pytorch %.2f\tdit4j without CDS / pytorch %.2f\tCDS / no CDS %.2f\n", d / p, n / p, d / n}'
# per round (the three ran back to back), then the median of those ratios
paste "$work/pytorch.walls" "$work/dit4j.walls" "$work/dit4j-nocds.walls" | awk '{print $2 / $1, $3 / $1, $2 / $3}' > "$work/ratios"
for c in 1 2 3; do cut -d' ' -f$c "$work/ratios" > "$work/ratio$c"; done
echo -e "  median per-round ratios: dit4j / pytorch $(median "$work/ratio1")\tdit4j without CDS / pytorch $(median "$work/ratio2")\tCDS / no CDS $(median "$work/ratio3")"
