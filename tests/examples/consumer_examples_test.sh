#!/usr/bin/env bash
# Runs aiokafka's consumer examples (examples/consumer_*.cpp) against the rig's single-node
# broker, each on a fresh topic, and checks what each reports.
#   consumer_examples_test.sh <directory of the example binaries>
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

check consumer_simple "^offset 0: sensor-0 at 20.5 C$" "^offset 9: sensor-0 at 29.5 C$" "^consumed 10 readings$"
check consumer_manual_commit "^committed offset 30$" "^resumed at offset 30: job-30$"
check consumer_seek "^first record at or after \+5.5 s: offset 6$" "^read offset 6: event-6$" \
  "^after seek_to_end: position 20$" "^after seek_to_beginning: offset 0$"
check consumer_flow_control "^consumed 505 records; lagging partitions were read first$"
echo "all consumer examples ok"
