// producer_bench: running a client in a child process, and running a peer program.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "producer_bench.hpp"

namespace asiokafka::bench {

/// Forks; the child runs `body`, adds its peak RSS and sends the result back. The parent must
/// have no other threads (librdkafka handles destroyed). A child that has not answered after
/// `timeout_s` is killed and reported as timed out (a hang is a finding, not a stuck run).
RunResult run_in_child(const std::function<RunResult()>& body, int timeout_s);

/// What a peer program printed (stdout and stderr) and used (from wait4).
struct ExecResult {
  std::string output;
  int exit_code = -1;
  bool timed_out = false;
  std::uint64_t cpu_ns = 0;  ///< user + system of the whole process
  long peak_rss_kib = 0;
};

/// Runs argv[0] (found on PATH) with the arguments, bounded by `timeout_s`.
ExecResult run_program(const std::vector<std::string>& argv, int timeout_s);

}  // namespace asiokafka::bench
