#!/usr/bin/env bash
# Runs benchmarks/rebalance_bench (ours beside librdkafka, and the Java client's consumer with
# --clients ours,librdkafka,java) against the rig of RIG_DIR, the client processes (driver,
# members, producer) pinned to core 1 and the broker to core 0 as run_consumer_bench.sh does
# (../shared/BENCHMARKING.md). Extra arguments go to rebalance_bench.
#
#   RIG_DIR=$PWD/build/rig/bench benchmarks/run_rebalance_bench.sh [rebalance_bench options]
#
# Environment: BUILD_DIR (default build/perf-rel), RIG_DIR (exports its rig.env as
# ASIOKAFKA_RIG_ENV), NO_PIN=1 pins nothing, ASIOKAFKA_KAFKA_LIBS (the jars of the java
# members' classpath; default: the rig's Kafka 4.3.1 libs dir).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/perf-rel}"
bench="$build/benchmarks/rebalance_bench"
[[ -x "$bench" ]] || { echo "no $bench: build it first (docs/benchmarks.md)" >&2; exit 2; }

if [[ -n "${RIG_DIR:-}" ]]; then
  export ASIOKAFKA_RIG_ENV="$RIG_DIR/rig.env"
fi
if [[ -z "${ASIOKAFKA_KAFKA_LIBS:-}" ]]; then
  ASIOKAFKA_KAFKA_LIBS="$(cd "$root" && python3 -c "import sys; sys.path.insert(0, 'rig'); import kafkarig; print(kafkarig.libs_dir('4.3.1'))")"
  export ASIOKAFKA_KAFKA_LIBS
fi
pin=()
if [[ "${NO_PIN:-0}" != 1 ]] && [[ "$(nproc)" -ge 2 ]]; then
  if [[ -n "${RIG_DIR:-}" && -f "$RIG_DIR/n1/pid" ]]; then
    # Every thread of the broker's JVM to core 0.
    taskset -a -cp 0 "$(cat "$RIG_DIR/n1/pid")" >/dev/null
  fi
  pin=(taskset -c 1)
fi

exec "${pin[@]}" "$bench" "$@"
