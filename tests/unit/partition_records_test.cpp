// consumer::decode_partition: a fetched partition's batches (built with record_batch_builder)
// turned into ConsumerRecords: positions, control batches, read_committed, corrupt and partial
// data, partition fields, and how long record views live (ASan catches a dangling one).
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asiokafka/consumer_record.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "consumer/sansio/partition_records.hpp"
#include "protocol/record_batch_builder.hpp"

namespace asiokafka::test {
namespace {

namespace pr = protocol;
using consumer::decode_partition;
using consumer::partition_fetch_params;
using consumer::partition_fetch_result;
using PartitionData = pr::messages::FetchResponse::PartitionData;

constexpr pr::CompressionType kCodecs[] = {pr::CompressionType::none, pr::CompressionType::gzip,
                                           pr::CompressionType::snappy, pr::CompressionType::lz4,
                                           pr::CompressionType::zstd};

pr::byte_view sv(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

std::string str(const std::optional<BytesView>& b) { return b ? std::string(b->as_string()) : "<null>"; }

// Records "k<offset>" -> "v<offset>" with a header, starting at `base`.
pr::bytes batch(std::int64_t base, int count, pr::batch_options o = {}) {
  o.base_offset = base;
  pr::record_batch_builder b;
  b.reset(o);
  std::vector<std::string> keys, values;
  for (int i = 0; i < count; ++i) {
    keys.push_back("k" + std::to_string(base + i));
    values.push_back("v" + std::to_string(base + i));
  }
  for (int i = 0; i < count; ++i) {
    const pr::RecordHeader h{"n", sv(keys[static_cast<std::size_t>(i)])};
    b.append(1000 + base + i, sv(keys[static_cast<std::size_t>(i)]), sv(values[static_cast<std::size_t>(i)]), {&h, 1});
  }
  EXPECT_FALSE(b.finish());
  return {b.data().begin(), b.data().end()};
}

pr::batch_options txn(std::int64_t producer_id) {
  return {.producer_id = producer_id, .producer_epoch = 0, .base_sequence = 0, .transactional = true};
}

pr::bytes marker(std::int64_t offset, std::int64_t producer_id, pr::ControlType type) {
  pr::record_batch_builder b;
  b.reset({.base_offset = offset, .producer_id = producer_id, .producer_epoch = 0, .transactional = true,
           .control = true});
  b.append_control(type, 3, 5000);
  EXPECT_FALSE(b.finish());
  return {b.data().begin(), b.data().end()};
}

pr::bytes concat(std::initializer_list<pr::bytes> parts) {
  pr::bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A response frame holding `blob`, and a partition whose records view it.
struct fetched {
  frame response;
  PartitionData data;
  explicit fetched(const pr::bytes& blob) : response(frame::copy_of(blob)) {
    data.partition_index = 3;
    data.high_watermark = 100;
    data.records.data = response.bytes();
  }
};

partition_fetch_params params(std::int64_t fetch_offset, bool read_committed = false) {
  partition_fetch_params p;
  p.topic = std::make_shared<const std::string>("orders");
  p.partition = 3;
  p.fetch_offset = fetch_offset;
  p.read_committed = read_committed;
  return p;
}

std::vector<std::int64_t> offsets(const partition_fetch_result& r) {
  std::vector<std::int64_t> out;
  for (const auto& rec : r.records) out.push_back(rec.offset);
  return out;
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t end) {
  std::vector<std::int64_t> out;
  for (auto o = first; o < end; ++o) out.push_back(o);
  return out;
}

TEST(PartitionRecords, EveryFieldOfUncompressedBatches) {
  pr::batch_options o;
  o.partition_leader_epoch = 7;
  fetched f(concat({batch(0, 3, o), batch(3, 2, o)}));
  const auto r = decode_partition(params(0), f.data, f.response);
  ASSERT_FALSE(r.error) << r.error_message;
  EXPECT_EQ(offsets(r), range(0, 5));
  EXPECT_EQ(r.next_offset, 5);
  EXPECT_EQ(r.next_offset_epoch, 7);
  EXPECT_EQ(r.batches, 2u);
  EXPECT_FALSE(r.partial_tail);
  EXPECT_EQ(r.retained_bytes, f.response.size());
  for (const auto& rec : r.records) {
    const std::string n = std::to_string(rec.offset);
    EXPECT_EQ(rec.topic, "orders");
    EXPECT_EQ(rec.partition, 3);
    EXPECT_EQ(rec.timestamp, 1000 + rec.offset);
    EXPECT_EQ(rec.timestamp_type, pr::TimestampType::create_time);
    EXPECT_EQ(str(rec.key), "k" + n);
    EXPECT_EQ(str(rec.value), "v" + n);
    EXPECT_EQ(rec.serialized_key_size, static_cast<std::int32_t>(n.size() + 1));
    EXPECT_EQ(rec.serialized_value_size, static_cast<std::int32_t>(n.size() + 1));
    EXPECT_EQ(rec.leader_epoch, 7);
    ASSERT_EQ(rec.headers.size(), 1u);
    EXPECT_EQ(rec.headers.begin()->key, "n");
    EXPECT_EQ(str(rec.headers.begin()->value), "k" + n);
  }
}

TEST(PartitionRecords, FetchPositionInsideAndAfterBatchesForEveryCodec) {
  for (auto codec : kCodecs) {
    SCOPED_TRACE(static_cast<int>(codec));
    pr::batch_options o;
    o.compression = codec;
    fetched f(concat({batch(0, 4, o), batch(4, 4, o), batch(8, 4, o)}));
    // Offset 6 lies inside the second batch: the first is passed whole, the second in part.
    const auto r = decode_partition(params(6), f.data, f.response);
    ASSERT_FALSE(r.error) << r.error_message;
    EXPECT_EQ(offsets(r), range(6, 12));
    EXPECT_EQ(r.next_offset, 12);
    for (const auto& rec : r.records) EXPECT_EQ(str(rec.value), "v" + std::to_string(rec.offset));
  }
}

TEST(PartitionRecords, CompressedRecordsShareOneHandlePerBatchAndOneTopic) {
  for (auto codec : kCodecs) {
    SCOPED_TRACE(static_cast<int>(codec));
    pr::batch_options o;
    o.compression = codec;
    fetched f(concat({batch(0, 3, o), batch(3, 3, o)}));
    const auto p = params(0);
    const auto r = decode_partition(p, f.data, f.response);
    ASSERT_EQ(r.records.size(), 6u);
    for (const auto& rec : r.records) EXPECT_EQ(rec.topic.data(), p.topic->data());  // no copy of the name
    EXPECT_EQ(r.records[0].storage.get(), r.records[2].storage.get());
    // Uncompressed batches share the response; compressed ones each hold their own buffer.
    EXPECT_EQ(r.records[0].storage.get() == r.records[3].storage.get(), codec == pr::CompressionType::none);
  }
}

TEST(PartitionRecords, HeadersAndNullKeysAndValues) {
  pr::record_batch_builder b;
  b.reset({.base_offset = 10});
  const pr::RecordHeader hs[] = {{"a", sv("1")}, {"b", std::nullopt}, {"a", sv("2")}, {"", sv("")}};
  b.append(1, std::nullopt, sv("only value"), hs);
  b.append(2, sv("only key"), std::nullopt);
  b.append(3, sv(""), sv(""));
  ASSERT_FALSE(b.finish());
  fetched f(pr::bytes(b.data().begin(), b.data().end()));
  const auto r = decode_partition(params(10), f.data, f.response);
  ASSERT_EQ(r.records.size(), 3u);
  const auto& h = r.records[0].headers;
  ASSERT_EQ(h.size(), 4u);
  std::vector<std::pair<std::string, std::string>> seen;
  for (const Header& x : h) seen.emplace_back(std::string(x.key), str(x.value));
  const std::vector<std::pair<std::string, std::string>> want = {{"a", "1"}, {"b", "<null>"}, {"a", "2"}, {"", ""}};
  EXPECT_EQ(seen, want);
  EXPECT_EQ(str(h.last("a")->value), "2");
  EXPECT_FALSE(h.last("b")->value);
  EXPECT_FALSE(h.last("zz"));
  EXPECT_FALSE(r.records[0].key);
  EXPECT_EQ(r.records[0].serialized_key_size, -1);
  EXPECT_EQ(r.records[0].serialized_value_size, 10);
  EXPECT_FALSE(r.records[1].value);
  EXPECT_EQ(r.records[1].serialized_value_size, -1);
  EXPECT_EQ(r.records[2].serialized_key_size, 0);
  EXPECT_EQ(r.records[2].serialized_value_size, 0);
  EXPECT_TRUE(r.records[2].key && r.records[2].key->empty());
}

TEST(PartitionRecords, ControlBatchesAreSkippedAndThePositionMovesPastThem) {
  fetched f(concat({batch(0, 2, txn(9)), marker(2, 9, pr::ControlType::commit)}));
  for (bool committed : {false, true}) {
    const auto r = decode_partition(params(0, committed), f.data, f.response);
    ASSERT_FALSE(r.error) << r.error_message;
    EXPECT_EQ(offsets(r), range(0, 2));
    EXPECT_EQ(r.next_offset, 3);
  }
  // Only markers: nothing to return, but the next fetch must start after them.
  fetched g(concat({marker(5, 9, pr::ControlType::commit), marker(6, 4, pr::ControlType::abort)}));
  const auto r = decode_partition(params(5, true), g.data, g.response);
  EXPECT_TRUE(r.records.empty());
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.next_offset, 7);
  EXPECT_EQ(r.batches, 2u);
}

// Producer 1's first and third transactions abort, producer 2's commit, interleaved; producer
// 1's second transaction (after its first ABORT marker) commits; producer 3 is not
// transactional.
struct interleaved {
  pr::bytes blob = concat({
      batch(0, 2, txn(1)),                  // 0-1   p1 tx A (aborted)
      batch(2, 2, txn(2)),                  // 2-3   p2 tx B
      batch(4, 1, txn(1)),                  // 4     p1 tx A
      batch(5, 1),                          // 5     p3, no transaction
      marker(6, 2, pr::ControlType::commit),  // 6   p2 commits B
      marker(7, 1, pr::ControlType::abort),   // 7   p1 aborts A
      batch(8, 2, txn(1)),                  // 8-9   p1 tx C (committed)
      marker(10, 1, pr::ControlType::commit),  // 10
      batch(11, 1, txn(1)),                 // 11    p1 tx D (aborted)
      batch(12, 1, txn(2)),                 // 12    p2 tx E (committed)
      marker(13, 1, pr::ControlType::abort),   // 13
      marker(14, 2, pr::ControlType::commit),  // 14
  });
  fetched f{blob};
  interleaved() {
    // Listed out of order, as nothing in the protocol promises an order.
    f.data.aborted_transactions = std::vector<pr::messages::FetchResponse::AbortedTransaction>{
        {.producer_id = 1, .first_offset = 11}, {.producer_id = 1, .first_offset = 0}};
  }
};

TEST(PartitionRecords, ReadCommittedDropsAbortedTransactionsOnly) {
  interleaved t;
  const auto r = decode_partition(params(0, true), t.f.data, t.f.response);
  ASSERT_FALSE(r.error) << r.error_message;
  EXPECT_EQ(offsets(r), (std::vector<std::int64_t>{2, 3, 5, 8, 9, 12}));
  EXPECT_EQ(r.next_offset, 15);
  // Starting after the first aborted transaction's start still drops its remaining batch.
  const auto later = decode_partition(params(4, true), t.f.data, t.f.response);
  EXPECT_EQ(offsets(later), (std::vector<std::int64_t>{5, 8, 9, 12}));
}

TEST(PartitionRecords, ReadUncommittedKeepsEveryDataRecord) {
  interleaved t;
  const auto r = decode_partition(params(0, false), t.f.data, t.f.response);
  ASSERT_FALSE(r.error) << r.error_message;
  EXPECT_EQ(offsets(r), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 8, 9, 11, 12}));
  EXPECT_EQ(r.next_offset, 15);
}

TEST(PartitionRecords, PartialTrailingBatchLeavesTheRestForTheNextFetch) {
  const pr::bytes second = batch(3, 3);
  pr::bytes blob = batch(0, 3);
  blob.insert(blob.end(), second.begin(), second.begin() + static_cast<std::ptrdiff_t>(second.size() / 2));
  fetched f(blob);
  const auto r = decode_partition(params(0), f.data, f.response);
  EXPECT_FALSE(r.error) << r.error_message;
  EXPECT_TRUE(r.partial_tail);
  EXPECT_EQ(offsets(r), range(0, 3));
  EXPECT_EQ(r.next_offset, 3);
}

TEST(PartitionRecords, OnlyAPartialBatchIsRecordTooLarge) {
  const pr::bytes whole = batch(40, 3);
  fetched f(pr::bytes(whole.begin(), whole.begin() + 30));
  auto p = params(40);
  p.partition_max_bytes = 30;
  auto r = decode_partition(p, f.data, f.response);
  EXPECT_EQ(r.error, kafka_errc::message_too_large);
  EXPECT_EQ(r.next_offset, 40);
  EXPECT_EQ(r.error_offset, 40);
  EXPECT_TRUE(r.records.empty());
  EXPECT_NE(r.error_message.find("orders-3"), std::string::npos) << r.error_message;
  EXPECT_NE(r.error_message.find(std::to_string(whole.size()) + " bytes"), std::string::npos) << r.error_message;
  // A batch that would have fitted in what was asked: the broker should have sent it whole.
  p.partition_max_bytes = 1 << 20;
  r = decode_partition(p, f.data, f.response);
  EXPECT_EQ(r.error, client_errc::corrupt_record);
  EXPECT_EQ(r.next_offset, 40);
}

TEST(PartitionRecords, EmptyRecordsKeepThePositionAndCopyThePartitionFields) {
  fetched f(pr::bytes{});
  f.data.error_code = static_cast<std::int16_t>(kafka_errc::fenced_leader_epoch);
  f.data.high_watermark = 120;
  f.data.last_stable_offset = 110;
  f.data.log_start_offset = 4;
  f.data.preferred_read_replica = 2;
  f.data.diverging_epoch = {.epoch = 5, .end_offset = 90};
  f.data.current_leader = {.leader_id = 1, .leader_epoch = 6};
  const auto r = decode_partition(params(77), f.data, f.response);
  EXPECT_TRUE(r.records.empty());
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.next_offset, 77);
  EXPECT_EQ(r.partition_error, kafka_errc::fenced_leader_epoch);
  EXPECT_EQ(r.high_watermark, 120);
  EXPECT_EQ(r.last_stable_offset, 110);
  EXPECT_EQ(r.log_start_offset, 4);
  EXPECT_EQ(r.preferred_read_replica, 2);
  ASSERT_TRUE(r.diverging);
  EXPECT_EQ(r.diverging->epoch, 5);
  EXPECT_EQ(r.diverging->end_offset, 90);
  ASSERT_TRUE(r.current_leader);
  EXPECT_EQ(r.current_leader->leader_id, 1);
  EXPECT_EQ(r.current_leader->leader_epoch, 6);
  // The defaults (-1) mean "no hint".
  fetched g(pr::bytes{});
  const auto none = decode_partition(params(0), g.data, g.response);
  EXPECT_FALSE(none.partition_error);
  EXPECT_FALSE(none.diverging);
  EXPECT_FALSE(none.current_leader);
}

TEST(PartitionRecords, CorruptBatchMidResponseReturnsTheRecordsBeforeIt) {
  for (auto codec : kCodecs) {
    SCOPED_TRACE(static_cast<int>(codec));
    pr::batch_options o;
    o.compression = codec;
    const pr::bytes first = batch(20, 3, o);
    pr::bytes blob = concat({first, batch(23, 3, o), batch(26, 3, o)});
    blob[first.size() + pr::record_batch_header_size + 2] ^= 0x55;  // inside the second batch's records
    fetched f(blob);
    auto r = decode_partition(params(20), f.data, f.response);
    EXPECT_EQ(r.error, client_errc::crc_mismatch);
    EXPECT_EQ(offsets(r), range(20, 23));
    EXPECT_EQ(r.next_offset, 23);
    EXPECT_EQ(r.error_offset, 23);
    EXPECT_NE(r.error_message.find("orders-3 at offset 23"), std::string::npos) << r.error_message;
    // Without the CRC check the damage surfaces as a bad record or bad compressed data, or not
    // at all (a flipped value byte): either way nothing past the damage is lost silently.
    auto p = params(20);
    p.check_crcs = false;
    r = decode_partition(p, f.data, f.response);
    if (r.error) {
      EXPECT_GE(r.error_offset, 23);
      EXPECT_LT(r.error_offset, 26);
      EXPECT_EQ(r.next_offset, r.error_offset);
      EXPECT_EQ(offsets(r), range(20, r.error_offset));
    } else {
      EXPECT_EQ(offsets(r), range(20, 29));
    }
  }
}

TEST(PartitionRecords, RecordOutsideItsBatchOffsetsIsCorrupt) {
  pr::bytes blob = batch(0, 3);
  blob[23] = blob[24] = blob[25] = blob[26] = 0;  // last offset delta 0: records 1 and 2 lie past it
  fetched f(blob);
  auto p = params(0);
  p.check_crcs = false;
  const auto r = decode_partition(p, f.data, f.response);
  EXPECT_EQ(r.error, client_errc::corrupt_record);
  EXPECT_EQ(offsets(r), range(0, 1));
  EXPECT_EQ(r.error_offset, 1);
}

TEST(PartitionRecords, DecompressionOverTheBoundIsAnError) {
  pr::batch_options o;
  o.compression = pr::CompressionType::zstd;
  fetched f(concat({batch(0, 2), batch(2, 200, o)}));
  auto p = params(0);
  p.max_decompressed_bytes = 64;
  const auto r = decode_partition(p, f.data, f.response);
  EXPECT_EQ(r.error, client_errc::decompressed_too_large);
  EXPECT_EQ(offsets(r), range(0, 2));
  EXPECT_EQ(r.error_offset, 2);
}

TEST(PartitionRecords, RecordsOutliveTheResponseAndTheReader) {
  for (auto codec : kCodecs) {
    SCOPED_TRACE(static_cast<int>(codec));
    ConsumerRecords kept;
    {
      pr::batch_options o;
      o.compression = codec;
      fetched f(concat({batch(0, 50, o), batch(50, 50, o)}));
      auto r = decode_partition(params(0), f.data, f.response);
      ASSERT_EQ(r.records.size(), 100u);
      kept = {r.records[3], r.records[77]};
    }  // response frame, partition data, result and topic keeper of params() all gone
    EXPECT_EQ(kept[0].topic, "orders");
    EXPECT_EQ(str(kept[0].value), "v3");
    EXPECT_EQ(str(kept[1].key), "k77");
    EXPECT_EQ(str(kept[1].headers.begin()->value), "k77");
  }
}

TEST(PartitionRecords, DetachedRecordOwnsOnlyItsBytes) {
  for (auto codec : {pr::CompressionType::none, pr::CompressionType::lz4}) {
    SCOPED_TRACE(static_cast<int>(codec));
    pr::batch_options o;
    o.compression = codec;
    pr::record_batch_builder b;
    b.reset({.compression = codec, .base_offset = 0, .partition_leader_epoch = 4});
    const std::string trace(300, 't');
    const pr::RecordHeader hs[] = {{"trace", sv(trace)}, {"null", std::nullopt}};
    b.append(42, sv("key"), sv("value"), hs);
    b.append(43, std::nullopt, std::nullopt);
    ASSERT_FALSE(b.finish());
    fetched f(concat({pr::bytes(b.data().begin(), b.data().end()), batch(2, 10, o)}));
    const frame response = f.response;  // our own reference, to watch the others go
    ConsumerRecord a, n;
    {
      auto r = decode_partition(params(0), f.data, f.response);
      ASSERT_EQ(r.records.size(), 12u);
      a = r.records[0].detach();
      n = r.records[1].detach();
      EXPECT_NE(a.topic.data(), r.records[0].topic.data());
      EXPECT_NE(a.storage.get(), r.records[0].storage.get());
    }
    f = fetched(pr::bytes{});
    EXPECT_TRUE(response.storage().unique());  // nothing else holds the fetched bytes
    EXPECT_EQ(a.topic, "orders");
    EXPECT_EQ(a.partition, 3);
    EXPECT_EQ(a.offset, 0);
    EXPECT_EQ(a.timestamp, 42);
    EXPECT_EQ(a.leader_epoch, 4);
    EXPECT_EQ(str(a.key), "key");
    EXPECT_EQ(str(a.value), "value");
    EXPECT_EQ(a.serialized_key_size, 3);
    EXPECT_EQ(a.serialized_value_size, 5);
    std::vector<std::pair<std::string, std::string>> seen;
    for (const Header& h : a.headers) seen.emplace_back(std::string(h.key), str(h.value));
    const std::vector<std::pair<std::string, std::string>> want = {{"trace", std::string(300, 't')},
                                                                   {"null", "<null>"}};
    EXPECT_EQ(seen, want);
    EXPECT_FALSE(n.key);
    EXPECT_FALSE(n.value);
    EXPECT_EQ(n.serialized_key_size, -1);
    EXPECT_TRUE(n.headers.empty());
    EXPECT_EQ(n.offset, 1);
  }
}

TEST(PartitionRecords, ResultHoldsTheResponseOnlyWhileRecordsDo) {
  fetched f(batch(0, 5));
  const frame response = f.response;
  auto r = decode_partition(params(0), f.data, f.response);
  f = fetched(pr::bytes{});
  EXPECT_FALSE(response.storage().unique());
  ConsumerRecord last = r.records.back();
  r.records.clear();
  EXPECT_FALSE(response.storage().unique());  // `last` holds it
  last = ConsumerRecord();
  EXPECT_TRUE(response.storage().unique());
}

}  // namespace
}  // namespace asiokafka::test
