// The consumer's assigned partitions and everything it knows of each, sans-I/O: position,
// pending offset reset, pause, the broker's offsets, buffered records not yet returned,
// whether a fetch is in flight, the preferred read replica (KIP-392) and an error waiting to
// be raised. No clocks (time is an argument), no I/O.
//
// The rules:
// - A partition's position is the offset (and the leader epoch of the record before it) of
//   the next record the application gets. It is unknown until seek() (a reset or a committed
//   offset found by the shell) sets it.
// - Records come in as chunks (one per fetched partition answer) and are handed out by take()
//   in order; the position advances past each record taken, and past the whole fetched range
//   (control batches, aborted records) when a chunk is drained.
// - A fetch answer is kept only if the partition is still assigned, its buffer is empty and
//   its position is still the one the fetch asked from: after a seek, a reset, or a revoke and
//   re-assign the data is stale and dropped. So no record of a partition that was revoked or
//   sought while fetched or buffered is ever returned.
// - Paused partitions keep their buffered records but take() skips them until resumed.
// - Held partitions (the group's: being revoked, or assigned with the rebalance listener not
//   yet done) are neither fetched nor taken, and their buffered records are dropped; they keep
//   their position (the revoke listener commits it). Independent of the application's pause.
// - An error (corrupt data, an out-of-range position with reset policy none) is raised by
//   take() once the records before it are handed out, on every take() that reaches it first,
//   until seek() or request_reset() clears it. A partition with an error is not fetched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "asiokafka/consumer_record.hpp"
#include "asiokafka/metadata.hpp"
#include "consumer/sansio/partition_records.hpp"
#include "net/sansio/time.hpp"

namespace asiokafka::consumer {

using net::time_point;
using duration = net::clock::duration;

/// Where a partition without a valid position starts (ConsumerConfig::auto_offset_reset; the
/// config header brings Asio, which this layer may not include).
enum class reset_policy : std::uint8_t { earliest, latest, none };

/// A partition's position: the next offset to return, and the leader epoch of the last
/// record returned before it (-1: unknown), sent as the fetch's last_fetched_epoch (KIP-320).
struct fetch_position {
  std::int64_t offset = 0;
  std::int32_t leader_epoch = -1;
  friend bool operator==(const fetch_position&, const fetch_position&) = default;
};

/// An error to raise at a partition's position.
struct partition_error {
  TopicPartition partition;
  std::error_code error;
  std::string message;
  std::int64_t offset = -1;
};

/// Records taken from one partition, in offset order.
struct partition_batch {
  TopicPartition partition;
  ConsumerRecords records;
};

/// What take() hands out: records grouped by partition, or an error (never both non-empty
/// and an error: records taken before an error are returned first, the error next time).
struct take_result {
  std::vector<partition_batch> batches;
  std::size_t count = 0;  ///< records over all batches
  std::optional<partition_error> error;
};

/// Fetched records of one partition answer, handed out from `next` on.
struct record_chunk {
  ConsumerRecords records;
  std::size_t next = 0;
  std::size_t retained_bytes = 0;  ///< bytes the records pin (memory budget)
  fetch_position end;              ///< the position once every record is taken
};

/// The state of one assigned partition (read it through subscription::find()).
struct partition_state {
  std::optional<fetch_position> position;
  std::optional<reset_policy> pending_reset;
  bool paused = false;
  bool held = false;
  std::int64_t high_watermark = -1;
  std::int64_t last_stable_offset = -1;
  std::int64_t log_start_offset = -1;
  std::optional<time_point> last_fetch_time;  ///< the last answer kept (last_poll_timestamp)
  std::deque<record_chunk> buffer;
  std::size_t buffered_bytes = 0;
  std::int32_t in_flight_node = -1;  ///< the node a fetch for it is in flight to; -1: none
  std::int32_t preferred_replica = -1;
  time_point preferred_replica_expiry{};
  std::optional<partition_error> error;

  bool fetch_in_flight() const noexcept { return in_flight_node >= 0; }
  bool has_buffered() const noexcept { return !buffer.empty(); }
};

/// What on_fetched() did with an answer.
enum class fetched_status {
  kept,          ///< fields updated; records (if any) buffered, error (if any) pending
  not_assigned,  ///< the partition is no longer assigned: dropped
  stale,         ///< the position moved since the fetch (or records are still buffered): dropped
};

class subscription {
 public:
  using map_type = std::map<TopicPartition, partition_state>;

  /// Makes `partitions` the assignment: partitions still assigned keep their state, the
  /// others are dropped with their buffered records; new ones start without a position.
  void assign(std::span<const TopicPartition> partitions);
  bool assigned(const TopicPartition& tp) const { return parts_.contains(tp); }
  std::vector<TopicPartition> assignment() const;

  /// Sets the position (an application seek, a reset's or a committed offset); drops the
  /// partition's buffered records, its pending reset and error. False if not assigned.
  bool seek(const TopicPartition& tp, std::int64_t offset, std::int32_t leader_epoch = -1);
  /// The position is to be found by `policy` (the shell's reset task): forgets the position,
  /// buffered records and error. False if not assigned.
  bool request_reset(const TopicPartition& tp, reset_policy policy);
  /// Partitions waiting for a reset, with their policy.
  std::vector<std::pair<TopicPartition, reset_policy>> awaiting_reset() const;
  /// Records an error to raise at the partition's position (e.g. out of range with policy
  /// none). False if not assigned.
  bool set_error(const TopicPartition& tp, std::error_code error, std::string message);

  /// One partition's answer to a fetch asked at `asked_at`, received at `now`. The caller has
  /// acted on `result.partition_error` (leader change, reset) itself; data with a partition
  /// error carries no records. A preferred read replica in the answer is used until
  /// `now + replica_ttl`.
  fetched_status on_fetched(const TopicPartition& tp, const fetch_position& asked_at, partition_fetch_result&& result,
                            time_point now, duration replica_ttl);

  /// Takes up to `max_records` (SIZE_MAX: no limit) buffered records of `only` (empty: every
  /// assigned partition), skipping paused ones. The partitions with records share
  /// `max_records` evenly, starting from a partition that rotates with each call.
  take_result take(std::span<const TopicPartition> only, std::size_t max_records);

  bool pause(const TopicPartition& tp);
  bool resume(const TopicPartition& tp);
  std::vector<TopicPartition> paused() const;
  /// Holds (drops buffered records) or releases a partition (see above). False if not assigned.
  bool hold(const TopicPartition& tp);
  bool release(const TopicPartition& tp);
  /// Assigned partitions that are not held (what the application holds).
  std::vector<TopicPartition> unheld() const;

  void set_in_flight(const TopicPartition& tp, std::int32_t node);
  /// Ends the fetch in flight to `node` for `tp` (if that is where it is in flight).
  void end_in_flight(const TopicPartition& tp, std::int32_t node);
  void clear_preferred_replica(const TopicPartition& tp);

  const partition_state* find(const TopicPartition& tp) const;
  const map_type& partitions() const noexcept { return parts_; }
  /// Bytes the buffered records pin, over all partitions.
  std::size_t buffered_bytes() const noexcept { return buffered_bytes_; }

 private:
  void drop_buffer(partition_state& s);
  // Moves up to `quota` records of `s` into `out`, advancing its position.
  std::size_t take_from(partition_state& s, std::size_t quota, ConsumerRecords& out);

  map_type parts_;
  std::size_t buffered_bytes_ = 0;
  std::size_t rotation_ = 0;
};

}  // namespace asiokafka::consumer
