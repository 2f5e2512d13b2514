#!/usr/bin/env bash
# Trains on a Spark cluster with spark-submit: the same flags and YAML as `dit4j train`, plus the master.
#   scripts/spark-submit-train.sh spark://host:7077 --devices 8 --config configs/training/toy-pixel.yaml --out /shared/runs/toy
#   scripts/spark-submit-train.sh yarn --devices 16 --features hdfs-mounted/latents --model DiT-S/2 --out /shared/runs/s2
#   scripts/spark-submit-train.sh 'local[2]' --devices 2 --config configs/training/toy-pixel.yaml --out runs/toy-spark
# Without spark-submit on the PATH (or $SPARK_HOME), a local[N] master runs embedded through scripts/dit4j, and any
# other master through spark-submit's class from the Spark jars Maven resolves (scripts/spark-local-cluster.sh classpath).
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
# Executors are JVMs of their own: they need the off-heap cap too (ND4J memory is not bounded by -Xmx).
offheap="-Dorg.bytedeco.javacpp.maxbytes=${DIT4J_MAX_OFFHEAP:-8G}"
conf=(--master "$master" --class org.dit4j.cli.Dit4j
  --conf spark.serializer=org.apache.spark.serializer.KryoSerializer
  --conf spark.kryo.registrator=org.nd4j.kryo.Nd4jRegistrator
  --conf "spark.driver.extraJavaOptions=$offheap"
  --conf "spark.executor.extraJavaOptions=$offheap")
submit="${SPARK_HOME:+$SPARK_HOME/bin/}spark-submit"
if command -v "$submit" >/dev/null 2>&1; then
  exec "$submit" "${conf[@]}" ${SPARK_SUBMIT_OPTS_EXTRA:-} "$jar" train --spark "$master" "$@"
fi
if [[ "$master" == local* ]]; then
  exec "$root/scripts/dit4j" train --spark "$master" "$@"
fi
# No Spark installation: run spark-submit's own class (org.apache.spark.deploy.SparkSubmit, client mode) from the
# Spark jars Maven resolves, with the JDK 17 module openings bin/spark-submit would add.
echo "spark-submit-train: no spark-submit on the PATH or in \$SPARK_HOME; running org.apache.spark.deploy.SparkSubmit from Maven's Spark jars" >&2
cp="$("$root/scripts/spark-local-cluster.sh" classpath)"
opens=(-XX:+IgnoreUnrecognizedVMOptions -Djdk.reflect.useDirectMethodHandle=false
  --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED)
for m in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  opens+=(--add-opens=java.base/$m=ALL-UNNAMED)
done
exec java ${DIT4J_JAVA_OPTS:-} "$offheap" "${opens[@]}" -cp "$cp" org.apache.spark.deploy.SparkSubmit \
  "${conf[@]}" ${SPARK_SUBMIT_OPTS_EXTRA:-} "$jar" train --spark "$master" "$@"
