#!/usr/bin/env bash
# Statistics of N images end to end, side by side: pytorch-fid's command line (scripts/bench_fid_pytorch.py) and
# `dit4j evaluate --save-stats --preprocess pytorch-fid`, on the same PNGs and the same Inception weights, alternating,
# each in its own process under /usr/bin/time (wall, peak RSS), then the FID between the two results (≈ 0: same network).
#   scripts/bench_fid_process.sh PFID_REPO N [rounds] [WEIGHTS.pt]
# Without WEIGHTS.pt, the deterministic fixture weights are built with ../shared/fixtures/eval/make_inception_pt.py.
set -euo pipefail
pfid="${1:?usage: $0 PFID_REPO N [ROUNDS] [WEIGHTS.pt]}"; n="${2:?N}"; rounds="${3:-1}"
here="$(cd "$(dirname "$0")" && pwd)"; work="${BENCH_DIR:-/tmp/bench_fid}"; mkdir -p "$work"
weights="${4:-$work/inception.pt}"
fixtures="$here/../../shared/fixtures/eval"
[[ -f "$weights" ]] || /usr/bin/python3 "$fixtures/make_inception_pt.py" "$fixtures/inception/config.json" "$weights"
images="$work/images_$n"
[[ -d "$images" ]] || /usr/bin/python3 "$here/bench_fid_pytorch.py" --make-images "$n" --images "$images"
export OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE
for round in $(seq "$rounds"); do
  for tool in pytorch-fid dit4j; do
    if [[ $tool == pytorch-fid ]]; then
      out="$work/pfid.npz"
      cmd=(/usr/bin/python3 "$here/bench_fid_pytorch.py" --pfid-repo "$pfid" --weights "$weights" --images "$images" --out "$out")
    else
      out="$work/dit4j.npz"
      cmd=("$here/dit4j" evaluate --samples "$images" --save-stats "$out" --preprocess pytorch-fid --inception "$weights")
    fi
    rm -f "$out"   # pytorch-fid refuses to overwrite its output
    /usr/bin/time -f "wall_s %e rss_kb %M" -o "$work/time" "${cmd[@]}" > "$work/out" 2>&1 || { cat "$work/out"; exit 1; }
    grep -h '^pytorch-fid' "$work/out" | sed "s/^/round$round inside the process: /" || true
    echo -e "round$round $tool\timages $n\t$(cat "$work/time")\timages_per_s_whole_process $(awk -v n="$n" '{printf "%.2f", n / $2}' "$work/time")"
  done
done
/usr/bin/python3 "$here/bench_fid_pytorch.py" --pfid-repo "$pfid" --compare "$work/pfid.npz" "$work/dit4j.npz"
