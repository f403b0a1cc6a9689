#!/usr/bin/env bash
# Runs aiokafka's admin example (examples/admin_topics.cpp) against the rig's single-node
# broker and checks what it reports.
#   admin_examples_test.sh <directory of the example binaries>
set -euo pipefail
bin=$1
[ -n "${ASIOKAFKA_RIG_ENV:-}" ] || { echo "ASIOKAFKA_RIG_ENV is not set"; exit 1; }
bootstrap=$(sed -n 's/^BOOTSTRAP_PLAINTEXT=//p' "$ASIOKAFKA_RIG_ENV")
cluster_id=$(sed -n 's/^CLUSTER_ID=//p' "$ASIOKAFKA_RIG_ENV")
prefix="example-admin-$$-$RANDOM"
out=$(timeout 60 "$bin/admin_topics" "$bootstrap" "$prefix")
echo "$out"
for pattern in "^cluster $cluster_id: 1 broker\(s\), controller 1$" \
    "^create $prefix-orders: created$" "^create $prefix-audit: created$" \
    "^create again $prefix-orders: TOPIC_ALREADY_EXISTS$" "^create again $prefix-audit: TOPIC_ALREADY_EXISTS$" \
    "^describe $prefix-orders: 3 partition\(s\)$" "^  partition 2 leader 1 replicas 1 isr 1$" \
    "^describe $prefix-audit: 1 partition\(s\)$" "^list: 2 topic\(s\) with prefix $prefix$" "^deleted 2 topic\(s\)$"; do
  grep -Eq "$pattern" <<<"$out" || { echo "FAIL: admin_topics printed no line matching '$pattern'"; exit 1; }
done
echo "admin example ok"
