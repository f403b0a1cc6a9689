#!/usr/bin/env bash
# Runs benchmarks/producer_bench with all its peers: builds the franz-go peer
# (benchmarks/franzgo, modules from the Go module proxy) and assembles the class path of the
# Java client's ProducerPerformance (org.apache.kafka:kafka-tools of the rig's Kafka version,
# from Maven Central, as rig/kafkarig.py fetches the broker), then runs producer_bench with
# --franzgo and --java-classpath, client pinned to core 1 and, when RIG_DIR is given, the
# broker to core 0 (../shared/BENCHMARKING.md). Extra arguments go to producer_bench.
#
#   RIG_DIR=$PWD/build/rig/bench benchmarks/run_producer_bench.sh [producer_bench options]
#
# Environment: BUILD_DIR (default build/perf-rel: the release build of docs/benchmarks.md),
# PEERS_DIR (default build/peers), KAFKA_VERSION (default 4.3.1), RIG_DIR (the rig's --dir:
# its rig.env gives the bootstrap, its n1/pid the broker to pin), NO_PIN=1 to pin nothing.
# Needs go and mvn only here; the library and its default build never need either.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/perf-rel}"
peers="${PEERS_DIR:-$root/build/peers}"
kafka_version="${KAFKA_VERSION:-4.3.1}"
bench="$build/benchmarks/producer_bench"
[[ -x "$bench" ]] || { echo "no $bench: build it first (docs/benchmarks.md)" >&2; exit 2; }

# franz-go, the Java tool, pinning: shared with run_consumer_bench.sh.
source "$root/benchmarks/bench_peers.sh"

exec "${pin[@]}" "$bench" "${franz[@]}" "${java[@]}" "$@"
