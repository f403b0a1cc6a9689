// Fuzzes protocol::reader: the input is a stream of opcodes and operands read by the same
// reader, so every primitive is exercised at every offset and in every combination.
// Checks: nothing is read out of bounds (ASan), remaining() never grows, views point into the
// input, a failure is sticky and zeroes later reads, array counts are bounded by the bytes
// left, and every value decoded without error re-encodes (writer) and decodes to itself.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

#include "fuzz_check.hpp"
#include "protocol/wire.hpp"

namespace {

using asiokafka::fuzz::inside;
using asiokafka::protocol::bytes;
using asiokafka::protocol::reader;
using asiokafka::protocol::uuid;
using asiokafka::protocol::writer;

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Encodes with `encode`, reads back with `decode` and checks the whole buffer was consumed
// and `equal(decoded)` holds.
template <class Encode, class Decode, class Equal>
void round_trip(Encode encode, Decode decode, Equal equal) {
  bytes out;
  writer w(out);
  encode(w);
  reader again(out);
  const auto got = decode(again);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.remaining() == 0);
  FUZZ_CHECK(equal(got));
}

template <class T, class Encode, class Decode>
void value_round_trip(const T& v, Encode encode, Decode decode) {
  round_trip([&](writer& w) { (w.*encode)(v); }, [&](reader& r) { return (r.*decode)(); },
             [&](const T& got) { return got == v; });
}

void check_view(std::span<const std::uint8_t> in, std::span<const std::uint8_t> v) {
  FUZZ_CHECK(inside(in, v));
}
void check_view(std::span<const std::uint8_t> in, std::string_view v) { FUZZ_CHECK(inside(in, v)); }

void step(reader& r, std::span<const std::uint8_t> in, std::uint8_t op) {
  const std::size_t before = r.remaining();
  switch (op % 23) {
    case 0: { auto v = r.i8(); if (r.ok()) value_round_trip(v, &writer::i8, &reader::i8); break; }
    case 1: { auto v = r.boolean(); if (r.ok()) value_round_trip(v, &writer::boolean, &reader::boolean); break; }
    case 2: { auto v = r.i16(); if (r.ok()) value_round_trip(v, &writer::i16, &reader::i16); break; }
    case 3: { auto v = r.i32(); if (r.ok()) value_round_trip(v, &writer::i32, &reader::i32); break; }
    case 4: { auto v = r.i64(); if (r.ok()) value_round_trip(v, &writer::i64, &reader::i64); break; }
    case 5: { auto v = r.u16(); if (r.ok()) value_round_trip(v, &writer::u16, &reader::u16); break; }
    case 6: { auto v = r.u32(); if (r.ok()) value_round_trip(v, &writer::u32, &reader::u32); break; }
    case 7: {  // doubles compare by bit pattern (NaN != NaN)
      const double v = r.f64();
      if (r.ok()) {
        round_trip([&](writer& w) { w.f64(v); }, [](reader& x) { return x.i64(); },
                   [&](std::int64_t bits) { return bits == std::bit_cast<std::int64_t>(v); });
      }
      break;
    }
    case 8: {
      const uuid v = r.uuid_value();
      if (r.ok()) value_round_trip(v, &writer::uuid_value, &reader::uuid_value);
      break;
    }
    case 9: { auto v = r.uvarint(); if (r.ok()) value_round_trip(v, &writer::uvarint, &reader::uvarint); break; }
    case 10: { auto v = r.uvarlong(); if (r.ok()) value_round_trip(v, &writer::uvarlong, &reader::uvarlong); break; }
    case 11: { auto v = r.varint(); if (r.ok()) value_round_trip(v, &writer::varint, &reader::varint); break; }
    case 12: { auto v = r.varlong(); if (r.ok()) value_round_trip(v, &writer::varlong, &reader::varlong); break; }
    case 13: {
      const auto v = r.bytes_value();
      check_view(in, v);
      if (r.ok()) {
        round_trip([&](writer& w) { w.bytes_value(v); }, [](reader& x) { return x.bytes_value(); },
                   [&](std::span<const std::uint8_t> got) { return same(got, v); });
      }
      break;
    }
    case 14: {
      const auto v = r.nullable_bytes();
      if (v) check_view(in, *v);
      if (r.ok()) {
        round_trip([&](writer& w) { w.nullable_bytes(v); }, [](reader& x) { return x.nullable_bytes(); },
                   [&](const std::optional<std::span<const std::uint8_t>>& got) {
                     return got.has_value() == v.has_value() && (!v || same(*got, *v));
                   });
      }
      break;
    }
    case 15: {
      const auto v = r.compact_bytes();
      check_view(in, v);
      if (r.ok()) {
        round_trip([&](writer& w) { w.compact_bytes(v); }, [](reader& x) { return x.compact_bytes(); },
                   [&](std::span<const std::uint8_t> got) { return same(got, v); });
      }
      break;
    }
    case 16: {
      const auto v = r.compact_nullable_bytes();
      if (v) check_view(in, *v);
      if (r.ok()) {
        round_trip([&](writer& w) { w.compact_nullable_bytes(v); },
                   [](reader& x) { return x.compact_nullable_bytes(); },
                   [&](const std::optional<std::span<const std::uint8_t>>& got) {
                     return got.has_value() == v.has_value() && (!v || same(*got, *v));
                   });
      }
      break;
    }
    case 17: {
      const auto v = r.string();
      check_view(in, v);
      if (r.ok()) value_round_trip(v, &writer::string, &reader::string);
      break;
    }
    case 18: {
      const auto v = r.nullable_string();
      if (v) check_view(in, *v);
      if (r.ok()) value_round_trip(v, &writer::nullable_string, &reader::nullable_string);
      break;
    }
    case 19: {
      const auto v = r.compact_string();
      check_view(in, v);
      if (r.ok()) value_round_trip(v, &writer::compact_string, &reader::compact_string);
      break;
    }
    case 20: {
      const auto v = r.compact_nullable_string();
      if (v) check_view(in, *v);
      if (r.ok()) value_round_trip(v, &writer::compact_nullable_string, &reader::compact_nullable_string);
      break;
    }
    case 21: {
      // The minimum element size comes from the input too (0..7; 0 means "unchecked").
      const std::size_t min_size = op / 23 % 8;
      const bool compact = (op & 0x80) != 0;
      const std::size_t left = r.remaining();
      const std::int32_t n = compact ? r.compact_array_length(min_size) : r.array_length(min_size);
      if (r.ok()) {
        FUZZ_CHECK(n >= -1);
        if (n > 0) FUZZ_CHECK(static_cast<std::uint64_t>(n) * min_size <= r.remaining());
        FUZZ_CHECK(r.remaining() < left);
      } else {
        FUZZ_CHECK(n == 0);
      }
      break;
    }
    case 22:
      if (op & 0x80) {  // raw(n) for a small n taken from the opcode
        const std::size_t n = op & 0x0f;
        const std::size_t left = r.remaining();
        const auto v = r.raw(n);
        check_view(in, v);
        FUZZ_CHECK(r.ok() ? v.size() == n && r.remaining() == left - n : v.empty());
      } else {
        r.skip_tagged_fields();
      }
      break;
    default:
      break;
  }
  FUZZ_CHECK(r.remaining() <= before);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  reader r(in);
  // Each opcode byte is itself read through the reader, so opcodes and operands interleave.
  while (r.ok() && r.remaining() > 0) {
    const auto op = static_cast<std::uint8_t>(r.i8());
    step(r, in, op);
  }
  if (!r.ok()) {
    // A failure is sticky: later reads return zero values and keep the first error.
    const std::error_code first = r.error();
    const std::size_t left = r.remaining();
    FUZZ_CHECK(r.i64() == 0 && r.uvarint() == 0 && r.string().empty() && r.compact_bytes().empty());
    FUZZ_CHECK(r.array_length() == 0);
    r.skip(1);
    FUZZ_CHECK(r.error() == first && r.remaining() == left);
  }
  return 0;
}
