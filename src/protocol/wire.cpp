#include "protocol/wire.hpp"

#include <algorithm>

#include "asiokafka/error.hpp"

namespace asiokafka::protocol {

void writer::be(std::uint64_t v, int width) {
  for (int shift = (width - 1) * 8; shift >= 0; shift -= 8) {
    out_.push_back(static_cast<std::uint8_t>(v >> shift));
  }
}

void writer::uvarlong(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<std::uint8_t>(v));
}

void writer::string(std::string_view s) {
  i16(static_cast<std::int16_t>(s.size()));
  out_.insert(out_.end(), s.begin(), s.end());
}

void writer::nullable_string(std::optional<std::string_view> s) {
  if (!s) return i16(-1);
  string(*s);
}

void writer::compact_string(std::string_view s) {
  uvarint(static_cast<std::uint32_t>(s.size() + 1));
  out_.insert(out_.end(), s.begin(), s.end());
}

void writer::compact_nullable_string(std::optional<std::string_view> s) {
  if (!s) return uvarint(0);
  compact_string(*s);
}

void writer::bytes_value(std::span<const std::uint8_t> b) {
  i32(static_cast<std::int32_t>(b.size()));
  raw(b);
}

void writer::nullable_bytes(std::optional<std::span<const std::uint8_t>> b) {
  if (!b) return i32(-1);
  bytes_value(*b);
}

void writer::compact_bytes(std::span<const std::uint8_t> b) {
  uvarint(static_cast<std::uint32_t>(b.size() + 1));
  raw(b);
}

void writer::compact_nullable_bytes(std::optional<std::span<const std::uint8_t>> b) {
  if (!b) return uvarint(0);
  compact_bytes(*b);
}

void writer::patch_i32(std::size_t pos, std::int32_t v) noexcept {
  const auto u = static_cast<std::uint32_t>(v);
  for (int i = 0; i < 4; ++i) out_[pos + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(u >> (24 - 8 * i));
}

std::uint64_t reader::be(int width) {
  if (ec_) return 0;
  if (remaining() < static_cast<std::size_t>(width)) {
    fail(client_errc::truncated);
    return 0;
  }
  std::uint64_t v = 0;
  for (int i = 0; i < width; ++i) v = (v << 8) | in_[pos_++];
  return v;
}

std::int8_t reader::i8() { return static_cast<std::int8_t>(be(1)); }

std::uint64_t reader::read_uvarlong(int max_bits) {
  if (ec_) return 0;
  std::uint64_t v = 0;
  for (int shift = 0; shift < max_bits; shift += 7) {
    if (remaining() == 0) {
      fail(client_errc::truncated);
      return 0;
    }
    const std::uint8_t b = in_[pos_++];
    // The last byte may only carry the bits that still fit.
    if (max_bits - shift < 7 && (b >> (max_bits - shift)) != 0) break;
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  fail(client_errc::malformed);
  return 0;
}

std::uint32_t reader::uvarint() { return static_cast<std::uint32_t>(read_uvarlong(32)); }
std::uint64_t reader::uvarlong() { return read_uvarlong(64); }

std::int32_t reader::varint() {
  const std::uint32_t u = uvarint();
  return static_cast<std::int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

std::int64_t reader::varlong() {
  const std::uint64_t u = uvarlong();
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

uuid reader::uuid_value() {
  uuid v{};
  const auto b = take_bytes(16);
  if (b.size() == 16) std::copy(b.begin(), b.end(), v.begin());
  return v;
}

std::span<const std::uint8_t> reader::take_bytes(std::int64_t len) {
  if (ec_) return {};
  if (len < 0) {
    fail(client_errc::malformed);
    return {};
  }
  if (static_cast<std::uint64_t>(len) > remaining()) {
    fail(client_errc::truncated);
    return {};
  }
  const auto out = in_.subspan(pos_, static_cast<std::size_t>(len));
  pos_ += static_cast<std::size_t>(len);
  return out;
}

std::span<const std::uint8_t> reader::bytes_value() { return take_bytes(i32()); }

std::optional<std::span<const std::uint8_t>> reader::nullable_bytes() {
  const std::int32_t len = i32();
  if (ec_) return std::span<const std::uint8_t>{};
  if (len == -1) return std::nullopt;
  return take_bytes(len);
}

std::span<const std::uint8_t> reader::compact_bytes() {
  const std::uint32_t n = uvarint();
  if (ec_) return {};
  if (n == 0) {
    fail(client_errc::malformed);
    return {};
  }
  return take_bytes(static_cast<std::int64_t>(n) - 1);
}

std::optional<std::span<const std::uint8_t>> reader::compact_nullable_bytes() {
  const std::uint32_t n = uvarint();
  if (ec_) return std::span<const std::uint8_t>{};
  if (n == 0) return std::nullopt;
  return take_bytes(static_cast<std::int64_t>(n) - 1);
}

std::string_view reader::take_string(std::int64_t len) {
  const auto raw = take_bytes(len);  // the same checks: negative is malformed, short is truncated
  return {reinterpret_cast<const char*>(raw.data()), raw.size()};
}

std::string_view reader::string() { return take_string(i16()); }

std::optional<std::string_view> reader::nullable_string() {
  const std::int16_t len = i16();
  if (ec_) return std::string_view{};
  if (len == -1) return std::nullopt;
  return take_string(len);
}

std::string_view reader::compact_string() {
  const std::uint32_t n = uvarint();
  if (ec_) return {};
  if (n == 0) {
    fail(client_errc::malformed);  // null where a non-null string is required
    return {};
  }
  return take_string(static_cast<std::int64_t>(n) - 1);
}

std::optional<std::string_view> reader::compact_nullable_string() {
  const std::uint32_t n = uvarint();
  if (ec_) return std::string_view{};
  if (n == 0) return std::nullopt;
  return take_string(static_cast<std::int64_t>(n) - 1);
}

std::int32_t reader::checked_count(std::int64_t n, std::size_t min_element_size) {
  if (ec_) return 0;
  if (n == -1) return -1;
  if (n < 0 || n > INT32_MAX) {  // a compact count can exceed int32 (found by fuzz/wire_reader)
    fail(client_errc::malformed);
    return 0;
  }
  if (static_cast<std::uint64_t>(n) * min_element_size > remaining()) {
    fail(client_errc::truncated);
    return 0;
  }
  return static_cast<std::int32_t>(n);
}

std::int32_t reader::array_length(std::size_t min_element_size) {
  return checked_count(i32(), min_element_size);
}

std::int32_t reader::compact_array_length(std::size_t min_element_size) {
  const std::uint32_t n = uvarint();
  return checked_count(static_cast<std::int64_t>(n) - 1, min_element_size);
}

void reader::skip(std::size_t n) {
  if (ec_) return;
  if (n > remaining()) return fail(client_errc::truncated);
  pos_ += n;
}

std::span<const std::uint8_t> reader::raw(std::size_t n) {
  if (n > remaining()) {
    fail(client_errc::truncated);
    return {};
  }
  return take_bytes(static_cast<std::int64_t>(n));
}

void reader::skip_tagged_fields() {
  const std::int32_t count = checked_count(uvarint(), 2);
  for (std::int32_t i = 0; i < count && ok(); ++i) {
    uvarint();  // tag
    skip(uvarint());
  }
}

}  // namespace asiokafka::protocol
