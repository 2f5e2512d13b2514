#!/usr/bin/env bash
# Round time and loopback bytes per training round on scripts/spark-local-cluster.sh, for 1..N workers (docs/PERFORMANCE.md).
#   scripts/bench_spark_cluster.sh MODEL_YAML FEATURES STEPS "1 2 3" [extra dit4j train flags]
# BENCH_PER_WORKER examples per worker and round (default 2); DIT4J_WORKER_MEMORY and DIT4J_JAVA_OPTS=-Dspark.executor.memory=... for big models.
# Per round: the time Spark's round line reports, and the bytes the driver JVM wrote and read between consecutive round
# lines (/proc/PID/io wchar and rchar: its sockets to the executors, plus the little file I/O of log.csv; the one
# checkpoint is written after the last round).
# Round 1 (jar shipping, graph building) is left out of the means.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="$1" features="$2" steps="$3" counts="$4"
shift 4
export DIT4J_SPARK_CLUSTER_DIR="${DIT4J_SPARK_CLUSTER_DIR:-$root/target/bench-spark-cluster}"
io_bytes() { awk '/^wchar/ {w = $2} /^rchar/ {r = $2} END {print w, r}' "/proc/$1/io" 2>/dev/null || echo "0 0"; }
for w in $counts; do
  url="$("$root/scripts/spark-local-cluster.sh" start "$w")"
  out="$(mktemp -d)"
  batch=$((${BENCH_PER_WORKER:-2} * w))
  "$root/scripts/dit4j" train --spark "$url" --devices "$w" --model-config "$model" --features "$features" --out "$out/run" \
    --max-steps "$steps" --ckpt-every "$steps" --log-every 1 --batch-size "$batch" "$@" > "$out/stdout" 2> "$out/stderr" &
  pid=$!
  seen=0
  : > "$out/bytes"
  while kill -0 "$pid" 2>/dev/null; do
    n="$(grep -c '^spark round ' "$out/stderr" || true)"
    if (( n > seen )); then echo "$n $(io_bytes "$pid")" >> "$out/bytes"; seen=$n; fi
    sleep 0.05
  done
  wait "$pid" || { echo "workers $w: the run failed, see $out/stderr" >&2; "$root/scripts/spark-local-cluster.sh" stop; exit 1; }
  ms="$(grep -o '^spark round [0-9]*: .*, [0-9]* ms' "$out/stderr" | awk -F', ' 'NR > 1 {sub(/ ms/, "", $NF); s += $NF; n++} END {printf "%.0f", s / n}')"
  bytes="$(awk 'NR > 1 {w += $2 - pw; r += $3 - pr; n += $1 - pn} {pn = $1; pw = $2; pr = $3} END {printf "%.2f MiB sent, %.2f MiB received", w / n / 1048576, r / n / 1048576}' "$out/bytes")"
  echo "workers $w, batch $batch (${BENCH_PER_WORKER:-2} per worker): mean round ${ms} ms; driver per round: ${bytes} (rounds 2-$steps)"
  "$root/scripts/spark-local-cluster.sh" stop
  rm -rf "$out"
done
