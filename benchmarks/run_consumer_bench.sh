#!/usr/bin/env bash
# Runs benchmarks/consumer_bench with all its peers, as run_producer_bench.sh does for the
# producer: builds the franz-go peer (benchmarks/franzgo, whose `consume` mode is the consumer
# peer; modules from the Go module proxy) and the class path of the Java client's
# ConsumerPerformance (org.apache.kafka:kafka-tools, from Maven Central), then runs
# consumer_bench with --franzgo and --java-classpath, the client pinned to core 1 and, when
# RIG_DIR is given, the broker to core 0 (../shared/BENCHMARKING.md). Extra arguments go to
# consumer_bench.
#
#   RIG_DIR=$PWD/build/rig/bench benchmarks/run_consumer_bench.sh [consumer_bench options]
#
# Environment: as run_producer_bench.sh (BUILD_DIR, PEERS_DIR, KAFKA_VERSION, RIG_DIR, NO_PIN).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/perf-rel}"
peers="${PEERS_DIR:-$root/build/peers}"
kafka_version="${KAFKA_VERSION:-4.3.1}"
bench="$build/benchmarks/consumer_bench"
[[ -x "$bench" ]] || { echo "no $bench: build it first (docs/benchmarks.md)" >&2; exit 2; }

# franz-go, the Java tool, pinning: shared with run_producer_bench.sh.
source "$root/benchmarks/bench_peers.sh"

exec "${pin[@]}" "$bench" "${franz[@]}" "${java[@]}" "$@"
