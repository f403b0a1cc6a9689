// The producer's record accumulator, sans-I/O: per-partition queues of record batches, the
// memory budget (buffer_memory), when a batch is ready to send (full, lingered, flushing,
// memory exhausted), draining ready batches into one request per broker with per-partition
// in-flight limits and idempotent sequence numbers, retries in sequence order and expiry.
// Time is an argument; the producer's Asio shell awaits and calls in. docs/design.md
// ("Producer") states the invariants.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "asiokafka/protocol/records.hpp"
#include "net/sansio/time.hpp"
#include "protocol/record_batch_builder.hpp"

namespace asiokafka::producer {

using net::time_point;
using duration = net::clock::duration;

/// How some consecutive records of a batch ended.
struct outcome {
  std::error_code error;
  std::string message;
  std::int64_t base_offset = -1;      ///< offset of the range's first record (-1 with acks=0)
  std::int64_t log_append_time = -1;  ///< the broker's time when the topic uses LogAppendTime
  std::int64_t log_start_offset = -1;
};

/// How one batch ended, shared by the delivery handles of its records. The shell derives
/// from it to add its waiters (make_result in accumulator_options). A batch the broker
/// refused as too large is split: then each part ends on its own (`parts`), and the result
/// is done once every part is.
struct batch_result : outcome {
  virtual ~batch_result() = default;
  /// Called once, when the batch (every part of it) completed, after the fields are set.
  virtual void on_done() {}

  struct part {
    std::int32_t first = 0;  ///< index of its first record in this batch
    std::int32_t count = 0;
    bool done = false;
    outcome result;
  };
  /// The outcome of the record at `index` (its offset included: -1 when unknown).
  struct record_outcome {
    const outcome* of = nullptr;
    std::int64_t offset = -1;
  };
  record_outcome outcome_of(std::int32_t index) const noexcept;
  /// A part (of a split batch) ended: records it; completes the batch after the last one.
  void part_done(std::int32_t first, outcome result);

  bool done = false;
  std::vector<part> parts;  ///< empty unless split; ordered by `first`
};

/// One record batch of one partition, from its first record until its response.
struct batch {
  std::string_view topic;  ///< the accumulator's copy: valid while the accumulator lives
  std::int32_t partition = 0;
  protocol::record_batch_builder builder;
  std::shared_ptr<batch_result> result;
  std::size_t reserved = 0;  ///< bytes counted against buffer_memory
  time_point created{};      ///< first record: linger and delivery timeout count from here
  time_point not_before{};   ///< retry backoff
  int attempts = 0;          ///< requests that carried it
  std::string last_error;    ///< why its last attempt failed (named when it expires)
  std::int32_t base_sequence = -1;
  std::int16_t stamped_epoch = -1;  ///< the producer epoch base_sequence belongs to
  std::uint64_t ordinal = 0;        ///< creation order within the partition: queue order
  std::int32_t split_first = 0;     ///< the parts of a split batch share its ordinal: their first record orders them
  std::size_t queue = 0;            ///< the accumulator's index of its partition queue
  bool closed = false;     ///< takes no more records
  bool in_flight = false;  ///< in a request without a response yet
  std::list<std::unique_ptr<batch>>::iterator self;  ///< the accumulator's handle on it
};

struct accumulator_options {
  std::size_t max_batch_size = 16384;
  std::size_t max_request_size = 1048576;
  std::size_t buffer_memory = 32 * 1024 * 1024;
  duration linger = std::chrono::milliseconds(5);
  protocol::CompressionType compression = protocol::CompressionType::none;
  std::optional<int> compression_level;
  /// Batches of one partition in flight at once: 1 keeps order without idempotence, up to 5
  /// with it (sequence numbers keep the order across retries).
  int max_in_flight_per_partition = 5;
  /// Requests in flight at once on one broker's connection.
  int max_in_flight_per_connection = 5;
  bool idempotent = true;
  /// Makes each batch's shared result (the shell's type, with its waiters).
  std::function<std::shared_ptr<batch_result>()> make_result;
  /// Memory others hold for the batches (the shell's waiters for acknowledgements), counted
  /// against buffer_memory; it must outlive the accumulator. Null: none.
  const std::size_t* external_memory = nullptr;
};

/// A record to append; the bytes are copied into the batch.
struct record_view {
  std::int64_t timestamp = 0;
  std::optional<protocol::byte_view> key;
  std::optional<protocol::byte_view> value;
  std::span<const protocol::RecordHeader> headers;
};

enum class append_status {
  appended,   ///< in `batch` at `index`
  no_memory,  ///< a new batch is needed and buffer_memory has no room for it (or
              ///< may_allocate was false): wait for release and try again
  too_large,  ///< larger than max_request_size or buffer_memory on its own: never fits
};

struct append_result {
  append_status status = append_status::appended;
  batch* b = nullptr;
  std::int32_t index = 0;    ///< the record's offset delta in its batch
  std::size_t needed = 0;    ///< with no_memory: the bytes a new batch reserves
  std::size_t size = 0;      ///< the record's encoded size (too_large: compare to the limits)
  bool batch_closed = false; ///< a batch of this partition closed (the sticky partitioner moves on)
};

/// Where a batch's sequence stands against its partition's last acknowledged one.
enum class sequence_position {
  next,    ///< right after it: an out-of-order answer means the broker lost the sequence
  ahead,   ///< later: an earlier batch is unresolved (an out-of-order answer echoes it)
  behind,  ///< before it: the broker has moved past; this sequence can never be written
};

/// The batches for one broker, in one ProduceRequest.
struct node_batches {
  std::int32_t node = -1;
  std::vector<batch*> batches;
};

struct drain_result {
  std::vector<node_batches> requests;
  /// When something not ready now becomes ready (a linger or a backoff ends); max() if
  /// nothing is waiting on time.
  time_point next_ready = time_point::max();
  /// Topics with queued batches and no known leader for some partition: refresh metadata.
  std::vector<std::string_view> unknown_leaders;
  /// Failures while finishing batches (a compression error): each failed its batch.
  std::vector<batch*> failed;
  /// A partition has another batch sendable now: drain again (a request carries at most one
  /// batch per partition, as the broker keeps one per partition).
  bool more = false;
};

/// A time read only when it is needed: appending to an open batch reads no clock (the
/// clock read was a measurable part of a send). Implicit from a time_point (tests).
class lazy_now {
 public:
  lazy_now(time_point t) noexcept : at_(t) {}  // NOLINT: implicit by design
  explicit lazy_now(time_point (*read)() noexcept) noexcept : read_(read) {}
  time_point get() noexcept {
    if (read_ != nullptr) {
      at_ = read_();
      read_ = nullptr;
    }
    return at_;
  }

 private:
  time_point at_{};
  time_point (*read_)() noexcept = nullptr;
};

class accumulator {
 public:
  /// One partition's batches and sequence state (opaque to the shell: it only keeps
  /// pointers from queue() to skip the lookup).
  struct partition_queue {
    std::string_view topic;      ///< the key in topics_
    std::int32_t partition = 0;
    std::deque<batch*> batches;  ///< queued, oldest first; only the last may be open
    int in_flight = 0;
    std::int32_t next_sequence = 0;
    std::int32_t acked_sequence = 0;  ///< the sequence after the last acknowledged batch
    bool confirmed = false;  ///< a batch was acknowledged in this epoch (more may be in flight)
    std::uint64_t next_ordinal = 0;
    std::size_t index = 0;  ///< in queues_
  };
  explicit accumulator(accumulator_options options);
  ~accumulator();
  accumulator(const accumulator&) = delete;
  accumulator& operator=(const accumulator&) = delete;

  /// Appends to the partition's open batch or, when it is full or absent, to a new one
  /// (reserving max(max_batch_size, the record's own batch) from buffer_memory; with
  /// may_allocate false a new batch is refused as no_memory, so the caller can keep its
  /// place behind earlier waiters).
  append_result append(std::string_view topic, std::int32_t partition, const record_view& record, lazy_now now,
                       bool may_allocate = true);
  /// The same into a queue from queue() (the producer keeps them per topic: no lookup).
  append_result append(partition_queue& q, const record_view& record, lazy_now now, bool may_allocate = true);
  /// The queue of a partition, created on first use; stable until the accumulator goes.
  partition_queue& queue(std::string_view topic, std::int32_t partition) { return queue_of(topic, partition); }

  /// Closes the partition's open batch (a user-built batch follows it, or the partition goes).
  void close_open(std::string_view topic, std::int32_t partition);

  /// Queues a batch the application built (send_batch): closes the partition's open batch,
  /// takes `built`'s buffers and reserves its size. too_large when it exceeds
  /// max_request_size or buffer_memory; no_memory as append().
  append_result append_batch(std::string_view topic, std::int32_t partition, protocol::record_batch_builder& built,
                             time_point now, bool may_allocate = true);

  /// The broker refused `b` (in flight) as too large: its records go back to the
  /// partition's queue in two batches in its place, not before `not_before`; each part
  /// completes its own records in b's result. False (nothing changed) for a single record or
  /// a batch that cannot be read back. With idempotence a numbered batch leaves a gap (an
  /// epoch bump renumbers the queue).
  bool split(batch* b, time_point not_before);

  /// Takes the ready batches (at most one per partition) of partitions whose leader `leader_of` knows and whose broker
  /// has room (`node_in_flight` below max_in_flight_per_connection), at most max_request_size
  /// per broker (a batch larger than that goes alone). A batch is urgent when closed,
  /// flushing, or `exhausted` (senders wait for memory), and lingered when its linger is over;
  /// never before its backoff, and only within the partition's in-flight limit (a retried
  /// batch only when nothing of its partition is in flight, so sequences reach the broker in
  /// order). A batch that is only lingered waits while its broker has a request in flight,
  /// unless a request to that broker goes in this drain anyway (it joins it): records
  /// gather while the broker works, as Nagle's algorithm does for small segments (the
  /// broker reads one request of a connection at a time, so a small request queued behind
  /// others only waits longer, and adds work). Taken batches are finished (compressed),
  /// numbered when idempotent, and in flight.
  drain_result drain(time_point now, const std::function<std::int32_t(std::string_view, std::int32_t)>& leader_of,
                     const std::function<int(std::int32_t)>& node_in_flight, bool exhausted);

  /// The batch's response or final failure: completes its result, frees its memory. With
  /// `error` set the partition's later sequences are left to the caller (reset_sequences).
  void complete(batch* b, std::error_code error, std::string message, std::int64_t base_offset,
                std::int64_t log_append_time, std::int64_t log_start_offset);
  /// The batch goes back to its partition's queue, in sequence order, not before `not_before`;
  /// `why` is kept as its last error.
  void retry(batch* b, time_point not_before, std::string why = {});
  struct expired {
    std::size_t batches = 0;
    bool numbered = false;  ///< one had a sequence: the partition has a gap (bump the epoch)
  };
  /// Fails (with `error`) every queued batch created at or before `deadline`; in-flight ones
  /// end with their response (the shell checks their deadline then). The message is
  /// `message` plus, for a batch that was sent, its attempts and last error (or "before the
  /// batch was sent").
  expired expire(time_point deadline, std::error_code error, const std::string& message);
  /// Fails every queued batch (stop without flushing, or a fatal producer error).
  std::size_t fail_all(std::error_code error, const std::string& message);

  /// Where `b`'s sequence stands (for an OUT_OF_ORDER_SEQUENCE_NUMBER answer).
  sequence_position position_of(const batch* b) const noexcept;
  /// A numbered batch of the current epoch failed (or the shell asked): the sequences have a
  /// gap, so the producer must bump its epoch (KIP-360) once nothing is in flight, then
  /// reset_sequences().
  bool needs_epoch_bump() const noexcept { return gap_; }
  void request_epoch_bump() noexcept { gap_ = true; }
  /// The idempotent producer's identity, stamped on batches when they are first sent.
  void set_producer(std::int64_t producer_id, std::int16_t epoch) noexcept;
  std::int64_t producer_id() const noexcept { return producer_id_; }
  std::int16_t producer_epoch() const noexcept { return producer_epoch_; }
  /// After an epoch bump (KIP-360), with nothing in flight: every partition's sequences
  /// restart at 0, queued batches are numbered afresh, in order, when next sent, and the
  /// bump request clears. False (and nothing changed) while batches are in flight.
  bool reset_sequences();

  /// While > 0 every batch is ready regardless of linger (flush()).
  void begin_flush() noexcept { ++flushing_; }
  void end_flush() noexcept { --flushing_; }

  std::size_t memory_used() const noexcept { return used_; }
  /// Buffers of completed batches kept for reuse; used + spare <= buffer_memory.
  std::size_t spare_memory() const noexcept { return spare_bytes_; }
  /// Room left in buffer_memory for new batches: what the batches hold and what is charged
  /// (the shell's per-record waiters) count; either may briefly go past the budget.
  std::size_t memory_available() const noexcept {
    const std::size_t held = used_ + external();
    return held >= options_.buffer_memory ? 0 : options_.buffer_memory - held;
  }
  /// Batches not yet completed (queued or in flight).
  std::size_t incomplete() const noexcept { return live_.size(); }
  std::size_t in_flight() const noexcept { return in_flight_; }
  const accumulator_options& options() const noexcept { return options_; }

 private:
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using batch_list = std::list<std::unique_ptr<batch>>;

  partition_queue& queue_of(std::string_view topic, std::int32_t partition);
  batch* new_batch(partition_queue& q, std::size_t reserve, time_point now, bool enqueue = true);
  void finish_batch(batch* b) noexcept;
  void account_footprint(batch& b) noexcept;
  std::size_t held_by(std::size_t batch_bytes) const noexcept;
  std::size_t external() const noexcept { return options_.external_memory ? *options_.external_memory : 0; }
  /// Out of flight, or out of its queue.
  void take_out(partition_queue& q, batch* b) noexcept;
  enum class readiness { not_ready, lingered, urgent };
  readiness ready(const partition_queue& q, const batch& b, time_point now, bool exhausted, time_point& next) const;
  enum class taken { yes, no_room, failed };
  /// Moves q's front batch `b` into the request for `leader` (created when missing): finished,
  /// numbered and in flight. no_room: it does not fit that request and stays queued; failed:
  /// it could not be finished (compressed) and completed with that error (in r.failed).
  taken take(partition_queue& q, batch& b, std::int32_t leader, drain_result& r, std::vector<std::size_t>& request_bytes);

  accumulator_options options_;
  /// Per topic, its partitions' queues by partition number (created on first use).
  std::unordered_map<std::string, std::vector<std::unique_ptr<partition_queue>>, hash, std::equal_to<>> topics_;
  std::vector<partition_queue*> queues_;  ///< every queue, in creation order (drain rotates over it)
  batch_list live_;                       ///< every batch not completed; a batch's `self` points here
  batch_list spare_;                      ///< completed batches kept for their buffers
  std::size_t spare_bytes_ = 0;           ///< their reservations (what their buffers hold)
  std::size_t used_ = 0;
  std::size_t in_flight_ = 0;
  int flushing_ = 0;
  bool gap_ = false;
  std::int64_t producer_id_ = -1;
  std::int16_t producer_epoch_ = -1;
  std::size_t drain_start_ = 0;
};

}  // namespace asiokafka::producer
