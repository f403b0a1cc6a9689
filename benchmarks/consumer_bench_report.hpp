// consumer_bench: collects the runs and prints them, as they finish and then as Markdown tables
// of medians with the ratios to librdkafka and the targets (the style of
// producer_bench's report; the figures are computed by bench_common.hpp's helpers).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "producer_bench.hpp"

namespace asiokafka::bench {

class ConsumerReport {
 public:
  explicit ConsumerReport(std::size_t value_size) : value_size_(value_size) {}

  /// Records one run and prints a line for it at once.
  void add(Mode mode, int partitions, const std::string& client, const RunResult& r);
  /// The tables (medians over repetitions); `rate` is the latency mode's records per second.
  void print(double rate) const;
  bool all_ok() const noexcept { return all_ok_; }

 private:
  using Key = std::pair<int, int>;  // mode, partitions
  struct Row {
    std::vector<std::string> clients;  // in order of first appearance
    std::map<std::string, std::vector<RunResult>> runs;
  };
  void print_throughput() const;
  void print_latency(double rate) const;

  std::size_t value_size_;
  std::map<Key, Row> rows_;
  std::vector<Key> order_;
  bool all_ok_ = true;
};

}  // namespace asiokafka::bench
