#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <string_view>
#include <vector>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/records.hpp"
#include "protocol/compression.hpp"
#include "protocol/crc32c.hpp"
#include "protocol/record_batch_builder.hpp"
#include "protocol/wire.hpp"

namespace {

using namespace asiokafka::protocol;
using asiokafka::client_errc;

byte_view sv(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
std::string str(std::optional<byte_view> b) {
  return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string("<null>");
}

constexpr CompressionType kAll[] = {CompressionType::none, CompressionType::gzip, CompressionType::snappy,
                                     CompressionType::lz4, CompressionType::zstd};

struct Expected {
  std::int64_t ts;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

std::optional<byte_view> opt(const std::optional<std::string>& s) {
  return s ? std::optional<byte_view>(sv(*s)) : std::nullopt;
}

std::vector<Expected> sample_records() {
  return {
      {1000, "k1", "v1", {}},
      {999, std::nullopt, "value with null key", {{"h1", "x"}, {"h2", std::nullopt}, {"", ""}}},
      {1005, "key with null value", std::nullopt, {{"trace", std::string(300, 't')}}},
      {1001, "", "", {}},
      {1002, std::nullopt, std::nullopt, {}},
      {2000000, "k", std::string(5000, 'v'), {}},
  };
}

bytes build(const std::vector<Expected>& recs, batch_options o) {
  record_batch_builder b;
  b.reset(o);
  for (const auto& r : recs) {
    std::vector<RecordHeader> hs;
    for (const auto& [k, v] : r.headers) hs.push_back({k, opt(v)});
    b.append(r.ts, opt(r.key), opt(r.value), hs);
  }
  EXPECT_FALSE(b.finish());
  return bytes(b.data().begin(), b.data().end());
}

void check_records(RecordsReader& rd, const std::vector<Expected>& recs, std::int64_t base_offset) {
  Record rec;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    ASSERT_TRUE(rd.next_record(rec)) << i << " " << rd.error().message();
    EXPECT_EQ(rec.offset, base_offset + static_cast<std::int64_t>(i));
    EXPECT_EQ(rec.timestamp, recs[i].ts);
    EXPECT_EQ(str(rec.key), recs[i].key.value_or("<null>"));
    EXPECT_EQ(str(rec.value), recs[i].value.value_or("<null>"));
    ASSERT_EQ(rec.headers.size(), recs[i].headers.size());
    std::size_t j = 0;
    for (const auto& h : rec.headers) {
      EXPECT_EQ(h.key, recs[i].headers[j].first);
      EXPECT_EQ(str(h.value), recs[i].headers[j].second.value_or("<null>"));
      ++j;
    }
    EXPECT_EQ(j, recs[i].headers.size());
  }
  EXPECT_FALSE(rd.next_record(rec));
  EXPECT_FALSE(rd.error()) << rd.error().message();
}

TEST(RecordBatch, RoundTripEveryCodec) {
  const auto recs = sample_records();
  for (auto codec : kAll) {
    SCOPED_TRACE(static_cast<int>(codec));
    const bytes batch = build(recs, {.compression = codec, .base_offset = 100, .partition_leader_epoch = 7,
                                     .producer_id = 4242, .producer_epoch = 3, .base_sequence = 17,
                                     .transactional = true});
    RecordsReader rd(batch);
    ASSERT_TRUE(rd.next_batch()) << rd.error().message();
    const BatchInfo& b = rd.batch();
    EXPECT_EQ(b.base_offset, 100);
    EXPECT_EQ(b.batch_length, static_cast<std::int32_t>(batch.size() - 12));
    EXPECT_EQ(b.partition_leader_epoch, 7);
    EXPECT_EQ(b.magic, 2);
    EXPECT_EQ(b.compression(), codec);
    EXPECT_TRUE(b.is_transactional());
    EXPECT_FALSE(b.is_control());
    EXPECT_EQ(b.timestamp_kind(), TimestampType::create_time);
    EXPECT_EQ(b.last_offset_delta, 5);
    EXPECT_EQ(b.last_offset(), 105);
    EXPECT_EQ(b.base_timestamp, 1000);
    EXPECT_EQ(b.max_timestamp, 2000000);
    EXPECT_EQ(b.producer_id, 4242);
    EXPECT_EQ(b.producer_epoch, 3);
    EXPECT_EQ(b.base_sequence, 17);
    EXPECT_EQ(b.record_count, 6);
    EXPECT_EQ(b.raw.size(), batch.size());
    check_records(rd, recs, 100);
    EXPECT_FALSE(rd.next_batch());
    EXPECT_FALSE(rd.error());
    EXPECT_FALSE(rd.partial_tail());
    EXPECT_EQ(rd.consumed(), batch.size());
    EXPECT_FALSE(validate_records(batch));
  }
}

// stamp() after finish() renumbers a finished (compressed) batch in place: the new producer
// fields read back, the CRC is valid again and the records are untouched; before finish() the
// fields go in with it.
TEST(RecordBatch, StampRenumbersAFinishedBatch) {
  const auto recs = sample_records();
  for (auto codec : kAll) {
    SCOPED_TRACE(static_cast<int>(codec));
    record_batch_builder b;
    b.reset({.compression = codec});
    for (const auto& r : recs) b.append(r.ts, opt(r.key), opt(r.value));
    b.stamp(11, 1, 100);
    EXPECT_FALSE(b.finished());
    ASSERT_FALSE(b.finish());
    EXPECT_TRUE(b.finished());
    const bytes first(b.data().begin(), b.data().end());
    b.stamp(12, 2, 7);
    const bytes second(b.data().begin(), b.data().end());
    ASSERT_EQ(first.size(), second.size());
    for (const bytes* batch : {&first, &second}) {
      EXPECT_FALSE(validate_records(*batch)) << "the CRC must match the stamped fields";
      RecordsReader rd(*batch);
      ASSERT_TRUE(rd.next_batch()) << rd.error().message();
      const bool renumbered = batch == &second;
      EXPECT_EQ(rd.batch().producer_id, renumbered ? 12 : 11);
      EXPECT_EQ(rd.batch().producer_epoch, renumbered ? 2 : 1);
      EXPECT_EQ(rd.batch().base_sequence, renumbered ? 7 : 100);
      Record rec;
      for (std::size_t i = 0; i < recs.size(); ++i) {
        ASSERT_TRUE(rd.next_record(rec)) << rd.error().message();
        EXPECT_EQ(str(rec.value), recs[i].value.value_or("<null>"));
      }
    }
    // Only the producer fields (bytes 43..56) and the CRC (17..20) changed.
    for (std::size_t i = 0; i < first.size(); ++i) {
      if ((i >= 17 && i < 21) || (i >= 43 && i < 57)) continue;
      ASSERT_EQ(first[i], second[i]) << "byte " << i;
    }
  }
}

// A batch larger than the builder's CRC chunk (the records' CRC is kept while appending, the
// header's combined with it): after finish and after each stamp, the stored CRC equals a CRC
// computed over the whole region from scratch, and the batch reads back.
TEST(RecordBatch, IncrementalCrcMatchesAFullCrcAfterFinishAndStamp) {
  record_batch_builder b;
  b.reset({});
  std::string value(300, 'v');
  for (int i = 0; i < 500; ++i) {  // about 150 KB: many 8 KiB chunks and a partial one
    value[static_cast<std::size_t>(i) % value.size()] = static_cast<char>('a' + i % 26);
    b.append(1000 + i, std::nullopt, sv(value));
  }
  ASSERT_GT(b.data().size(), 100000u);
  const auto stored_crc = [&] {
    const auto d = b.data();
    return static_cast<std::uint32_t>(d[17]) << 24 | static_cast<std::uint32_t>(d[18]) << 16 |
           static_cast<std::uint32_t>(d[19]) << 8 | d[20];
  };
  const auto full_crc = [&] { return crc32c_portable(b.data().subspan(21)); };
  ASSERT_FALSE(b.finish());
  EXPECT_EQ(stored_crc(), full_crc());
  EXPECT_FALSE(validate_records(b.data()));
  b.stamp(5, 0, 0);
  EXPECT_EQ(stored_crc(), full_crc());
  b.stamp(5, 1, 123456);
  EXPECT_EQ(stored_crc(), full_crc());
  RecordsReader rd(b.data());
  ASSERT_TRUE(rd.next_batch()) << rd.error().message();
  EXPECT_EQ(rd.batch().base_sequence, 123456);
  Record rec;
  int n = 0;
  while (rd.next_record(rec)) ++n;
  EXPECT_EQ(n, 500);
  EXPECT_FALSE(rd.error());
}

// The encoder's layout checked field by field with the generic wire reader.
TEST(RecordBatch, EncodedLayoutMatchesTheSpec) {
  const bytes batch = build({{50, "a", "bc", {{"h", "v"}}}, {49, std::nullopt, "d", {}}},
                            {.base_offset = 9, .producer_id = 1, .producer_epoch = 2, .base_sequence = 3});
  reader r(batch);
  EXPECT_EQ(r.i64(), 9);
  EXPECT_EQ(r.i32(), static_cast<std::int32_t>(batch.size() - 12));
  EXPECT_EQ(r.i32(), -1);
  EXPECT_EQ(r.i8(), 2);
  const std::uint32_t crc = r.u32();
  EXPECT_EQ(crc, crc32c(std::span(batch).subspan(21)));
  EXPECT_EQ(r.i16(), 0);
  EXPECT_EQ(r.i32(), 1);
  EXPECT_EQ(r.i64(), 50);
  EXPECT_EQ(r.i64(), 50);
  EXPECT_EQ(r.i64(), 1);
  EXPECT_EQ(r.i16(), 2);
  EXPECT_EQ(r.i32(), 3);
  EXPECT_EQ(r.i32(), 2);
  // record 0: length, attributes, ts delta, offset delta, key, value, headers
  EXPECT_EQ(r.varint(), 1 + 1 + 1 + 2 + 3 + 1 + 2 + 2);
  EXPECT_EQ(r.i8(), 0);
  EXPECT_EQ(r.varlong(), 0);
  EXPECT_EQ(r.varint(), 0);
  EXPECT_EQ(r.varint(), 1);
  r.skip(1);
  EXPECT_EQ(r.varint(), 2);
  r.skip(2);
  EXPECT_EQ(r.varint(), 1);
  EXPECT_EQ(r.varint(), 1);
  r.skip(1);
  EXPECT_EQ(r.varint(), 1);
  r.skip(1);
  // record 1: negative timestamp delta, null key
  EXPECT_EQ(r.varint(), 1 + 1 + 1 + 1 + 2 + 1);
  EXPECT_EQ(r.i8(), 0);
  EXPECT_EQ(r.varlong(), -1);
  EXPECT_EQ(r.varint(), 1);
  EXPECT_EQ(r.varint(), -1);
  EXPECT_EQ(r.varint(), 1);
  r.skip(1);
  EXPECT_EQ(r.varint(), 0);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(RecordBatch, BuilderIsReusableAndSizesAreExact) {
  record_batch_builder b;
  for (int round = 0; round < 3; ++round) {
    b.reset({.base_offset = round});
    std::size_t expect = record_batch_header_size;
    for (int i = 0; i < 100; ++i) {
      const std::string v(static_cast<std::size_t>(i * 3), 'x');
      expect += record_batch_builder::record_size(i, i, sv("k"), sv(v), {});
      b.append(i, sv("k"), sv(v));
    }
    EXPECT_EQ(b.uncompressed_size(), expect);
    ASSERT_FALSE(b.finish());
    EXPECT_EQ(b.data().size(), expect);
    EXPECT_FALSE(validate_records(b.data()));
    RecordsReader rd(b.data());
    ASSERT_TRUE(rd.next_batch());
    EXPECT_EQ(rd.batch().base_offset, round);
    EXPECT_EQ(rd.batch().record_count, 100);
  }
}

TEST(RecordBatch, LogAppendTimeUsesMaxTimestamp) {
  const bytes batch = build({{5, "a", "b", {}}, {7, "a", "b", {}}}, {.timestamps = TimestampType::log_append_time});
  RecordsReader rd(batch);
  ASSERT_TRUE(rd.next_batch());
  Record rec;
  while (rd.next_record(rec)) EXPECT_EQ(rec.timestamp, 7);
}

TEST(RecordBatch, ControlBatches) {
  for (auto type : {ControlType::commit, ControlType::abort}) {
    record_batch_builder b;
    b.reset({.base_offset = 77, .producer_id = 5, .producer_epoch = 1, .transactional = true, .control = true});
    b.append_control(type, 12, 123456);
    ASSERT_FALSE(b.finish());
    RecordsReader rd(b.data());
    ASSERT_TRUE(rd.next_batch());
    EXPECT_TRUE(rd.batch().is_control());
    EXPECT_TRUE(rd.batch().is_transactional());
    Record rec;
    ASSERT_TRUE(rd.next_record(rec));
    EXPECT_EQ(rec.offset, 77);
    ControlRecord c;
    ASSERT_FALSE(decode_control_record(rec, c));
    EXPECT_EQ(c.version, 0);
    EXPECT_EQ(c.is_commit(), type == ControlType::commit);
    EXPECT_EQ(c.is_abort(), type == ControlType::abort);
    EXPECT_EQ(c.coordinator_epoch, 12);
    EXPECT_FALSE(validate_records(b.data()));
  }
  // A control record whose key is too short is corrupt.
  const bytes bad = build({{1, "x", "y", {}}}, {.transactional = true, .control = true});
  EXPECT_EQ(validate_records(bad), client_errc::corrupt_record);
}

TEST(RecordBatch, CrcMismatchIsDetected) {
  const bytes good = build(sample_records(), {});
  for (std::size_t pos : {std::size_t{21}, std::size_t{40}, std::size_t{61}, good.size() - 1}) {
    bytes bad = good;
    bad[pos] ^= 1;
    RecordsReader rd(bad);
    EXPECT_FALSE(rd.next_batch());
    EXPECT_EQ(rd.error(), client_errc::crc_mismatch) << pos;
    EXPECT_EQ(validate_records(bad), client_errc::crc_mismatch);
  }
  bytes bad = good;
  bad[17] ^= 1;  // the stored CRC itself
  EXPECT_EQ(validate_records(bad), client_errc::crc_mismatch);
  EXPECT_FALSE(validate_records(bad, {.check_crc = false}));
}

TEST(RecordBatch, TruncatedAtEveryPrefixStopsCleanly) {
  const bytes one = build(sample_records(), {.compression = CompressionType::lz4});
  bytes two = one;
  two.insert(two.end(), one.begin(), one.end());
  for (std::size_t n = 0; n < two.size(); ++n) {
    RecordsReader rd(std::span(two.data(), n));
    int batches = 0;
    while (rd.next_batch()) {
      ++batches;
      Record rec;
      while (rd.next_record(rec)) {
      }
    }
    ASSERT_FALSE(rd.error()) << n;
    const int complete = n >= one.size() ? 1 : 0;
    ASSERT_EQ(batches, complete) << n;
    ASSERT_EQ(rd.partial_tail(), n != 0 && n != one.size()) << n;
    ASSERT_EQ(rd.consumed(), complete * one.size());
    ASSERT_FALSE(validate_records(std::span(two.data(), n)));
  }
}

// Rewrites a batch's header field or records section and fixes the CRC.
void fix_crc(bytes& b) {
  const std::uint32_t crc = crc32c(std::span(b).subspan(21));
  for (int i = 0; i < 4; ++i) b[17 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
}
void put_be(bytes& b, std::size_t pos, std::uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i, v >>= 8) b[pos + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
}

// A batch with hand-written records section.
bytes raw_batch(const bytes& records, std::int32_t count, std::int16_t attributes = 0) {
  bytes b(61, 0);
  put_be(b, 8, 61 - 12 + records.size(), 4);
  b[16] = 2;
  put_be(b, 21, static_cast<std::uint16_t>(attributes), 2);
  put_be(b, 57, static_cast<std::uint32_t>(count), 4);
  b.insert(b.end(), records.begin(), records.end());
  fix_crc(b);
  return b;
}

bytes record_bytes(std::int32_t len_adjust, std::int32_t key_len, std::int32_t header_count,
                   std::int32_t header_key_len = 1) {
  bytes body;
  writer w(body);
  w.i8(0);
  w.varlong(0);
  w.varint(0);
  w.varint(key_len);
  if (key_len > 0) body.insert(body.end(), static_cast<std::size_t>(key_len), 'k');
  w.varint(1);
  body.push_back('v');
  w.varint(header_count);
  if (header_count > 0) {
    w.varint(header_key_len);
    if (header_key_len > 0) body.insert(body.end(), static_cast<std::size_t>(header_key_len), 'h');
    w.varint(-1);
  }
  bytes rec;
  writer(rec).varint(static_cast<std::int32_t>(body.size()) + len_adjust);
  rec.insert(rec.end(), body.begin(), body.end());
  return rec;
}

TEST(RecordBatch, HandWrittenRecordsAreAccepted) {
  EXPECT_FALSE(validate_records(raw_batch(record_bytes(0, 2, 1), 1)));
  EXPECT_FALSE(validate_records(raw_batch(record_bytes(0, -1, 0), 1)));
}

TEST(RecordBatch, BadLengthsAndCountsAreCorrupt) {
  const bytes rec = record_bytes(0, 2, 1);
  struct Case {
    const char* what;
    bytes batch;
  } cases[] = {
      {"negative count", raw_batch(rec, -1)},
      {"huge count", raw_batch(rec, 0x7fffffff)},
      {"count above records", raw_batch(rec, 2)},
      {"count below records", raw_batch(rec, 0)},
      {"record length -1", raw_batch(record_bytes(-100, 2, 0), 1)},
      {"record length too long", raw_batch(record_bytes(5, 2, 0), 1)},
      {"record length too short", raw_batch(record_bytes(-1, 2, 0), 1)},
      {"key length -2", raw_batch(record_bytes(0, -2, 0), 1)},
      {"header count -1", raw_batch(record_bytes(0, 1, -1), 1)},
      {"header count huge", raw_batch(record_bytes(0, 1, 1000000), 1)},
      {"header key null", raw_batch(record_bytes(0, 1, 1, -1), 1)},
      {"bad varint", raw_batch(bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 1)},
  };
  for (const auto& c : cases) EXPECT_EQ(validate_records(c.batch), client_errc::corrupt_record) << c.what;

  // Batch length fields.
  bytes b = raw_batch(rec, 1);
  put_be(b, 8, static_cast<std::uint32_t>(-5), 4);
  EXPECT_EQ(validate_records(b), client_errc::corrupt_record);
  put_be(b, 8, 13, 4);
  EXPECT_EQ(validate_records(b), client_errc::corrupt_record);
  put_be(b, 8, 40, 4);  // shorter than a v2 header
  EXPECT_EQ(validate_records(b), client_errc::corrupt_record);
  put_be(b, 8, 0x7fffffff, 4);  // longer than the blob: a partial batch
  RecordsReader rd(b);
  EXPECT_FALSE(rd.next_batch());
  EXPECT_FALSE(rd.error());
  EXPECT_TRUE(rd.partial_tail());
  // Unknown magic.
  b = raw_batch(rec, 1);
  b[16] = 3;
  EXPECT_EQ(validate_records(b), client_errc::corrupt_record);
}

TEST(RecordBatch, UnknownCompressionTypes) {
  for (int attr : {5, 6, 7}) {
    EXPECT_EQ(validate_records(raw_batch(record_bytes(0, 1, 0), 1, static_cast<std::int16_t>(attr))), client_errc::unsupported_compression)
        << attr;
  }
}

TEST(RecordBatch, DecompressionBoundPerBatch) {
  const std::vector<Expected> big(200, Expected{1, std::nullopt, std::string(10000, 'z'), {}});
  for (auto codec : kAll) {
    const bytes batch = build(big, {.compression = codec});
    EXPECT_FALSE(validate_records(batch, {.max_decompressed_bytes = 3 << 20}));
    if (codec == CompressionType::none) continue;
    EXPECT_LT(batch.size(), 100000u);
    EXPECT_EQ(validate_records(batch, {.max_decompressed_bytes = 1 << 20}), client_errc::decompressed_too_large)
        << static_cast<int>(codec);
  }
}

TEST(RecordBatch, CorruptCompressedPayload) {
  bytes b = build(sample_records(), {.compression = CompressionType::zstd});
  b[70] ^= 0xff;
  fix_crc(b);
  const auto ec = validate_records(b);
  EXPECT_TRUE(ec == client_errc::corrupt_record) << ec.message();
}

TEST(RecordBatch, CompressedViewsLiveUntilNextBatch) {
  const auto recs = sample_records();
  bytes blob = build(recs, {.compression = CompressionType::gzip});
  const bytes second = build(recs, {.compression = CompressionType::snappy, .base_offset = 6});
  blob.insert(blob.end(), second.begin(), second.end());
  bytes tail = build(recs, {.base_offset = 12});
  blob.insert(blob.end(), tail.begin(), tail.end() - 3);  // partial third batch
  RecordsReader rd(blob);
  std::int64_t base = 0;
  while (rd.next_batch()) {
    check_records(rd, recs, base);
    base += 6;
  }
  EXPECT_EQ(base, 12);
  EXPECT_FALSE(rd.error());
  EXPECT_TRUE(rd.partial_tail());
  EXPECT_EQ(rd.consumed(), blob.size() - tail.size() + 3);
}

// ---- legacy message sets (magic 0 and 1) ----

void legacy_message(bytes& out, std::int64_t offset, std::int8_t magic, std::int8_t attributes, std::int64_t ts,
                    std::optional<byte_view> key, std::optional<byte_view> value) {
  bytes msg;
  writer w(msg);
  w.u32(0);
  w.i8(magic);
  w.i8(attributes);
  if (magic == 1) w.i64(ts);
  w.nullable_bytes(key);
  w.nullable_bytes(value);
  const auto crc = static_cast<std::uint32_t>(crc32(0, msg.data() + 4, static_cast<uInt>(msg.size() - 4)));
  for (int i = 0; i < 4; ++i) msg[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  writer o(out);
  o.i64(offset);
  o.i32(static_cast<std::int32_t>(msg.size()));
  o.raw(msg);
}

TEST(LegacyMessages, UncompressedV0AndV1) {
  bytes blob;
  legacy_message(blob, 10, 0, 0, 0, sv("k0"), sv("v0"));
  legacy_message(blob, 11, 1, 0, 1234, std::nullopt, sv("v1"));
  legacy_message(blob, 12, 1, 0x08, 5678, sv("k2"), std::nullopt);
  RecordsReader rd(blob);
  Record rec;
  ASSERT_TRUE(rd.next_batch());
  EXPECT_EQ(rd.batch().magic, 0);
  ASSERT_TRUE(rd.next_record(rec));
  EXPECT_EQ(rec.offset, 10);
  EXPECT_EQ(rec.timestamp, -1);
  EXPECT_EQ(str(rec.key), "k0");
  EXPECT_EQ(str(rec.value), "v0");
  EXPECT_TRUE(rec.headers.empty());
  EXPECT_FALSE(rd.next_record(rec));
  ASSERT_TRUE(rd.next_batch());
  EXPECT_EQ(rd.batch().magic, 1);
  ASSERT_TRUE(rd.next_record(rec));
  EXPECT_EQ(rec.offset, 11);
  EXPECT_EQ(rec.timestamp, 1234);
  EXPECT_EQ(str(rec.key), "<null>");
  ASSERT_TRUE(rd.next_batch());
  EXPECT_EQ(rd.batch().timestamp_kind(), TimestampType::log_append_time);
  ASSERT_TRUE(rd.next_record(rec));
  EXPECT_EQ(rec.offset, 12);
  EXPECT_EQ(rec.timestamp, 5678);
  EXPECT_EQ(str(rec.value), "<null>");
  EXPECT_FALSE(rd.next_batch());
  EXPECT_FALSE(rd.error());
  EXPECT_FALSE(validate_records(blob));
  // Legacy CRC (IEEE CRC32) mismatch.
  blob[29] ^= 1;  // the first message's value
  EXPECT_EQ(validate_records(blob), client_errc::crc_mismatch);
}

TEST(LegacyMessages, CompressedWrappers) {
  for (std::int8_t magic : {std::int8_t{0}, std::int8_t{1}}) {
    for (auto codec : {CompressionType::gzip, CompressionType::snappy, CompressionType::lz4}) {
      SCOPED_TRACE(std::to_string(magic) + " " + std::to_string(static_cast<int>(codec)));
      // Inner messages: v1 uses relative offsets 0..n-1; v0 stores absolute offsets.
      bytes inner;
      for (int i = 0; i < 3; ++i) {
        const std::string v = "value-" + std::to_string(i);
        legacy_message(inner, magic == 1 ? i : 500 + i, magic, 0, 100 + i, sv("k"), sv(v));
      }
      bytes packed;
      ASSERT_FALSE(compress(codec, inner, packed));
      bytes blob;
      // The wrapper's offset is that of its last inner message.
      legacy_message(blob, 502, magic, static_cast<std::int8_t>(codec), 999, std::nullopt, byte_view(packed));
      legacy_message(blob, 503, magic, 0, 1000, sv("after"), sv("x"));
      RecordsReader rd(blob);
      ASSERT_TRUE(rd.next_batch()) << rd.error().message();
      EXPECT_EQ(rd.batch().base_offset, 500);
      EXPECT_EQ(rd.batch().last_offset(), 502);
      EXPECT_EQ(rd.batch().record_count, 3);
      EXPECT_EQ(rd.batch().compression(), codec);
      Record rec;
      for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(rd.next_record(rec)) << rd.error().message();
        EXPECT_EQ(rec.offset, 500 + i);
        EXPECT_EQ(str(rec.value), "value-" + std::to_string(i));
        EXPECT_EQ(rec.timestamp, magic == 1 ? 100 + i : -1);
      }
      EXPECT_FALSE(rd.next_record(rec));
      ASSERT_TRUE(rd.next_batch());
      ASSERT_TRUE(rd.next_record(rec));
      EXPECT_EQ(rec.offset, 503);
      EXPECT_FALSE(rd.next_batch());
      EXPECT_FALSE(rd.error()) << rd.error().message();
      EXPECT_FALSE(validate_records(blob));
    }
  }
}

TEST(LegacyMessages, WrapperWithLogAppendTimeAndBadInner) {
  bytes inner;
  legacy_message(inner, 0, 1, 0, 1, sv("a"), sv("b"));
  legacy_message(inner, 1, 1, 0, 2, sv("c"), sv("d"));
  bytes packed;
  ASSERT_FALSE(compress(CompressionType::gzip, inner, packed));
  bytes blob;
  legacy_message(blob, 41, 1, 0x08 | 1, 777, std::nullopt, byte_view(packed));
  RecordsReader rd(blob);
  ASSERT_TRUE(rd.next_batch());
  Record rec;
  int n = 0;
  while (rd.next_record(rec)) {
    EXPECT_EQ(rec.timestamp, 777);
    EXPECT_EQ(rec.offset, 40 + n++);
  }
  EXPECT_EQ(n, 2);

  // Nested compression, inner CRC errors and garbage inner sets are rejected.
  bytes nested;
  legacy_message(nested, 0, 1, 1, 1, std::nullopt, byte_view(packed));
  bytes packed2;
  ASSERT_FALSE(compress(CompressionType::gzip, nested, packed2));
  blob.clear();
  legacy_message(blob, 1, 1, 1, 1, std::nullopt, byte_view(packed2));
  EXPECT_EQ(validate_records(blob), client_errc::corrupt_record);

  bytes bad_inner = inner;
  bad_inner.back() ^= 1;
  packed2.clear();
  ASSERT_FALSE(compress(CompressionType::gzip, bad_inner, packed2));
  blob.clear();
  legacy_message(blob, 1, 1, 1, 1, std::nullopt, byte_view(packed2));
  EXPECT_EQ(validate_records(blob), client_errc::crc_mismatch);

  packed2.clear();
  ASSERT_FALSE(compress(CompressionType::gzip, sv("not a message set at all"), packed2));
  blob.clear();
  legacy_message(blob, 1, 1, 1, 1, std::nullopt, byte_view(packed2));
  EXPECT_EQ(validate_records(blob), client_errc::corrupt_record);

  // A wrapper with a null value, and a wrapper using an unknown codec.
  blob.clear();
  legacy_message(blob, 1, 1, 2, 1, std::nullopt, std::nullopt);
  EXPECT_EQ(validate_records(blob), client_errc::corrupt_record);
  blob.clear();
  legacy_message(blob, 1, 1, 6, 1, std::nullopt, sv("x"));
  EXPECT_EQ(validate_records(blob), client_errc::unsupported_compression);
}

TEST(LegacyMessages, MixedWithV2AndTruncated) {
  bytes blob;
  legacy_message(blob, 0, 1, 0, 5, sv("old"), sv("x"));
  const bytes v2 = build({{9, "new", "y", {}}}, {.base_offset = 1});
  blob.insert(blob.end(), v2.begin(), v2.end());
  EXPECT_FALSE(validate_records(blob));
  for (std::size_t n = 0; n < blob.size(); ++n) ASSERT_FALSE(validate_records(std::span(blob.data(), n))) << n;
}

}  // namespace
