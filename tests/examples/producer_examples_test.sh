#!/usr/bin/env bash
# Runs aiokafka's producer examples (examples/producer_*.cpp) against the rig's single-node
# broker, each on a fresh topic, and checks what each reports.
#   producer_examples_test.sh <directory of the example binaries>
set -euo pipefail
bin=$1
[ -n "${ASIOKAFKA_RIG_ENV:-}" ] || { echo "ASIOKAFKA_RIG_ENV is not set"; exit 1; }
bootstrap=$(sed -n 's/^BOOTSTRAP_PLAINTEXT=//p' "$ASIOKAFKA_RIG_ENV")
run_id="$$-$RANDOM"

check() {  # check <example> <extended regex the output must match, one per line>...
  local example=$1; shift
  local out
  out=$(timeout 60 "$bin/$example" "$bootstrap" "example-$example-$run_id")
  echo "$out"
  for pattern in "$@"; do
    grep -Eq "$pattern" <<<"$out" || { echo "FAIL: $example printed no line matching '$pattern'"; exit 1; }
  done
}

check producer_simple "^sent to example-producer_simple-$run_id partition 0 offset 0$"
check producer_send_and_wait "^acknowledged offset 0$" "^acknowledged offset 2$" \
  "^100 batched records acknowledged, last offset 102$"
check producer_batch "^[0-9]+ messages sent to partition [0-2], base offset 0$"
check producer_partitioner "^vip-alice -> partition 0$" "^bob -> partition [12]$" "^vip-carol -> partition 0$" \
  "^dave-long-name -> partition [12]$"
check producer_json "^10 JSON readings sent \(gzip\)$"
echo "all producer examples ok"
