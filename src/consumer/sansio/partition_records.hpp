// One partition of a fetch response turned into the records the application gets, sans-I/O.
//
// decode_partition() walks the partition's record batches once, without copying record bytes,
// and returns the records at or after the fetch position in offset order together with the
// position to fetch from next and the partition's fields. The rules (the Java client's, KIP-98
// for transactions):
// - Records below the fetch position are skipped: a batch may start before it (compressed
//   batches, legacy wrappers), and a record's offset never goes backwards.
// - Control batches (transaction markers) are never returned.
// - read_committed: the response lists (producer id, first offset) of aborted transactions
//   overlapping the fetched range. Going through the batches in order, a transaction becomes
//   "open aborted" for its producer once a batch reaches its first offset (the batch's last
//   offset >= first offset); transactional data batches of a producer with an open aborted
//   transaction are dropped whole; that producer's ABORT marker (a control batch whose first
//   record is an abort) closes it. Batches without a producer id (-1) are never dropped.
//   read_uncommitted ignores the list.
// - The next position is the last offset of the last complete batch + 1, whether that batch
//   was returned, skipped as control or dropped as aborted: otherwise the consumer would fetch
//   the same markers forever. It never moves backwards. An empty records field or a partial
//   batch alone leaves it where it was.
// - Errors in the data (CRC mismatch with check_crcs, bad lengths, decompression failure, a
//   partial batch alone) stop decoding: the records decoded before stay in the result, and
//   `error` says what went wrong at `error_offset` (= next_offset, where delivery stops), so
//   the caller delivers those records first and then raises, as the Java client does.
// - The partition's error code and hints (high watermark, LSO, log start, preferred read
//   replica, diverging epoch, current leader) are copied out, never acted on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "asiokafka/buffer.hpp"
#include "asiokafka/consumer_record.hpp"
#include "asiokafka/protocol/messages/fetch.hpp"

namespace asiokafka::consumer {

/// How to decode one partition of a fetch response.
struct partition_fetch_params {
  /// The topic name the records view. Every record of the fetch shares this one string.
  std::shared_ptr<const std::string> topic;
  std::int32_t partition = 0;
  /// The offset the fetch asked from (the consumer's position when it sent the request).
  std::int64_t fetch_offset = 0;
  /// ConsumerConfig::isolation_level == IsolationLevel::read_committed (the config header
  /// brings Asio, which this layer may not include).
  bool read_committed = false;
  /// ConsumerConfig::check_crcs: check each batch's CRC32C (legacy messages: CRC32).
  bool check_crcs = true;
  /// The partition_max_bytes the request asked with; 0 if unknown. Only used to say, when
  /// the response holds nothing but part of one batch, whether that batch exceeds it.
  std::int32_t partition_max_bytes = 0;
  /// Bound on one batch's decompressed records (protocol::DecodeOptions).
  std::size_t max_decompressed_bytes = std::size_t{64} << 20;
};

/// A diverging epoch (KIP-320): the broker's log diverges from what the consumer fetched.
struct diverging_epoch {
  std::int32_t epoch = -1;
  std::int64_t end_offset = -1;
};

/// A leader hint sent with NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH (KIP-951).
struct leader_hint {
  std::int32_t leader_id = -1;
  std::int32_t leader_epoch = -1;
};

/// What one partition of a fetch response yields.
struct partition_fetch_result {
  /// The records to hand to the application, in offset order. Each holds its bytes (see
  /// ConsumerRecord): the response frame for uncompressed batches, its batch's decompression
  /// buffer for compressed ones; they share one reference per batch, not one per record.
  ConsumerRecords records;
  /// The position to fetch from next (>= the fetch offset).
  std::int64_t next_offset = 0;
  /// The leader epoch of the last complete batch passed, for the next fetch's
  /// last_fetched_epoch (KIP-320); -1 when that batch has none (magic 0 and 1) or when no
  /// batch was passed (then the caller keeps the epoch it had).
  std::int32_t next_offset_epoch = -1;
  /// Complete batches passed (returned, skipped or dropped), and whether the data ended in an
  /// incomplete one (normal: brokers cut responses at the size limit).
  std::size_t batches = 0;
  bool partial_tail = false;
  /// Bytes the records pin: this partition's part of the response (if a record points into
  /// it) plus the decompression buffers records point into. For the consumer's memory budget.
  std::size_t retained_bytes = 0;

  /// Set when decoding stopped at bad data: client_errc::crc_mismatch, corrupt_record,
  /// unsupported_compression or decompressed_too_large; or, when the data is a single partial
  /// batch (nothing complete), kafka_errc::message_too_large if that batch is larger than the
  /// fetch size (or the fetch size is unknown), client_errc::corrupt_record if it would have
  /// fitted. The caller delivers `records`, then raises `error` with `error_message` (which
  /// names topic-partition and offset) at `error_offset`; it must not silently fetch again
  /// from next_offset, which returns the same bytes. For message_too_large the application
  /// may raise max_partition_fetch_bytes (brokers before Fetch v3 never return a batch larger
  /// than asked) or seek past the offset; since KIP-74 (Fetch v3) brokers always return the
  /// first batch whole, so there it means a broken broker or corrupt data.
  std::error_code error;
  std::int64_t error_offset = -1;
  std::string error_message;

  /// The partition's own fields as the broker sent them.
  std::error_code partition_error;  ///< from error_code (kafka category); no error for 0
  std::int64_t high_watermark = -1;
  std::int64_t last_stable_offset = -1;
  std::int64_t log_start_offset = -1;
  std::int32_t preferred_read_replica = -1;  ///< KIP-392; -1: fetch from the leader
  /// Present when the broker reports a diverging epoch (epoch >= 0): truncation detection.
  std::optional<diverging_epoch> diverging;
  /// Present when the broker names a new leader (id and epoch both >= 0).
  std::optional<leader_hint> current_leader;
};

/// Decodes `data`, one partition of the fetch response whose storage is `response` (the
/// records field must view bytes of it). `response` may be an empty frame (tests): then
/// uncompressed records view bytes the caller keeps alive. See the file comment for the rules.
partition_fetch_result decode_partition(const partition_fetch_params& params,
                                        const protocol::messages::FetchResponse::PartitionData& data,
                                        const frame& response);

}  // namespace asiokafka::consumer
