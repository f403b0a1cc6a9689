#include "protocol/record_batch_builder.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "asiokafka/error.hpp"
#include "protocol/compression.hpp"
#include "protocol/crc32c.hpp"

namespace asiokafka::protocol {
namespace {

inline std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

// Bytes of the unsigned varint of v: ceil(bit_width / 7), at least 1, without a loop
// ((9 · w + 64) / 64 equals that for every width w from 1 to 64).
inline std::size_t uvar_size(std::uint64_t v) noexcept {
  return (static_cast<std::size_t>(std::bit_width(v | 1)) * 9 + 64) / 64;
}

inline std::size_t var_size(std::int64_t v) noexcept { return uvar_size(zigzag(v)); }

inline std::uint8_t* put_uvar(std::uint8_t* p, std::uint64_t v) noexcept {
  // Record fields are almost all one or two bytes long.
  if (v < 0x80) [[likely]] {
    *p = static_cast<std::uint8_t>(v);
    return p + 1;
  }
  if (v < 0x4000) [[likely]] {
    p[0] = static_cast<std::uint8_t>(v | 0x80);
    p[1] = static_cast<std::uint8_t>(v >> 7);
    return p + 2;
  }
  while (v >= 0x80) {
    *p++ = static_cast<std::uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<std::uint8_t>(v);
  return p;
}

inline std::uint8_t* put_var(std::uint8_t* p, std::int64_t v) noexcept { return put_uvar(p, zigzag(v)); }

// Copies n bytes; short copies (keys, mostly) inline with two overlapping loads and stores.
inline void copy_bytes(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) noexcept {
  if (n >= 8 && n <= 16) {
    std::uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    std::uint32_t a, b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else if (n != 0) {
    std::memcpy(dst, src, n);
  }
}

inline std::uint8_t* put_bytes(std::uint8_t* p, const std::optional<byte_view>& b) noexcept {
  if (!b) return put_var(p, -1);
  p = put_var(p, static_cast<std::int64_t>(b->size()));
  copy_bytes(p, b->data(), b->size());
  return p + b->size();
}

inline std::size_t bytes_size(const std::optional<byte_view>& b) noexcept {
  return b ? var_size(static_cast<std::int64_t>(b->size())) + b->size() : 1;
}

inline void put_be(std::uint8_t* p, std::uint64_t v, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

inline std::size_t body_size(std::int64_t timestamp_delta, std::int32_t offset_delta,
                             const std::optional<byte_view>& key, const std::optional<byte_view>& value,
                             std::span<const RecordHeader> headers) noexcept {
  std::size_t n = 1 + var_size(timestamp_delta) + var_size(offset_delta) + bytes_size(key) + bytes_size(value) +
                  var_size(static_cast<std::int64_t>(headers.size()));
  for (const auto& h : headers) {
    n += var_size(static_cast<std::int64_t>(h.key.size())) + h.key.size() + bytes_size(h.value);
  }
  return n;
}

}  // namespace

void record_batch_builder::reset(const batch_options& options, std::size_t expected_bytes) {
  options_ = options;
  count_ = 0;
  base_timestamp_ = -1;
  max_timestamp_ = -1;
  finished_ = false;
  out_.clear();
  plain_.clear();
  // Compressing, the records go to plain_; out_ grows to the codec's bound only when the
  // batch is finished (a batch that never fills never holds the full size twice).
  if (options_.compression != CompressionType::none) {
    plain_.reserve(expected_bytes);
    out_.reserve(record_batch_header_size);
  } else {
    out_.reserve(record_batch_header_size + expected_bytes);
  }
  out_.extend(record_batch_header_size);
  records_crc_ = 0;
  crc_upto_ = record_batch_header_size;
}

namespace {
// Appends are checksummed once this many bytes are pending: large enough for the folding
// CRC's speed, small enough that the bytes are still in L1 (they were just written).
constexpr std::size_t crc_chunk = 8192;
// The CRC covers the header from its attributes (offset 21) to its end.
constexpr std::size_t crc_header_start = 21;
}  // namespace

void record_batch_builder::advance_crc() noexcept {
  const std::size_t end = out_.size();
  if (end > crc_upto_) records_crc_ = crc32c(byte_view(out_.data() + crc_upto_, end - crc_upto_), records_crc_);
  crc_upto_ = end;
}

void record_batch_builder::put_crc() noexcept {
  std::uint8_t* h = out_.data();
  const std::uint32_t header_crc =
      crc32c(byte_view(h + crc_header_start, record_batch_header_size - crc_header_start));
  const std::uint32_t crc =
      crc32c_combine(header_crc, records_crc_, out_.size() - record_batch_header_size);
  put_be(h + 17, crc, 4);
}

std::size_t record_batch_builder::record_size(std::int64_t timestamp_delta, std::int32_t offset_delta,
                                            const std::optional<byte_view>& key,
                                            const std::optional<byte_view>& value,
                                            std::span<const RecordHeader> headers) noexcept {
  const std::size_t body = body_size(timestamp_delta, offset_delta, key, value, headers);
  return var_size(static_cast<std::int64_t>(body)) + body;
}

std::size_t record_batch_builder::uncompressed_size() const noexcept {
  return options_.compression == CompressionType::none ? out_.size() : record_batch_header_size + plain_.size();
}

void record_batch_builder::append(std::int64_t timestamp, const std::optional<byte_view>& key,
                                const std::optional<byte_view>& value,
                                std::span<const RecordHeader> headers) {
  if (count_ == 0) base_timestamp_ = max_timestamp_ = timestamp;
  max_timestamp_ = std::max(max_timestamp_, timestamp);
  const auto ts_delta =
      static_cast<std::int64_t>(static_cast<std::uint64_t>(timestamp) - static_cast<std::uint64_t>(base_timestamp_));
  const std::size_t body = body_size(ts_delta, count_, key, value, headers);
  std::uint8_t* p = records_buffer().extend(var_size(static_cast<std::int64_t>(body)) + body);
  p = put_var(p, static_cast<std::int64_t>(body));
  *p++ = 0;  // record attributes
  p = put_var(p, ts_delta);
  p = put_var(p, count_);
  p = put_bytes(p, key);
  p = put_bytes(p, value);
  p = put_var(p, static_cast<std::int64_t>(headers.size()));
  for (const auto& h : headers) {
    p = put_bytes(p, byte_view(reinterpret_cast<const std::uint8_t*>(h.key.data()), h.key.size()));
    p = put_bytes(p, h.value);
  }
  ++count_;
  if (options_.compression == CompressionType::none && out_.size() - crc_upto_ >= crc_chunk) advance_crc();
}

void record_batch_builder::append_control(ControlType type, std::int32_t coordinator_epoch, std::int64_t timestamp) {
  std::uint8_t key[4];
  std::uint8_t value[6];
  put_be(key, 0, 2);  // version
  put_be(key + 2, static_cast<std::uint16_t>(type), 2);
  put_be(value, 0, 2);  // version
  put_be(value + 2, static_cast<std::uint32_t>(coordinator_epoch), 4);
  append(timestamp, byte_view(key), byte_view(value));
}

std::error_code record_batch_builder::finish() {
  if (options_.compression != CompressionType::none) {
    // Compressed straight after the header: out_ needs room for the codec's bound (about
    // the records' size), which the producer's reservation for a compressing batch (twice
    // max_batch_size) covers; only the bytes written become resident.
    out_.resize_down(record_batch_header_size);
    if (auto ec = compress(options_.compression, byte_view(plain_.data(), plain_.size()), out_,
                           options_.compression_level)) {
      return ec;
    }
    records_crc_ = 0;
    crc_upto_ = record_batch_header_size;
  }
  advance_crc();
  std::uint8_t* h = out_.data();
  std::int16_t attributes = static_cast<std::int16_t>(options_.compression);
  if (options_.timestamps == TimestampType::log_append_time) attributes |= batch_attributes::log_append_time;
  if (options_.transactional) attributes |= batch_attributes::transactional;
  if (options_.control) attributes |= batch_attributes::control;
  put_be(h, static_cast<std::uint64_t>(options_.base_offset), 8);
  put_be(h + 8, out_.size() - 12, 4);
  put_be(h + 12, static_cast<std::uint32_t>(options_.partition_leader_epoch), 4);
  h[16] = 2;  // magic
  put_be(h + 21, static_cast<std::uint16_t>(attributes), 2);
  put_be(h + 23, static_cast<std::uint32_t>(count_ - 1), 4);  // last offset delta (-1 when empty)
  put_be(h + 27, static_cast<std::uint64_t>(base_timestamp_), 8);
  put_be(h + 35, static_cast<std::uint64_t>(max_timestamp_), 8);
  put_be(h + 43, static_cast<std::uint64_t>(options_.producer_id), 8);
  put_be(h + 51, static_cast<std::uint16_t>(options_.producer_epoch), 2);
  put_be(h + 53, static_cast<std::uint32_t>(options_.base_sequence), 4);
  put_be(h + 57, static_cast<std::uint32_t>(count_), 4);
  put_crc();
  finished_ = true;
  return {};
}

void record_batch_builder::stamp(std::int64_t producer_id, std::int16_t producer_epoch,
                                 std::int32_t base_sequence) noexcept {
  options_.producer_id = producer_id;
  options_.producer_epoch = producer_epoch;
  options_.base_sequence = base_sequence;
  if (!finished_) return;
  std::uint8_t* h = out_.data();
  put_be(h + 43, static_cast<std::uint64_t>(producer_id), 8);
  put_be(h + 51, static_cast<std::uint16_t>(producer_epoch), 2);
  put_be(h + 53, static_cast<std::uint32_t>(base_sequence), 4);
  put_crc();
}

}  // namespace asiokafka::protocol
