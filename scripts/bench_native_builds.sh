#!/usr/bin/env bash
# The same `dit4j bench` job on each libnd4j build of nd4j-native 1.0.0-M2.1 (generic x86-64, AVX2, AVX2 + oneDNN),
# alternating build by build for ROUNDS rounds, each run its own process under /usr/bin/time (peak RSS).
#   scripts/bench_native_builds.sh ROUNDS -- BENCH ARGS...
#   e.g. scripts/bench_native_builds.sh 2 -- --models DiT-S/2,DiT-B/2 --batches 1,8 --ddim-steps 0 --repeats 3
# Needs the compiled classes (mvn compile) and fetches the two extra native jars into ~/.m2 once.
set -euo pipefail
rounds="${1:?usage: $0 ROUNDS -- BENCH ARGS...}"
shift
[[ "${1:-}" == "--" ]] && shift
root="$(cd "$(dirname "$0")/.." && pwd)"
version=1.0.0-M2.1
repo="${HOME}/.m2/repository/org/nd4j/nd4j-native/$version"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" OMP_WAIT_POLICY=PASSIVE
cp_file="$(mktemp)"
trap 'rm -f "$cp_file" /tmp/native_rss.$$' EXIT
(cd "$root" && mvn -B -q dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime >&2)
generic="$repo/nd4j-native-$version-linux-x86_64.jar"
for ext in -avx2 -onednn-avx2; do
  [[ -f "$repo/nd4j-native-$version-linux-x86_64$ext.jar" ]] ||
    (cd "$root" && mvn -B -q dependency:get -Dartifact="org.nd4j:nd4j-native:$version:jar:linux-x86_64$ext" -Dtransitive=false >&2)
done
for round in $(seq "$rounds"); do
  for ext in "" -avx2 -onednn-avx2; do
    # only the chosen build's jar on the class path, so nothing else can be loaded
    cp="$(sed "s#$generic#$repo/nd4j-native-$version-linux-x86_64$ext.jar#" "$cp_file")"
    /usr/bin/time -f "rss_kb %M" -o /tmp/native_rss.$$ java -Dorg.bytedeco.javacpp.platform.extension="$ext" \
      -Dorg.bytedeco.javacpp.maxbytes=12G -cp "$root/target/classes:$cp" org.dit4j.cli.Dit4j bench "$@" 2>/dev/null |
      grep -v '^model' | sed "s/^/round$round linux-x86_64${ext}\t/"
    echo -e "round$round linux-x86_64${ext}\t# peak RSS $(awk '{print $2}' /tmp/native_rss.$$) kB"
  done
done
