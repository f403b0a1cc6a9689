// producer_bench: the peers run as separate programs (throughput mode only).
#pragma once

#include <functional>
#include <string>

#include "producer_bench.hpp"

namespace asiokafka::bench {

/// benchmarks/franzgo built as `binary`. CPU: getrusage of its own process over the measured
/// window (it is a process of its own); RSS: its peak (wait4).
RunResult run_franzgo(const RunSpec& spec, const std::string& binary, const std::string& payload_file);

/// org.apache.kafka.tools.ProducerPerformance on `classpath`. Throughput: the tool's
/// steady-state line (--warmup-records). CPU: whole-process CPU of the run minus that of a
/// run with only the warm-up records (to a topic from `fresh_topic`); RSS: the JVM's peak.
RunResult run_java(const RunSpec& spec, const std::string& classpath, const std::string& payload_file,
                   const std::function<std::string()>& fresh_topic);

}  // namespace asiokafka::bench
