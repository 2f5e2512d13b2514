#!/usr/bin/env bash
# A Spark standalone cluster on this machine, for tests and trials: one master and N workers, each a JVM of its own,
# bound to 127.0.0.1 only, run from the Spark jars Maven resolved (no Spark installation).
#   scripts/spark-local-cluster.sh start 2     # prints spark://127.0.0.1:PORT
#   scripts/dit4j train --spark spark://127.0.0.1:PORT --devices 2 ...
#   scripts/spark-local-cluster.sh stop
#   scripts/spark-local-cluster.sh classpath   # the Spark jars it runs from (spark-submit-train.sh uses them)
# State (pids, logs, work dirs) lives in $DIT4J_SPARK_CLUSTER_DIR (default target/spark-local-cluster).
# Each worker offers DIT4J_WORKER_CORES cores (default 1) and DIT4J_WORKER_MEMORY (default 2g) to executors.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${DIT4J_SPARK_CLUSTER_DIR:-$root/target/spark-local-cluster}"
usage() { echo "usage: $0 start N | stop | status | classpath" >&2; exit 2; }

# The jars of Spark's own dependency tree (scripts/spark-runtime/pom.xml), which Maven resolves once.
runtime_classpath() {
  local cp_file="$state/spark-runtime-classpath.txt"
  if [[ ! -s "$cp_file" ]]; then
    mvn -B -q -Dstyle.color=never -f "$root/scripts/spark-runtime/pom.xml" dependency:build-classpath \
      -Dmdep.outputFile="$cp_file" 2>&1 | sed -u $'s/\x1b\[[0-9;]*[A-Za-z]//g' >&2
  fi
  cat "$cp_file"
}

# Spark's launcher finds executor jars under $SPARK_HOME/jars: a home made of links to those jars.
spark_home() {
  local jar
  rm -rf "$state/home"
  mkdir -p "$state/home/jars"
  tr ":" "\n" <<< "$1" | while read -r jar || [[ -n "$jar" ]]; do
    [[ -n "$jar" ]] && ln -s "$jar" "$state/home/jars/$(basename "$jar")"
  done
}

opens=(-XX:+IgnoreUnrecognizedVMOptions -Djdk.reflect.useDirectMethodHandle=false
  --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED)
for m in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  opens+=(--add-opens=java.base/$m=ALL-UNNAMED)
done

# Waits up to $3 seconds for pattern $2 in log $1; fails naming the log when the process $4 dies or time runs out.
await() {
  local log="$1" pattern="$2" limit="$3" pid="$4" t=0
  until grep -q "$pattern" "$log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "spark-local-cluster: process $pid exited, see $log" >&2; return 1; fi
    if (( t >= limit * 10 )); then echo "spark-local-cluster: no '$pattern' after ${limit}s, see $log" >&2; return 1; fi
    sleep 0.1
    t=$((t + 1))
  done
}

# Each daemon runs in a process group of its own (setsid), so stop also ends the executors a worker started.
launch() {
  local name="$1"; shift
  SPARK_HOME="$state/home" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=127.0.0.1 \
    setsid java -Xmx512m "${opens[@]}" -cp "$cp" "$@" >"$state/$name.log" 2>&1 < /dev/null &
  echo $! > "$state/$name.pid"
}

stop() {
  local f pid
  for f in "$state"/*.pid; do
    [[ -e "$f" ]] || continue
    pid="$(cat "$f")"
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$f"
  done
  rm -f "$state/master-url"
}

case "${1:-}" in
  start)
    [[ $# -eq 2 && "$2" =~ ^[1-9][0-9]*$ ]] || usage
    if [[ -f "$state/master-url" ]]; then echo "spark-local-cluster: already running at $(cat "$state/master-url") (stop it first)" >&2; exit 1; fi
    mkdir -p "$state"
    cp="$(runtime_classpath)"
    spark_home "$cp"
    trap 'stop' ERR
    launch master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 0 --webui-port 0
    await "$state/master.log" "Starting Spark master at spark://" 60 "$(cat "$state/master.pid")"
    url="$(grep -o 'spark://127\.0\.0\.1:[0-9]*' "$state/master.log" | head -n1)"
    for i in $(seq 1 "$2"); do
      mkdir -p "$state/work-$i"
      launch "worker-$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --port 0 --webui-port 0 \
        --cores "${DIT4J_WORKER_CORES:-1}" --memory "${DIT4J_WORKER_MEMORY:-2g}" --work-dir "$state/work-$i" "$url"
    done
    for i in $(seq 1 "$2"); do
      await "$state/worker-$i.log" "Successfully registered with master" 60 "$(cat "$state/worker-$i.pid")"
    done
    echo "$url" > "$state/master-url"
    echo "$url"
    ;;
  stop)
    [[ $# -eq 1 ]] || usage
    stop
    ;;
  status)
    [[ -f "$state/master-url" ]] || { echo "spark-local-cluster: not running" >&2; exit 1; }
    cat "$state/master-url"
    for f in "$state"/*.pid; do echo "$(basename "$f" .pid) pid $(cat "$f")"; done
    ;;
  classpath)
    [[ $# -eq 1 ]] || usage
    mkdir -p "$state"
    runtime_classpath
    ;;
  *) usage ;;
esac
