// Admin: a partition's records and leaders (list_offsets, delete_records, elect_leaders).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "asiokafka/admin/common.hpp"
#include "asiokafka/consumer_config.hpp"
#include "asiokafka/metadata.hpp"

namespace asiokafka {

/// Which offset list_offsets looks up for a partition. Not an aggregate (build it with the
/// named constructors), so `OffsetSpec::latest()` is safe inside `co_await` on GCC 12.
class OffsetSpec {
 public:
  enum class Kind : std::int8_t {
    earliest,       ///< The log start offset (the first record still kept).
    latest,         ///< The high watermark (or, read_committed, the last stable offset).
    max_timestamp,  ///< The record with the largest timestamp (KIP-734, ListOffsets v7, Kafka 3.0+).
    timestamp,      ///< The first record whose timestamp is at or after a time.
  };

  static OffsetSpec earliest() noexcept { return OffsetSpec(Kind::earliest, -2); }
  static OffsetSpec latest() noexcept { return OffsetSpec(Kind::latest, -1); }
  static OffsetSpec max_timestamp() noexcept { return OffsetSpec(Kind::max_timestamp, -3); }
  /// The first record with a timestamp at or after `ms` (milliseconds since the epoch, >= 0).
  static OffsetSpec at(std::int64_t ms) noexcept { return OffsetSpec(Kind::timestamp, ms); }

  Kind kind() const noexcept { return kind_; }
  /// The time asked for (Kind::timestamp), or ListOffsets' code for the others (-2, -1, -3).
  std::int64_t timestamp() const noexcept { return timestamp_; }
  friend bool operator==(const OffsetSpec&, const OffsetSpec&) = default;

 private:
  OffsetSpec(Kind k, std::int64_t t) noexcept : kind_(k), timestamp_(t) {}
  Kind kind_;
  std::int64_t timestamp_;
};

struct ListOffsetsOptions {
  /// read_committed: `latest` is the last stable offset (transactions still open are not
  /// counted), as a read_committed consumer sees the log.
  IsolationLevel isolation = IsolationLevel::read_uncommitted;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One partition of list_offsets.
struct ListOffsetsResult : AdminItemResult {
  TopicPartition topic_partition;
  /// The offset found; -1 when no record matches (a time after the last record's).
  std::int64_t offset = -1;
  /// The matching record's timestamp (max_timestamp, at()); -1 for earliest and latest.
  std::int64_t timestamp = -1;
  /// The leader epoch of the record (or of the log end), when the broker knows it.
  std::optional<std::int32_t> leader_epoch;
};

struct DeleteRecordsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One partition of delete_records.
struct DeleteRecordsResult : AdminItemResult {
  TopicPartition topic_partition;
  /// The partition's log start offset after the deletion (-1 when it failed).
  std::int64_t low_watermark = -1;
};

/// ElectLeaders' election type (valued as on the wire).
enum class ElectionType : std::int8_t {
  preferred = 0,  ///< Move leadership back to the first replica of the assignment, if in sync.
  unclean = 1,    ///< Elect an out-of-sync replica for a partition without a leader (may lose data).
};

struct ElectLeadersOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One partition of elect_leaders. ELECTION_NOT_NEEDED (kafka_errc::election_not_needed):
/// the partition already has the leader the election would choose.
struct ElectLeadersResult : AdminItemResult {
  TopicPartition topic_partition;
};

}  // namespace asiokafka
