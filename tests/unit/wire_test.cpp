#include "protocol/wire.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>

#include <gtest/gtest.h>

#include "asiokafka/error.hpp"

namespace asiokafka::protocol {
namespace {

TEST(Wire, EncodesBigEndianIntegersAndStrings) {
  bytes out;
  writer w(out);
  w.i16(0x0102);
  w.i32(-2);
  w.string("ab");
  w.nullable_string(std::nullopt);
  w.compact_string("xyz");
  w.compact_nullable_string(std::nullopt);
  EXPECT_EQ(out, (bytes{0x01, 0x02, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x02, 'a', 'b', 0xff, 0xff, 0x04, 'x', 'y', 'z', 0x00}));
}

TEST(Wire, UnsignedVarintRoundTripsAtEveryWidth) {
  for (std::uint32_t v : {0u, 1u, 127u, 128u, 16383u, 16384u, 2097151u, 2097152u, 268435455u, 268435456u, 0xffffffffu}) {
    bytes out;
    writer(out).uvarint(v);
    reader r(out);
    EXPECT_EQ(r.uvarint(), v);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
  }
  bytes out;
  writer(out).uvarint(300);
  EXPECT_EQ(out, (bytes{0xac, 0x02}));
}

TEST(Wire, ZigZagVarintsRoundTrip) {
  for (std::int64_t v : std::initializer_list<std::int64_t>{0, -1, 1, -64, 63, -65, std::int64_t{1} << 40, -(std::int64_t{1} << 40), INT64_MAX, INT64_MIN}) {
    bytes out;
    writer(out).varlong(v);
    reader r(out);
    EXPECT_EQ(r.varlong(), v);
    EXPECT_TRUE(r.ok() && r.remaining() == 0) << v;
  }
  for (std::int32_t v : {0, -1, 1, INT32_MAX, INT32_MIN}) {
    bytes out;
    writer(out).varint(v);
    reader r(out);
    EXPECT_EQ(r.varint(), v);
    EXPECT_TRUE(r.ok() && r.remaining() == 0) << v;
  }
  bytes out;
  writer(out).varint(-1);
  EXPECT_EQ(out, (bytes{0x01}));  // zig-zag: -1 -> 1
}

TEST(Wire, BytesUuidAndFloatRoundTrip) {
  bytes out;
  writer w(out);
  const bytes payload{1, 2, 3};
  const uuid id{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  w.bytes_value(payload);
  w.nullable_bytes(std::nullopt);
  w.compact_bytes(payload);
  w.compact_nullable_bytes(std::nullopt);
  w.uuid_value(id);
  w.f64(0.5);
  reader r(out);
  EXPECT_TRUE(std::ranges::equal(r.bytes_value(), payload));
  EXPECT_FALSE(r.nullable_bytes().has_value());
  EXPECT_TRUE(std::ranges::equal(r.compact_bytes(), payload));
  EXPECT_FALSE(r.compact_nullable_bytes().has_value());
  EXPECT_EQ(r.uuid_value(), id);
  EXPECT_EQ(r.f64(), 0.5);
  EXPECT_TRUE(r.ok() && r.remaining() == 0);
}

TEST(Wire, VarlongLongerThan64BitsIsMalformed) {
  const bytes in{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
  reader r(in);
  r.uvarlong();
  EXPECT_EQ(r.error(), client_errc::malformed);
}

TEST(Wire, VarintLongerThan32BitsIsMalformed) {
  const bytes in{0xff, 0xff, 0xff, 0xff, 0x7f};
  reader r(in);
  r.uvarint();
  EXPECT_EQ(r.error(), client_errc::malformed);
}

TEST(Wire, TruncationIsStickyAndReported) {
  const bytes in{0x00, 0x05, 'a', 'b'};
  reader r(in);
  EXPECT_EQ(r.string(), "");
  EXPECT_EQ(r.error(), client_errc::truncated);
  EXPECT_EQ(r.i32(), 0);  // later reads see the first error
  EXPECT_EQ(r.error(), client_errc::truncated);
}

TEST(Wire, NegativeStringLengthIsMalformed) {
  const bytes in{0xff, 0xfe};
  reader r(in);
  r.string();
  EXPECT_EQ(r.error(), client_errc::malformed);
}

TEST(Wire, NullableStringDistinguishesNullFromEmpty) {
  const bytes in{0xff, 0xff, 0x00, 0x00, 0x00, 0x01};
  reader r(in);
  EXPECT_EQ(r.nullable_string(), std::nullopt);
  EXPECT_EQ(r.nullable_string(), std::optional<std::string_view>(""));
  EXPECT_EQ(r.compact_nullable_string(), std::optional<std::string_view>(std::nullopt));
  EXPECT_TRUE(r.ok());
}

TEST(Wire, HugeArrayCountFailsBeforeAnyAllocation) {
  const bytes in{0x7f, 0xff, 0xff, 0xff, 0x00};
  reader r(in);
  EXPECT_EQ(r.array_length(6), 0);
  EXPECT_EQ(r.error(), client_errc::truncated);

  const bytes neg{0xff, 0xff, 0xff, 0xfe};
  reader r2(neg);
  r2.array_length();
  EXPECT_EQ(r2.error(), client_errc::malformed);

  const bytes null_array{0xff, 0xff, 0xff, 0xff};
  reader r3(null_array);
  EXPECT_EQ(r3.array_length(), -1);
  EXPECT_TRUE(r3.ok());
}

TEST(Wire, SkipsTaggedFields) {
  // two tags: tag 0 with 2 bytes, tag 5 with 1 byte; then an int16.
  const bytes in{0x02, 0x00, 0x02, 0xaa, 0xbb, 0x05, 0x01, 0xcc, 0x12, 0x34};
  reader r(in);
  r.skip_tagged_fields();
  EXPECT_EQ(r.i16(), 0x1234);
  EXPECT_TRUE(r.ok());
}

TEST(Wire, TaggedFieldLongerThanInputIsTruncated) {
  const bytes in{0x01, 0x00, 0x09, 0xaa};
  reader r(in);
  r.skip_tagged_fields();
  EXPECT_EQ(r.error(), client_errc::truncated);
}

TEST(Wire, PatchI32OverwritesLengthPrefix) {
  bytes out;
  writer w(out);
  w.i32(0);
  w.i16(7);
  w.patch_i32(0, static_cast<std::int32_t>(w.size() - 4));
  EXPECT_EQ(out, (bytes{0, 0, 0, 2, 0, 7}));
}

TEST(Wire, CompactArrayCountAboveInt32IsMalformed) {
  // uvarint 0xfffffffe (count 0xfffffffd) with no element-size bound: must not wrap negative.
  const bytes in{0xfe, 0xff, 0xff, 0xff, 0x0f};
  reader r(in);
  EXPECT_EQ(r.compact_array_length(0), 0);
  EXPECT_EQ(r.error(), client_errc::malformed);
}

TEST(ClientError, HasNamedCategoryAndMessages) {
  const std::error_code ec = client_errc::timeout;
  EXPECT_STREQ(ec.category().name(), "asiokafka.client");
  EXPECT_EQ(ec.message(), "operation timed out");
  EXPECT_NE(std::error_code(client_errc::truncated).message(), std::error_code(client_errc::malformed).message());
}

}  // namespace
}  // namespace asiokafka::protocol
