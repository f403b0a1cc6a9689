// Seeds of the wire_reader target (fuzz/corpus/wire_reader): a stream of opcodes, each followed
// by its operand, read by one protocol::reader (fuzz/wire_reader.cpp). Opcode k % 23 selects the
// primitive: 0 i8, 1 boolean, 2 i16, 3 i32, 4 i64, 5 u16, 6 u32, 7 f64, 8 uuid, 9 uvarint,
// 10 uvarlong, 11 varint, 12 varlong, 13 bytes, 14 nullable bytes, 15 compact bytes, 16 compact
// nullable bytes, 17 string, 18 nullable string, 19 compact string, 20 compact nullable string,
// 21 array length (opcode / 23 % 8 is the minimum element size, bit 7 compact), 22 tagged fields
// (bit 7: raw(opcode & 15) instead).
// One seed per family of primitives with their boundary values (varints of every length,
// null and empty forms, NaN and infinities), array counts, tagged fields, one of every opcode,
// and the ways a read fails (truncated values, overlong varints, lengths past the end).
#include <cmath>
#include <limits>

#include "corpus.hpp"
#include "protocol/wire.hpp"

namespace asiokafka::corpus {
namespace {

using protocol::writer;

constexpr std::uint8_t array_op(unsigned min_size, bool compact) {
  // 21 + 23 * j: j % 8 is the minimum size; opcodes 136 and above have bit 7 set.
  for (unsigned j = 0; j < 11; ++j) {
    const unsigned op = 21 + 23 * j;
    if (j % 8 == min_size && ((op & 0x80) != 0) == compact) return static_cast<std::uint8_t>(op);
  }
  return 21;
}
constexpr std::uint8_t raw_op(unsigned n) {  // 22 + 23 * j with bit 7 set and n in the low bits
  for (unsigned j = 0; j < 11; ++j) {
    const unsigned op = 22 + 23 * j;
    if ((op & 0x80) && (op & 0x0f) == n) return static_cast<std::uint8_t>(op);
  }
  return 22;
}

class ops {
 public:
  ops& op(std::uint8_t code) {
    w_.i8(static_cast<std::int8_t>(code));
    return *this;
  }
  writer& w() { return w_; }
  const bytes& data() const { return out_; }

 private:
  bytes out_;
  writer w_{out_};
};

}  // namespace

void make_wire_reader_seeds(target_dir& out) {
  const auto abc = as_bytes("abc");
  {
    ops o;
    for (const std::int8_t v : {std::int8_t{0}, std::int8_t{-128}, std::int8_t{127}}) o.op(0).w().i8(v);
    for (const int v : {0, 1, 2, 255}) o.op(1).w().i8(static_cast<std::int8_t>(v));  // 2, 255: true
    for (const std::int16_t v : {std::int16_t{-1}, std::int16_t{32767}}) o.op(2).w().i16(v);
    for (const std::int32_t v : {std::numeric_limits<std::int32_t>::min(), 1}) o.op(3).w().i32(v);
    for (const std::int64_t v : {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1}}) o.op(4).w().i64(v);
    o.op(5).w().u16(65535);
    o.op(6).w().u32(0xffffffffu);
    out.add("fixed-width", o.data());
  }
  {
    ops o;
    for (const double v : {0.0, -0.0, 1.5, std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::denorm_min()}) {
      o.op(7).w().f64(v);
    }
    o.op(8).w().uuid_value({});
    o.op(8).w().uuid_value({0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8});
    out.add("float-and-uuid", o.data());
  }
  {
    ops o;  // every encoded length of each varint kind
    for (const std::uint32_t v : {0u, 127u, 128u, 16383u, 16384u, 2097152u, 268435456u, 0xffffffffu}) {
      o.op(9).w().uvarint(v);
    }
    for (int shift = 0; shift < 64; shift += 7) o.op(10).w().uvarlong(std::uint64_t{1} << shift);
    o.op(10).w().uvarlong(std::numeric_limits<std::uint64_t>::max());
    for (const std::int32_t v : {0, -1, 1, -64, 64, std::numeric_limits<std::int32_t>::min(),
                                 std::numeric_limits<std::int32_t>::max()}) {
      o.op(11).w().varint(v);
    }
    for (const std::int64_t v : {std::int64_t{-1}, std::numeric_limits<std::int64_t>::min(),
                                 std::numeric_limits<std::int64_t>::max()}) {
      o.op(12).w().varlong(v);
    }
    out.add("varints", o.data());
  }
  {
    ops o;  // each byte and string form: value, empty, null
    o.op(13).w().bytes_value(abc);
    o.op(13).w().bytes_value({});
    o.op(14).w().nullable_bytes(std::nullopt);
    o.op(14).w().nullable_bytes(abc);
    o.op(15).w().compact_bytes(abc);
    o.op(15).w().compact_bytes({});
    o.op(16).w().compact_nullable_bytes(std::nullopt);
    o.op(16).w().compact_nullable_bytes(abc);
    o.op(17).w().string("topic");
    o.op(17).w().string("");
    o.op(18).w().nullable_string(std::nullopt);
    o.op(18).w().nullable_string("group-\xc3\xa9");
    o.op(19).w().compact_string("client-id");
    o.op(20).w().compact_nullable_string(std::nullopt);
    o.op(20).w().compact_nullable_string("rack");
    out.add("bytes-and-strings", o.data());
  }
  {
    ops o;  // array counts of each minimum element size, null, empty, then their elements
    for (unsigned min = 0; min < 8; ++min) {
      for (const bool compact : {false, true}) {
        o.op(array_op(min, compact));
        if (compact) o.w().compact_array_length(2);
        else o.w().array_length(2);
        for (unsigned i = 0; i < 2 * std::max(min, 1u); ++i) o.w().i8(0);
      }
    }
    o.op(array_op(0, false)).w().array_length(-1);
    o.op(array_op(0, true)).w().compact_array_length(-1);
    o.op(array_op(4, true)).w().compact_array_length(0);
    out.add("array-lengths", o.data());
  }
  {
    ops o;  // tagged fields (two, then none), raw reads of 0..14 bytes
    o.op(22).w().uvarint(2);
    o.w().uvarint(0);
    o.w().compact_bytes(abc);
    o.w().uvarint(7);
    o.w().uvarint(0);
    o.op(22).w().uvarint(0);
    for (const unsigned n : {0u, 5u, 7u, 9u, 12u, 14u}) {
      o.op(raw_op(n));
      for (unsigned i = 0; i < n; ++i) o.w().i8(static_cast<std::int8_t>(i));
    }
    out.add("tagged-fields-and-raw", o.data());
  }
  {
    ops o;  // one of every opcode, valid operands
    o.op(0).w().i8(1);
    o.op(1).w().boolean(true);
    o.op(2).w().i16(2);
    o.op(3).w().i32(3);
    o.op(4).w().i64(4);
    o.op(5).w().u16(5);
    o.op(6).w().u32(6);
    o.op(7).w().f64(7.0);
    o.op(8).w().uuid_value({8});
    o.op(9).w().uvarint(9);
    o.op(10).w().uvarlong(10);
    o.op(11).w().varint(-11);
    o.op(12).w().varlong(-12);
    o.op(13).w().bytes_value(abc);
    o.op(14).w().nullable_bytes(abc);
    o.op(15).w().compact_bytes(abc);
    o.op(16).w().compact_nullable_bytes(abc);
    o.op(17).w().string("s");
    o.op(18).w().nullable_string("n");
    o.op(19).w().compact_string("c");
    o.op(20).w().compact_nullable_string("cn");
    o.op(array_op(1, false)).w().array_length(1);
    o.op(0).w().i8(0);
    o.op(22).w().uvarint(0);
    out.add("every-opcode", o.data());
  }
  // Failures: each must leave the reader failed, with later reads returning zero values.
  const auto failing = [&](const std::string& name, std::initializer_list<std::uint8_t> in) {
    out.add("fails-" + name, bytes(in));
  };
  failing("truncated-i64", {4, 1, 2, 3});
  failing("uvarint-too-long", {9, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01});
  failing("uvarlong-too-long", {10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  failing("uvarint-unterminated", {9, 0x80});
  failing("bytes-past-end", {13, 0, 0, 0, 9, 'a'});
  failing("bytes-negative-length", {13, 0xff, 0xff, 0xff, 0xfe});
  failing("string-past-end", {17, 0, 9, 'a'});
  failing("compact-string-past-end", {19, 0x0a, 'a'});
  failing("compact-string-null", {19, 0});
  failing("string-null", {17, 0xff, 0xff});
  failing("array-count-past-end", {array_op(4, false), 0, 0, 0, 100, 0});
  failing("compact-array-count-huge", {array_op(2, true), 0xff, 0xff, 0xff, 0xff, 0x0f});
  failing("tagged-field-past-end", {22, 1, 0, 5, 'a'});
  failing("raw-past-end", {raw_op(12), 1, 2});
}

}  // namespace asiokafka::corpus
