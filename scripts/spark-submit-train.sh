#!/usr/bin/env bash
# Trains on a Spark cluster with spark-submit: the same flags and YAML as `dit4j train`, plus the master.
#   scripts/spark-submit-train.sh spark://host:7077 --devices 8 --config configs/training/toy-pixel.yaml --out /shared/runs/toy
#   scripts/spark-submit-train.sh yarn --devices 16 --features hdfs-mounted/latents --model DiT-S/2 --out /shared/runs/s2
#   scripts/spark-submit-train.sh 'local[2]' --devices 2 --config configs/training/toy-pixel.yaml --out runs/toy-spark
# Without spark-submit on the PATH (or $SPARK_HOME), a local[N] master runs embedded through scripts/dit4j.
# Extra spark-submit options go in SPARK_SUBMIT_OPTS_EXTRA, e.g. "--executor-memory 16g --num-executors 8".
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 MASTER [dit4j train flags ...]" >&2
  exit 2
fi
master="$1"
shift
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$(ls "$root"/target/dit4j-*-all.jar 2>/dev/null | head -n1 || true)"
if [[ -z "$jar" ]]; then
  (cd "$root" && mvn -B -q -DskipTests package >&2)
  jar="$(ls "$root"/target/dit4j-*-all.jar | head -n1)"
fi
submit="${SPARK_HOME:+$SPARK_HOME/bin/}spark-submit"
if ! command -v "$submit" >/dev/null 2>&1; then
  if [[ "$master" == local* ]]; then
    exec "$root/scripts/dit4j" train --spark "$master" "$@"
  fi
  echo "spark-submit not found: install Spark 3.5 and set SPARK_HOME (or put spark-submit on the PATH)" >&2
  exit 2
fi
# Executors are JVMs of their own: they need the off-heap cap too (ND4J memory is not bounded by -Xmx).
offheap="-Dorg.bytedeco.javacpp.maxbytes=${DIT4J_MAX_OFFHEAP:-8G}"
exec "$submit" --master "$master" --class org.dit4j.cli.Dit4j \
  --conf spark.serializer=org.apache.spark.serializer.KryoSerializer \
  --conf spark.kryo.registrator=org.nd4j.kryo.Nd4jRegistrator \
  --conf "spark.driver.extraJavaOptions=$offheap" \
  --conf "spark.executor.extraJavaOptions=$offheap" \
  ${SPARK_SUBMIT_OPTS_EXTRA:-} \
  "$jar" train --spark "$master" "$@"
