// Kafka record batches (magic 2) and legacy message sets (magic 0 and 1) as zero-copy views.
//
// These are the types the consumer hands to users: a Record's key, value and headers point
// into the fetch response buffer (uncompressed batches) or into the reader's decompression
// buffer (compressed batches); RecordsReader::batch_storage() is the reference that keeps
// either alive. See docs/records.md for lifetimes and bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

#include "asiokafka/buffer.hpp"

namespace asiokafka::protocol {

/// The compression codec of a batch (attribute bits 0..2).
enum class CompressionType : std::int8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

/// The meaning of a batch's timestamps (attribute bit 3).
enum class TimestampType : std::int8_t { create_time = 0, log_append_time = 1 };

/// Attribute bits of a record batch (magic 2). Legacy messages use the first two.
namespace batch_attributes {
inline constexpr std::int16_t compression_mask = 0x07;
inline constexpr std::int16_t log_append_time = 0x08;
inline constexpr std::int16_t transactional = 0x10;
inline constexpr std::int16_t control = 0x20;
inline constexpr std::int16_t delete_horizon = 0x40;  ///< base timestamp is the delete horizon (KIP-534)
}  // namespace batch_attributes

/// Size of the fixed part of a magic 2 batch, from base offset to the record count.
inline constexpr std::size_t record_batch_header_size = 61;

using byte_view = std::span<const std::uint8_t>;

/// One record header: the key is a UTF-8 string (never null), the value may be null.
struct RecordHeader {
  std::string_view key;
  std::optional<byte_view> value;
};

namespace detail {
/// Decodes the header at `p` (already validated by the reader) and advances `p`.
RecordHeader next_header(const std::uint8_t*& p) noexcept;
}  // namespace detail

/// The headers of one record: a lazy forward range over bytes the reader has validated.
class RecordHeaders {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = RecordHeader;
    using difference_type = std::ptrdiff_t;
    using pointer = const RecordHeader*;
    using reference = const RecordHeader&;

    iterator() = default;
    iterator(const std::uint8_t* p, std::int32_t left) noexcept : next_(p), left_(left) { load(); }
    reference operator*() const noexcept { return current_; }
    pointer operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept {
      --left_;
      load();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.left_ == b.left_; }

   private:
    void load() noexcept {
      if (left_ > 0) current_ = detail::next_header(next_);
    }
    const std::uint8_t* next_ = nullptr;
    std::int32_t left_ = 0;
    RecordHeader current_{};
  };

  RecordHeaders() = default;
  RecordHeaders(const std::uint8_t* first, std::int32_t count) noexcept : first_(first), count_(count) {}
  iterator begin() const noexcept { return {first_, count_}; }
  iterator end() const noexcept { return {}; }
  std::size_t size() const noexcept { return static_cast<std::size_t>(count_); }
  bool empty() const noexcept { return count_ == 0; }

 private:
  const std::uint8_t* first_ = nullptr;
  std::int32_t count_ = 0;
};

/// One record of a batch (or one legacy message). Its views point into the bytes that
/// RecordsReader::batch_storage() keeps alive (see RecordsReader for how long they live).
struct Record {
  std::int64_t offset = 0;
  std::int64_t timestamp = -1;  ///< -1 for magic 0 messages, which have none
  std::int8_t attributes = 0;   ///< record attributes (magic 2: unused, 0)
  std::optional<byte_view> key;
  std::optional<byte_view> value;
  RecordHeaders headers;
};

/// The header of a batch as stored. A legacy message (or a compressed legacy wrapper and its
/// inner messages) is presented as a batch with magic 0 or 1, producer fields -1, and the
/// offsets and count of the messages it yields.
struct BatchInfo {
  std::int64_t base_offset = 0;
  std::int32_t batch_length = 0;
  std::int32_t partition_leader_epoch = -1;
  std::int8_t magic = 2;
  std::uint32_t crc = 0;
  std::int16_t attributes = 0;
  std::int32_t last_offset_delta = 0;
  std::int64_t base_timestamp = -1;
  std::int64_t max_timestamp = -1;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
  std::int32_t record_count = 0;
  byte_view raw;  ///< the whole batch (from base offset to its end) in the input, compressed or not

  CompressionType compression() const noexcept {
    return static_cast<CompressionType>(attributes & batch_attributes::compression_mask);
  }
  TimestampType timestamp_kind() const noexcept {
    return (attributes & batch_attributes::log_append_time) ? TimestampType::log_append_time
                                                             : TimestampType::create_time;
  }
  bool is_transactional() const noexcept { return (attributes & batch_attributes::transactional) != 0; }
  bool is_control() const noexcept { return (attributes & batch_attributes::control) != 0; }
  std::int64_t last_offset() const noexcept {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(base_offset) + static_cast<std::uint64_t>(last_offset_delta));
  }
};

/// Control record types (key field "type"); KIP-98 defines abort and commit.
enum class ControlType : std::int16_t { abort = 0, commit = 1 };

/// The key and value of a record in a control batch.
struct ControlRecord {
  std::int16_t version = 0;
  std::int16_t type = 0;               ///< ControlType for transaction markers; others exist (KRaft)
  std::int16_t value_version = 0;
  std::int32_t coordinator_epoch = -1;  ///< for abort/commit markers

  bool is_commit() const noexcept { return type == static_cast<std::int16_t>(ControlType::commit); }
  bool is_abort() const noexcept { return type == static_cast<std::int16_t>(ControlType::abort); }
};

/// Decodes the key (and, for abort/commit markers, the value) of a control batch's record.
std::error_code decode_control_record(const Record& record, ControlRecord& out) noexcept;

struct DecodeOptions {
  bool check_crc = true;
  /// Upper bound on the decompressed size of one batch's records (or one legacy wrapper).
  std::size_t max_decompressed_bytes = std::size_t{64} << 20;
};

/// Iterates the batches of a records blob (a fetch response partition's `records`, a log
/// segment, ...) and the records of each batch, lazily and without copying uncompressed data.
///
///   RecordsReader r(records_frame);
///   while (r.next_batch()) {
///     Record rec;
///     while (r.next_record(rec)) use(r.batch(), rec);
///   }
///   if (r.error()) ...;
///
/// A blob that ends in an incomplete batch (brokers cut fetch responses at the size limit)
/// yields the complete batches and stops without an error; partial_tail() tells that it
/// happened.
///
/// Lifetimes. Record views of an uncompressed batch (and BatchInfo::raw of any batch) point
/// into the input. Record views of a compressed batch point into a reference-counted
/// decompression buffer. batch_storage() returns the frame that keeps the current batch's
/// record bytes alive; holding it (or a copy) keeps every view of that batch valid and
/// unchanged after later next_batch() calls and after the reader is destroyed:
/// - built over a frame: the input's storage for an uncompressed batch, the decompression
///   buffer for a compressed one;
/// - built over a plain span: empty (no storage) for an uncompressed batch, whose views live as
///   long as the caller keeps the span's bytes; the decompression buffer for a compressed one.
/// Without a held frame, views of a compressed batch live until the next next_batch() or the
/// reader's destruction. The reader decompresses into the same buffer again only while it is
/// that buffer's only owner, and takes a new one when someone holds the old one, so reading
/// with nothing held allocates nothing per batch once the buffer has grown to the largest batch.
/// A held batch pins its whole buffer, which keeps the size of the largest batch it served.
class RecordsReader {
 public:
  /// A reader over bytes the caller keeps alive (and unchanged) for the reader's lifetime.
  explicit RecordsReader(byte_view blob, DecodeOptions options = {}) noexcept;
  /// A reader over a frame (a fetch response's storage); the reader holds a reference to it.
  explicit RecordsReader(frame blob, DecodeOptions options = {}) noexcept;

  /// Moves to the next complete batch (checking its CRC and decompressing it); false at the
  /// end of the blob, at a trailing partial batch, or on an error (error() tells).
  bool next_batch();
  const BatchInfo& batch() const noexcept { return batch_; }
  /// The next record of the current batch; false after the last one or on an error.
  bool next_record(Record& out) noexcept;

  std::error_code error() const noexcept { return ec_; }
  /// True when iteration stopped at a batch that the blob holds only part of.
  bool partial_tail() const noexcept { return partial_; }
  /// Bytes of the blob up to the end of the current (last returned) batch.
  std::size_t consumed() const noexcept { return pos_; }
  /// The storage of the current batch's record bytes (see the class comment): a frame whose
  /// bytes() are the batch (uncompressed) or its decompressed records section (compressed).
  /// Empty when there is no current batch (before the first, after the last or an error), and
  /// for an uncompressed batch of a reader built over a plain span.
  frame batch_storage() const noexcept;

 private:
  bool next_legacy_batch(std::size_t size);
  bool next_v2_batch(std::size_t size);
  bool next_legacy_record(Record& out) noexcept;
  bool fail(std::error_code ec) noexcept;

  // Where the current batch's record bytes live.
  enum class storage_kind : std::uint8_t { none, input, decompressed };

  byte_view blob_;
  shared_buffer blob_storage_;  ///< null for a reader built over a plain span
  DecodeOptions options_;
  std::size_t pos_ = 0;
  BatchInfo batch_;
  // Records section of the current batch (into blob_ or decompressed_) and iteration state.
  const std::uint8_t* cur_ = nullptr;
  const std::uint8_t* end_ = nullptr;
  std::int32_t left_ = 0;
  // Legacy: a single uncompressed message pending, or a wrapper's inner messages.
  bool legacy_single_ = false;
  std::int64_t legacy_offset_base_ = 0;  ///< added to inner offsets (v1 relative offsets)
  // Decompression output: bytes [0, decompressed_size_) of decompressed_.
  shared_buffer decompressed_;
  std::size_t decompressed_size_ = 0;
  storage_kind current_ = storage_kind::none;
  bool partial_ = false;
  std::error_code ec_;
};

/// Decodes and checks every batch and record of `blob` (CRCs, decompression within bounds,
/// record framing, headers, control records); a trailing partial batch is not an error.
/// The decoder's entry point for fuzzing.
std::error_code validate_records(byte_view blob, const DecodeOptions& options = {});

}  // namespace asiokafka::protocol
