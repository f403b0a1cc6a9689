// Exactly-once checks of the Producer under broker faults (tests/fault and tests/cluster).
//
// Record i of n goes to partition p = i % P with the key that murmur2 maps to p, and carries
// its sequence number within p (i / P) in its value, so each partition receives one ordered
// stream. produce_sequenced() sends them with at most `window` records unacknowledged (a steady
// stream: records are always in flight), runs fault actions when given send counts are reached
// and a follow-up of each (a restart) on a helper thread while the records keep flowing.
// read_back() consumes the topic with librdkafka (CRC checks on) up to the high watermarks and
// verify() compares: duplicates, order per partition, acknowledged records missing or at
// another offset than their handle reported.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "asiokafka/producer.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {

/// The node id leading topic/partition per librdkafka's metadata; -1 when unknown.
int leader_of(const std::string& bootstrap, const std::string& topic, int partition);

/// keys[p] is a key the default partitioner (murmur2) maps to partition p of `partitions`.
std::vector<std::string> keys_for_partitions(int partitions);

/// Sends SIGKILL to `pid` at once (no helper process: the records in flight at that moment
/// stay in flight), for a Fault's `now`.
void kill_now(int pid);
/// Waits (bounded by `limit`) until a SIGKILLed process has no thread left but its zombie
/// leader, when its listening sockets are closed and the node may start again.
void wait_process_gone(int pid, std::chrono::milliseconds limit);

/// A fault during the run: `now` runs on the producing thread once `at` records were sent
/// and enough are unacknowledged (ProduceSpec::strike_when_unacknowledged); it must be quick.
/// `then` runs afterwards on a helper thread while the records keep flowing (it may block: a
/// restart). Fault k+1 waits for fault k's `then` to finish.
struct Fault {
  std::string name;
  std::size_t at = 0;
  std::function<void()> now;
  std::function<void()> then;
};

struct ProduceSpec {
  ProducerConfig config;
  std::string topic;
  std::vector<std::string> keys;   ///< one per partition (keys_for_partitions)
  std::size_t count = 0;           ///< records to send
  std::size_t window = 5000;       ///< at most this many sent and not yet acknowledged
  std::size_t value_size = 100;    ///< bytes per value (the sequence number, then padding)
  /// A fault strikes at the first send from its `at` on when at least this many records are
  /// unacknowledged (or `window` sends later in any case).
  std::size_t strike_when_unacknowledged = 500;
  std::chrono::milliseconds limit{std::chrono::minutes(5)};  ///< bound of the whole run
};

struct Produced {
  std::size_t sent = 0;    ///< records enqueued by send()
  std::size_t acked = 0;   ///< handles that completed with metadata
  std::size_t failed = 0;  ///< send() or the handle failed
  std::vector<std::int64_t> offsets;     ///< per record: the acknowledged offset, or -1
  std::vector<std::int32_t> partitions;  ///< per record: the acknowledged partition, or -1
  std::map<std::string, std::size_t> failures;  ///< "<category>:<code> (<meaning>)" -> records
  std::vector<std::string> failure_examples;     ///< the first few failure messages
  std::vector<std::string> log;          ///< when each fault ran and what it cost
  std::size_t faults_done = 0;           ///< faults whose `then` finished without throwing
  std::string aborted;                   ///< why the run stopped early, if it did
  std::chrono::milliseconds took{};
};

/// The value of record `seq` of partition `p`: "p<p>-s<seq>-" padded to `size` bytes.
std::string sequenced_value(int partition, std::size_t seq, std::size_t size);

/// Runs the producer on a private io_context (bounded by spec.limit) with the faults.
Produced produce_sequenced(const ProduceSpec& spec, std::vector<Fault> faults);

struct ReadRecord {
  std::int64_t offset = -1;
  std::string key;
  std::string value;
};

/// Every record of the topic's `partitions` partitions, from the beginning up to the high
/// watermark found when it starts, in offset order; bounded by `limit`.
std::vector<std::vector<ReadRecord>> read_back(const std::string& bootstrap, const std::string& topic, int partitions,
                                               std::chrono::milliseconds limit);

struct Verdict {
  std::size_t read = 0;               ///< records read back
  std::size_t distinct = 0;           ///< distinct sequenced records among them
  std::size_t duplicates = 0;         ///< records read more than once
  std::size_t out_of_order = 0;       ///< a sequence number not above its predecessor's
  std::size_t foreign = 0;            ///< unparsable, wrong key or on the wrong partition
  std::size_t acked_missing = 0;      ///< acknowledged, not read back
  std::size_t acked_misplaced = 0;    ///< read back elsewhere than its metadata said
  std::size_t unacked_present = 0;    ///< its handle failed, yet it was written
  std::vector<std::string> examples;  ///< the first problems, for the failure message
  std::string summary() const;
};

Verdict verify(const ProduceSpec& spec, const Produced& produced, const std::vector<std::vector<ReadRecord>>& read);

/// "code: message" counts of failed records, one per line.
std::string describe_failures(const Produced& produced);

}  // namespace asiokafka::test
