// The producer's choice of partition for a record, sans-I/O: keyed records hash their key as
// the Java client and librdkafka's murmur2 partitioners do (so both clients put a key in the
// same partition); keyless records stick to one partition per topic until its batch closes
// (KIP-480). Runs once per record: no allocation once a topic is known, no clock, no Asio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace asiokafka::producer {

/// The 32-bit MurmurHash2 of the Java client's Utils.murmur2 (seed 0x9747b28c, 4-byte
/// little-endian blocks). Java returns it as a signed int; this is the same bits unsigned.
std::uint32_t murmur2(std::span<const std::uint8_t> data) noexcept;

/// The partition of a keyed record: (murmur2(key) & 0x7fffffff) % partition_count, as the
/// Java client's default partitioner and librdkafka's murmur2 partitioners. An empty key is
/// hashed like any other. Returns -1 when partition_count is not positive.
std::int32_t partition_for_key(std::span<const std::uint8_t> key, std::int32_t partition_count) noexcept;

/// KIP-480 sticky partitioning for keyless records: each topic has a current partition that
/// every keyless record goes to until the batch of that partition closes (on_new_batch), so
/// batches fill up instead of one record going to each partition.
///
/// Arguments shared by both calls: `available` lists the partitions that have a leader, sorted
/// ascending without duplicates (the order of the metadata cache), each in [0, partition_count);
/// `partition_count` is the topic's partition count (positive).
///
/// A current partition stays current while it is below partition_count and, when any
/// partition is available, among `available`. Otherwise partition() picks a new one: the
/// records would sit in a leaderless partition until its batch expired, while another
/// partition can send them now. When no partition has a leader every partition is as good as
/// another, so the current one stays (or one of 0..partition_count-1 is picked at random).
class sticky_partitioner {
 public:
  /// `seed` drives the choice of partitions: the same seed and calls give the same choices.
  explicit sticky_partitioner(std::uint64_t seed) noexcept : state_{seed} {}

  /// The partition for the next keyless record of `topic`: the current one, or a new one
  /// (random among `available`, else among 0..partition_count-1) when there is none or it is
  /// no longer valid. Returns -1 when partition_count is not positive. Allocates only the
  /// first time it sees a topic.
  std::int32_t partition(std::string_view topic, std::span<const std::int32_t> available,
                         std::int32_t partition_count);

  /// The batch of `previous_partition` closed (full, or sent): when it is the topic's current
  /// partition, the topic moves to another one, chosen at random as in partition() but never
  /// `previous_partition` again when there is another candidate. A call for a partition that
  /// is no longer current (a switch already happened) changes nothing, as in the Java client.
  void on_new_batch(std::string_view topic, std::int32_t previous_partition,
                    std::span<const std::int32_t> available, std::int32_t partition_count);

  /// The same two on a caller-held slot (the topic's current partition, -1 for none): the
  /// producer keeps it with the topic's other state, so a record costs no lookup here.
  std::int32_t partition(std::int32_t& current, std::span<const std::int32_t> available,
                         std::int32_t partition_count) noexcept;
  void on_new_batch(std::int32_t& current, std::int32_t previous_partition, std::span<const std::int32_t> available,
                    std::int32_t partition_count) noexcept;

  /// Drops the state of `topic` (e.g. it was deleted); the next record picks afresh.
  void forget(std::string_view topic);

  /// The current partition of `topic`, or -1 when it has none yet. For tests and metrics.
  std::int32_t current(std::string_view topic) const;

 private:
  /// Hashes std::string and std::string_view alike, so lookups by string_view need no
  /// std::string (heterogeneous lookup, C++20).
  struct topic_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  /// A random partition among the candidates, avoiding `avoid` when another one exists.
  std::int32_t pick(std::span<const std::int32_t> available, std::int32_t partition_count,
                    std::int32_t avoid) noexcept;
  /// Uniform in [0, n) for 0 < n < 2^32 (splitmix64, then a multiply-shift).
  std::uint32_t below(std::uint32_t n) noexcept;

  std::unordered_map<std::string, std::int32_t, topic_hash, std::equal_to<>> current_;
  std::uint64_t state_;
};

}  // namespace asiokafka::producer
