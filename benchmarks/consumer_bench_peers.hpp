// consumer_bench: the peers that run as programs of their own (throughput mode only).
#pragma once

#include <functional>
#include <string>

#include "consumer_bench.hpp"

namespace asiokafka::bench {

/// `binary consume ...` (benchmarks/franzgo): reads the topic from offset 0 with the spec's
/// fetch settings and prints its own window (records, bytes, seconds, getrusage CPU); RSS is
/// its peak (wait4).
RunResult consume_franzgo(const ConsumeSpec& spec, const std::string& binary);

/// org.apache.kafka.tools.ConsumerPerformance on `classpath` (a fresh group each time, from
/// `fresh_group`). Throughput: the tool's fetch.nMsg.sec (the group's join is left out). CPU:
/// whole-process CPU of the run minus that of a run that reads a single record (JVM start,
/// group join), divided by the records; RSS: the JVM's peak.
RunResult consume_java(const ConsumeSpec& spec, const std::string& classpath,
                       const std::function<std::string()>& fresh_group);

}  // namespace asiokafka::bench
