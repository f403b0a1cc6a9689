// Shared pieces of benchmarks/consumer_bench: what one client run is asked to do (ConsumeSpec,
// the same fetch settings for every client) and the clients' entry points. A run reports a
// RunResult (producer_bench.hpp: plain data written back through a pipe by the forked child)
// and is measured with the same helpers as producer_bench (producer_bench_procs.hpp).
// See docs/benchmarks.md, "Consumer".
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "producer_bench.hpp"

namespace asiokafka::bench {

/// One client run: the same settings go to every client.
struct ConsumeSpec {
  std::string bootstrap;
  std::string topic;
  int partitions = 1;
  /// Throughput: the records the topic holds (all read from offset 0). Latency: measured
  /// records (after `warmup` more).
  std::uint64_t records = 5'000'000;
  std::size_t value_size = 100;
  // Fetch settings (each client's names in docs/benchmarks.md, "Consumer").
  std::size_t fetch_max_bytes = 52'428'800;
  std::size_t partition_fetch_bytes = 1'048'576;
  int fetch_wait_ms = 500;
  std::size_t fetch_min_bytes = 1;
  std::size_t buffer_bytes = 64 * 1024 * 1024;  ///< ours fetch_buffer_memory, librdkafka queued.max.messages.kbytes
  std::size_t poll_records = 10'000;            ///< most records one poll returns
  bool check_crcs = true;
  // Latency mode.
  double rate = 10'000;        ///< records per second, open loop
  std::uint64_t warmup = 10'000;  ///< records produced and consumed before the measured ones
};

/// The latency payload: the scheduled send time (CLOCK_MONOTONIC ns) and the record's index,
/// little-endian in its first 16 bytes; the rest comes from the shared payload generator.
constexpr std::size_t kStampBytes = 16;
void stamp(std::string& value, std::uint64_t due_ns, std::uint64_t index);
void read_stamp(const std::uint8_t* value, std::size_t size, std::uint64_t& due_ns, std::uint64_t& index);

/// Collects a consumed latency record (every consumer uses it, so the accounting is
/// identical): records with an index below `warmup` are skipped; the others' latency goes to
/// their slot.
struct LatencySink {
  LatencySink(std::uint64_t warmup_records, std::uint64_t records) : warmup(warmup_records), ns(records, 0) {}
  void add(const std::uint8_t* value, std::size_t size, std::uint64_t now_ns);
  bool complete() const noexcept { return received >= warmup + ns.size(); }
  std::uint64_t warmup;
  std::vector<std::uint64_t> ns;
  std::uint64_t received = 0;    ///< all records, warm-up included
  std::uint64_t measured = 0;    ///< distinct measured records
  std::uint64_t duplicates = 0;  ///< measured records seen twice (a consumer bug)
  std::uint64_t last_ns = 0;     ///< receipt of the latest record
};

/// The sending side of a latency run, in a thread of its own: sends spec.warmup + spec.records
/// stamped records at spec.rate from `t0` (open loop, linger 0, acks=all, idempotence), waits
/// for their acknowledgements, then keeps its threads alive until `release` (so the harness can
/// read the process's CPU with them in it). Fills cpu0 (process CPU when the first measured
/// record is due), lag_max_ns, failed and error.
struct PacedProducer {
  std::uint64_t t0 = 0;
  std::uint64_t cpu0 = 0, lag_max_ns = 0, failed = 0;
  std::string error;
  std::atomic<bool> release{false};
};
/// The receiving side, on the calling thread: starts a consumer of spec's partitions from
/// offset 0 (fetch settings of spec), calls `ready()` once it is started, hands every record to
/// `sink` until sink.complete(), then calls `done()` before tearing the consumer down. Throws
/// after 30 s without a record.
using StampedConsumer = void (*)(const ConsumeSpec& spec, LatencySink& sink, const std::function<void()>& ready,
                                 const std::function<void()>& done);
using PacedSender = void (*)(const ConsumeSpec& spec, PacedProducer& p);

/// One latency run: `consume` on this thread, `produce` in a thread started once the consumer
/// is ready; percentiles, CPU of the process (both sides) per measured record, sender lag.
RunResult run_latency(const ConsumeSpec& spec, PacedSender produce, StampedConsumer consume);

// Ours (consumer_bench_ours.cpp).
RunResult consume_ours(const ConsumeSpec& spec);
void produce_paced_ours(const ConsumeSpec& spec, PacedProducer& p);
void consume_stamped_ours(const ConsumeSpec& spec, LatencySink& sink, const std::function<void()>& ready,
                          const std::function<void()>& done);

// librdkafka (consumer_bench_rdkafka.cpp).
RunResult consume_rdkafka(const ConsumeSpec& spec);
void produce_paced_rdkafka(const ConsumeSpec& spec, PacedProducer& p);
void consume_stamped_rdkafka(const ConsumeSpec& spec, LatencySink& sink, const std::function<void()>& ready,
                             const std::function<void()>& done);
/// Records in `topic` (sum over its partitions of high - low watermark); -1 when the topic
/// does not exist.
std::int64_t topic_records(const std::string& bootstrap, const std::string& topic);
/// Produces `records` values of the pool in turn, spread evenly over the partitions, with
/// librdkafka's producer (large batches: it is fast and the layout does not depend on ours).
void prefill(const std::string& bootstrap, const std::string& topic, int partitions, std::uint64_t records,
             const std::vector<std::string>& payloads);

}  // namespace asiokafka::bench
