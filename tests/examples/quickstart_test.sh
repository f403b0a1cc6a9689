#!/usr/bin/env bash
# Runs the quickstart example against the rig's single-node broker and checks that it exits 0
# and reports the rig's cluster id, its broker, the Produce/Fetch APIs and the records it produced
# and read back.
set -euo pipefail
quickstart=$1
[ -n "${ASIOKAFKA_RIG_ENV:-}" ] || { echo "ASIOKAFKA_RIG_ENV is not set"; exit 1; }
bootstrap=$(sed -n 's/^BOOTSTRAP_PLAINTEXT=//p' "$ASIOKAFKA_RIG_ENV")
cluster=$(sed -n 's/^CLUSTER_ID=//p' "$ASIOKAFKA_RIG_ENV")
out=$(timeout 50 "$quickstart" "$bootstrap" 50000)
echo "$out"
grep -q "^cluster id: $cluster, controller: 1$" <<<"$out"
grep -q "^broker 1 at $bootstrap$" <<<"$out"
grep -Eq "^  api +0  versions" <<<"$out"
grep -Eq "^  api +1  versions" <<<"$out"
grep -Eq "^produced 50000 records of 100 B to 'quickstart' in [0-9.]+ s: [0-9]+ records/s" <<<"$out"
grep -Eq "^consumed 50000 records \(5000000 B of values\) from 'quickstart' in [0-9.]+ s: [0-9]+ records/s" <<<"$out"
