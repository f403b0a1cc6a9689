// Shared pieces of benchmarks/producer_bench: what one client run is asked to do (RunSpec),
// what it reports back to the parent through a pipe (RunResult, plain data), and the
// measurements every client uses the same way (CPU time of the process's threads, peak RSS,
// latency percentiles). See docs/benchmarks.md, "Producer".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace asiokafka::bench {

enum class Mode { throughput, latency };

/// One client run: the same settings go to every client.
struct RunSpec {
  Mode mode = Mode::throughput;
  std::string bootstrap;
  std::string topic;
  int partitions = 1;
  std::string compression = "none";  ///< none or lz4 (any codec name both clients know)
  std::uint64_t records = 2'000'000;  ///< measured records
  std::uint64_t warmup = 200'000;     ///< records sent and acknowledged before the clock starts
  int linger_ms = 5;
  std::size_t batch_bytes = 1'048'576;
  std::size_t request_bytes = 1'048'576;
  std::size_t buffer_memory = 32 * 1024 * 1024;
  double rate = 10'000;  ///< latency mode: records per second, open loop
  const std::vector<std::string>* payloads = nullptr;  ///< the shared pool, used in turn
  /// Ours, throughput: false leaves out the per-record async_wait and learns the end from
  /// flush() (which completes once every record was acknowledged or failed, without saying
  /// which), to isolate the cost of send() and the batching from that of per-record waits.
  bool per_record_ack = true;
};

/// What a run reports (written through a pipe by the forked child, so plain data only).
struct RunResult {
  bool ok = false;
  char error[512] = {};
  std::uint64_t records = 0;      ///< measured records acknowledged
  std::uint64_t failed = 0;       ///< measured records that failed (a run with failures is not ok)
  double seconds = 0;             ///< first measured send until the last acknowledgement
  std::uint64_t cpu_ns = 0;       ///< CPU of the client's threads over that window
  std::uint64_t io_thread_cpu_ns = 0;  ///< ours: the io_context thread alone (a cross-check)
  long peak_rss_kib = 0;          ///< the client process's peak RSS (VmHWM)
  // Latency mode: scheduled send time to acknowledgement, in microseconds.
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  double send_lag_max_us = 0;  ///< latency mode: how late the sender got behind its schedule
};

void set_error(RunResult& r, const std::string& message);

/// CLOCK_MONOTONIC in nanoseconds (steady_clock on Linux).
std::uint64_t monotonic_ns();

/// Sum of the CPU time (ns, from /proc/self/task/*/schedstat) of every thread of this process
/// that exists now. The child process holds only the client under test, so this is the
/// client's CPU: its library threads and the thread that calls it.
std::uint64_t process_threads_cpu_ns();

/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), ns.
std::uint64_t this_thread_cpu_ns();

/// Peak resident set size of this process (VmHWM), KiB.
long peak_rss_kib();

/// Fills the p50/p99/p99.9/max fields from latencies in nanoseconds (sorts `ns`).
void summarize_latency(std::vector<std::uint64_t>& ns, RunResult& r);

RunResult run_ours(const RunSpec& spec);
RunResult run_rdkafka(const RunSpec& spec);

/// Creates `topic` with `partitions` partitions (replication 1) through librdkafka's admin
/// API; throws std::runtime_error on failure.
void create_topic(const std::string& bootstrap, const std::string& topic, int partitions);

}  // namespace asiokafka::bench
