#!/bin/sh
# Regenerates tests/data/kafka_errors.txt: every Kafka error code with its name, whether the Java
# client treats it as retriable, and its default message, as printed by DumpErrors.java from the
# kafka-clients jar of Kafka $KAFKA_VERSION (default 4.3.1). Needs a JDK and the jars
# `python3 rig/kafkarig.py fetch --version V` downloads. tests/unit/kafka_error_test.cpp
# compares kafka_errc with this file; after regenerating it, update src/kafka_error.cpp and
# include/asiokafka/kafka_error.hpp for any code the test reports.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${ASIOKAFKA_CACHE:-$HOME/.cache/asiokafka}
version=${KAFKA_VERSION:-4.3.1}
libs="$cache/kafka-$version/libs"
[ -d "$libs" ] || { echo "no $libs: run python3 rig/kafkarig.py fetch --version $version" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
javac -d "$tmp" -cp "$libs/*" "$here/DumpErrors.java"
out="$root/tests/data/kafka_errors.txt"
java -cp "$tmp:$libs/*" DumpErrors > "$tmp/errors.txt"
mv "$tmp/errors.txt" "$out"
echo "wrote $out: $(grep -vc '^#' "$out") codes from kafka-clients $version"
