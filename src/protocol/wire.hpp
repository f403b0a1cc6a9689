// Kafka primitive types over byte buffers: big-endian integers, (compact) strings, varints,
// array lengths and tagged-field sections. Sans-I/O: no sockets, no clocks.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "asiokafka/protocol/message_types.hpp"

namespace asiokafka::protocol {

using bytes = std::vector<std::uint8_t>;
using uuid = std::array<std::uint8_t, 16>;

/// Appends Kafka primitives to a byte vector.
class writer {
 public:
  explicit writer(bytes& out) noexcept : out_(out) {}
  /// A writer that leaves large records fields out of `out` and lists them in `gather`.
  writer(bytes& out, messages::GatheredRecords* gather) noexcept : out_(out), gather_(gather) {}

  void i8(std::int8_t v) { out_.push_back(static_cast<std::uint8_t>(v)); }
  void boolean(bool v) { i8(v ? 1 : 0); }
  void i16(std::int16_t v) { be(static_cast<std::uint16_t>(v), 2); }
  void i32(std::int32_t v) { be(static_cast<std::uint32_t>(v), 4); }
  void i64(std::int64_t v) { be(static_cast<std::uint64_t>(v), 8); }
  void u16(std::uint16_t v) { be(v, 2); }
  void u32(std::uint32_t v) { be(v, 4); }
  void f64(double v) { be(std::bit_cast<std::uint64_t>(v), 8); }
  void uuid_value(const uuid& v) { out_.insert(out_.end(), v.begin(), v.end()); }
  void uvarint(std::uint32_t v) { uvarlong(v); }
  void uvarlong(std::uint64_t v);
  /// Zig-zag signed varints (record fields).
  void varint(std::int32_t v) { uvarlong((static_cast<std::uint32_t>(v) << 1) ^ static_cast<std::uint32_t>(v >> 31)); }
  void varlong(std::int64_t v) { uvarlong((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
  /// BYTES (int32 length), COMPACT_BYTES (uvarint length+1) and their nullable forms.
  void bytes_value(std::span<const std::uint8_t> b);
  void nullable_bytes(std::optional<std::span<const std::uint8_t>> b);
  void compact_bytes(std::span<const std::uint8_t> b);
  void compact_nullable_bytes(std::optional<std::span<const std::uint8_t>> b);
  /// STRING: int16 length then bytes.
  void string(std::string_view s);
  /// NULLABLE_STRING: length -1 for null.
  void nullable_string(std::optional<std::string_view> s);
  /// COMPACT_STRING: unsigned varint length+1 then bytes.
  void compact_string(std::string_view s);
  void compact_nullable_string(std::optional<std::string_view> s);
  /// ARRAY length (int32) and COMPACT_ARRAY length (uvarint n+1); -1 / null encodes as null.
  void array_length(std::int32_t n) { i32(n); }
  void compact_array_length(std::int32_t n) { uvarint(static_cast<std::uint32_t>(n + 1)); }
  /// An empty tagged-field section of a flexible-version struct.
  void empty_tagged_fields() { uvarint(0); }
  void raw(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  /// The bytes of a records field (after its length): copied, or noted in the gather list
  /// when this writer has one and the field is large enough.
  void records_bytes(std::span<const std::uint8_t> b) {
    if (gather_ != nullptr && b.size() >= gather_->min_size) {
      gather_->segments.push_back({out_.size(), b});
    } else {
      raw(b);
    }
  }

  std::size_t size() const noexcept { return out_.size(); }
  /// Overwrites 4 bytes at `pos` with `v` (used for frame lengths written after the body).
  void patch_i32(std::size_t pos, std::int32_t v) noexcept;

 private:
  void be(std::uint64_t v, int width);
  bytes& out_;
  messages::GatheredRecords* gather_ = nullptr;
};

/// Reads Kafka primitives from a buffer with bounds checks. The first failure is sticky:
/// later reads return zero values and error() keeps the first error, so a decoder can read a
/// whole struct and check once. Views returned point into the input buffer.
class reader {
 public:
  explicit reader(std::span<const std::uint8_t> in) noexcept : in_(in) {}

  std::int8_t i8();
  bool boolean() { return i8() != 0; }
  std::int16_t i16() { return static_cast<std::int16_t>(be(2)); }
  std::int32_t i32() { return static_cast<std::int32_t>(be(4)); }
  std::int64_t i64() { return static_cast<std::int64_t>(be(8)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(be(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(be(4)); }
  double f64() { return std::bit_cast<double>(be(8)); }
  uuid uuid_value();
  std::uint32_t uvarint();
  std::uint64_t uvarlong();
  std::int32_t varint();
  std::int64_t varlong();
  /// Byte fields as views into the input (null -> nullopt).
  std::span<const std::uint8_t> bytes_value();
  std::optional<std::span<const std::uint8_t>> nullable_bytes();
  std::span<const std::uint8_t> compact_bytes();
  std::optional<std::span<const std::uint8_t>> compact_nullable_bytes();
  std::string_view string();
  std::optional<std::string_view> nullable_string();
  std::string_view compact_string();
  std::optional<std::string_view> compact_nullable_string();
  /// Array lengths: -1 means null. A count that cannot fit in the remaining bytes
  /// (at least `min_element_size` bytes each) is malformed, so callers may reserve safely.
  std::int32_t array_length(std::size_t min_element_size = 1);
  std::int32_t compact_array_length(std::size_t min_element_size = 1);
  /// Skips a tagged-field section (unknown tags are not interpreted here).
  void skip_tagged_fields();
  void skip(std::size_t n);
  /// The next `n` bytes as a view (truncated when fewer remain).
  std::span<const std::uint8_t> raw(std::size_t n);

  std::size_t remaining() const noexcept { return in_.size() - pos_; }
  bool ok() const noexcept { return !ec_; }
  std::error_code error() const noexcept { return ec_; }
  void fail(std::error_code ec) noexcept {
    if (!ec_) ec_ = ec;
  }

 private:
  std::uint64_t be(int width);
  std::string_view take_string(std::int64_t len);
  std::span<const std::uint8_t> take_bytes(std::int64_t len);
  std::uint64_t read_uvarlong(int max_bits);
  std::int32_t checked_count(std::int64_t n, std::size_t min_element_size);

  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  std::error_code ec_;
};

}  // namespace asiokafka::protocol
