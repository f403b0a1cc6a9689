// Encoder of Kafka record batches (magic 2), used by the producer. Sans-I/O.
//
// One pass: the 61-byte header is reserved, records are appended as they come (each record's
// size is computed arithmetically first, so its length prefix is written before its body),
// and finish() compresses the records section if asked, then patches the length, counts,
// timestamps and CRC32C. Buffers are kept across reset() so a producer reuses them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <system_error>

#include "asiokafka/protocol/records.hpp"
#include "protocol/byte_buffer.hpp"
#include "protocol/wire.hpp"

namespace asiokafka::protocol {

struct batch_options {
  CompressionType compression = CompressionType::none;
  std::optional<int> compression_level;  ///< nullopt: the codec's default
  std::int64_t base_offset = 0;          ///< 0 for produce; the broker assigns offsets
  std::int32_t partition_leader_epoch = -1;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
  bool transactional = false;
  bool control = false;
  TimestampType timestamps = TimestampType::create_time;
};

class record_batch_builder {
 public:
  record_batch_builder() { reset({}); }
  /// Starts a new, empty batch; keeps the buffers' capacity.
  void reset(const batch_options& options, std::size_t expected_bytes = 0);

  /// Appends a record; its offset delta is the number of records appended before it.
  void append(std::int64_t timestamp, const std::optional<byte_view>& key, const std::optional<byte_view>& value,
              std::span<const RecordHeader> headers = {});
  /// Appends a transaction marker (the batch should have control and transactional set).
  void append_control(ControlType type, std::int32_t coordinator_epoch, std::int64_t timestamp);

  /// The bytes a record would add to the uncompressed batch (length prefix included).
  static std::size_t record_size(std::int64_t timestamp_delta, std::int32_t offset_delta,
                                 const std::optional<byte_view>& key, const std::optional<byte_view>& value,
                                 std::span<const RecordHeader> headers) noexcept;

  /// An upper bound of what the record adds to any batch at `offset_delta`, whatever its
  /// timestamp: record_size with a zero delta plus the longest varint a real delta adds.
  static std::size_t record_size_bound(std::int32_t offset_delta, const std::optional<byte_view>& key,
                                       const std::optional<byte_view>& value,
                                       std::span<const RecordHeader> headers) noexcept {
    return record_size(0, offset_delta, key, value, headers) + 10;
  }

  std::int32_t record_count() const noexcept { return count_; }
  /// Size of the batch so far, uncompressed, header included.
  std::size_t uncompressed_size() const noexcept;

  /// Compresses (if configured) and patches the header. The batch is data() until reset().
  std::error_code finish();
  /// Sets the idempotent producer's fields (producer id, epoch, base sequence). After
  /// finish() it rewrites them in data() and recomputes the CRC, without compressing again:
  /// a producer numbers a batch when it first sends it and renumbers it after an epoch bump.
  void stamp(std::int64_t producer_id, std::int16_t producer_epoch, std::int32_t base_sequence) noexcept;
  bool finished() const noexcept { return finished_; }
  /// The memory its buffers hold (their capacities): what a producer accounts for it.
  std::size_t footprint() const noexcept { return out_.capacity() + plain_.capacity(); }
  std::span<const std::uint8_t> data() const noexcept { return {out_.data(), out_.size()}; }

 private:
  byte_buffer& records_buffer() noexcept { return options_.compression == CompressionType::none ? out_ : plain_; }

  batch_options options_;
  byte_buffer out_;     ///< the batch: header, then records (compressed or not)
  byte_buffer plain_;   ///< uncompressed records when compressing
  std::int32_t count_ = 0;
  std::int64_t base_timestamp_ = -1;
  std::int64_t max_timestamp_ = -1;
  bool finished_ = false;
  /// CRC32C of the records region (what follows the 61-byte header), without the header:
  /// for an uncompressed batch kept up to date while appending, a chunk at a time while the
  /// bytes are still in cache; the header's CRC is combined with it (crc32c_combine), so
  /// stamp() re-reads 40 bytes, not the batch.
  std::uint32_t records_crc_ = 0;
  std::size_t crc_upto_ = 0;  ///< out_ offset up to which records_crc_ covers (uncompressed)
  void advance_crc() noexcept;
  void put_crc() noexcept;
};

}  // namespace asiokafka::protocol
