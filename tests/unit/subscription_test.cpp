// consumer::subscription scripted: assignment changes keep or drop state and buffers, stale
// fetch answers are dropped, take() shares max_records fairly and rotates, positions advance
// exactly, paused partitions are skipped, errors are raised after the records before them.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "consumer/sansio/subscription.hpp"

namespace asiokafka::test {
namespace {

using namespace std::chrono_literals;
using consumer::fetch_position;
using consumer::fetched_status;
using consumer::partition_fetch_result;
using consumer::reset_policy;
using consumer::subscription;
using consumer::take_result;

constexpr std::size_t all = std::numeric_limits<std::size_t>::max();
const TopicPartition a0{"a", 0}, a1{"a", 1}, a2{"a", 2}, b0{"b", 0};
const consumer::time_point t0{};

// A fetch answer with records at offsets [from, to), each of epoch `epoch`; next_offset is
// `next` (or `to`), and the records pin `bytes`.
partition_fetch_result answer(const TopicPartition& tp, std::int64_t from, std::int64_t to, std::size_t bytes = 100,
                              std::int64_t next = -1, std::int32_t epoch = 3) {
  partition_fetch_result r;
  for (std::int64_t o = from; o < to; ++o) {
    ConsumerRecord rec;
    rec.partition = tp.partition;
    rec.offset = o;
    rec.leader_epoch = epoch;
    r.records.push_back(rec);
  }
  r.next_offset = next >= 0 ? next : to;
  r.next_offset_epoch = epoch;
  r.retained_bytes = bytes;
  r.high_watermark = r.next_offset;
  return r;
}

// Assigns `tps`, seeks each to `from` and buffers records [from, to) for each.
subscription filled(std::vector<TopicPartition> tps, std::int64_t from, std::int64_t to) {
  subscription sub;
  sub.assign(tps);
  for (const auto& tp : tps) {
    sub.seek(tp, from);
    EXPECT_EQ(sub.on_fetched(tp, {from, -1}, answer(tp, from, to), t0, 0ms), fetched_status::kept);
  }
  return sub;
}

std::vector<std::int64_t> offsets(const take_result& r, const TopicPartition& tp) {
  std::vector<std::int64_t> out;
  for (const auto& b : r.batches) {
    if (b.partition != tp) continue;
    for (const auto& rec : b.records) out.push_back(rec.offset);
  }
  return out;
}

TEST(Subscription, AssignKeepsStillAssignedAndDropsRevokedWithBuffers) {
  subscription sub = filled({a0, a1}, 10, 15);
  EXPECT_EQ(sub.buffered_bytes(), 200u);
  sub.pause(a1);

  const std::vector<TopicPartition> next{a1, b0};
  sub.assign(next);
  EXPECT_FALSE(sub.assigned(a0));
  EXPECT_EQ(sub.find(a0), nullptr);
  EXPECT_EQ(sub.buffered_bytes(), 100u);  // a0's buffer left with it
  ASSERT_NE(sub.find(a1), nullptr);
  EXPECT_TRUE(sub.find(a1)->paused);
  EXPECT_EQ(sub.find(a1)->position, (fetch_position{10, -1}));
  ASSERT_NE(sub.find(b0), nullptr);
  EXPECT_FALSE(sub.find(b0)->position.has_value());
  EXPECT_EQ(sub.assignment(), next);

  sub.resume(a1);
  take_result r = sub.take({}, all);
  EXPECT_EQ(offsets(r, a1), (std::vector<std::int64_t>{10, 11, 12, 13, 14}));
  EXPECT_TRUE(offsets(r, a0).empty());
  EXPECT_EQ(sub.buffered_bytes(), 0u);

  // Re-assigned later, a0 starts afresh: an answer to a fetch of its old life is stale.
  sub.assign(std::vector<TopicPartition>{a0, a1});
  EXPECT_EQ(sub.on_fetched(a0, {15, -1}, answer(a0, 15, 20), t0, 0ms), fetched_status::stale);
  EXPECT_EQ(sub.on_fetched(b0, {0, -1}, answer(b0, 0, 2), t0, 0ms), fetched_status::not_assigned);
  EXPECT_EQ(sub.buffered_bytes(), 0u);
}

TEST(Subscription, AnswerToAFetchFromBeforeASeekIsDropped) {
  subscription sub;
  sub.assign(std::vector<TopicPartition>{a0});
  sub.seek(a0, 10);
  const fetch_position asked = sub.find(a0)->position.value();
  sub.seek(a0, 50);  // while the fetch from 10 is in flight
  EXPECT_EQ(sub.on_fetched(a0, asked, answer(a0, 10, 20), t0, 0ms), fetched_status::stale);
  EXPECT_EQ(sub.buffered_bytes(), 0u);
  EXPECT_EQ(sub.find(a0)->high_watermark, -1);  // nothing of the stale answer applied
  EXPECT_TRUE(sub.take({}, all).batches.empty());
  EXPECT_EQ(sub.find(a0)->position, (fetch_position{50, -1}));

  // Seeking with records buffered drops them; the next answer is kept.
  EXPECT_EQ(sub.on_fetched(a0, {50, -1}, answer(a0, 50, 55), t0, 0ms), fetched_status::kept);
  EXPECT_EQ(sub.buffered_bytes(), 100u);
  sub.seek(a0, 7);
  EXPECT_EQ(sub.buffered_bytes(), 0u);
  EXPECT_TRUE(sub.take({}, all).batches.empty());
  EXPECT_EQ(sub.on_fetched(a0, {7, -1}, answer(a0, 7, 9), t0, 0ms), fetched_status::kept);
  EXPECT_EQ(offsets(sub.take({}, all), a0), (std::vector<std::int64_t>{7, 8}));
}

TEST(Subscription, AnswerWhileRecordsAreBufferedIsDropped) {
  subscription sub = filled({a0}, 0, 5);
  // Asked at the position while records are still buffered: never planned so; dropping it
  // keeps the buffer in order.
  EXPECT_EQ(sub.on_fetched(a0, {0, -1}, answer(a0, 0, 5), t0, 0ms), fetched_status::stale);
  EXPECT_EQ(sub.buffered_bytes(), 100u);
}

TEST(Subscription, TakeSharesMaxRecordsAmongPartitions) {
  subscription sub = filled({a0, a1, a2}, 0, 10);
  take_result r = sub.take({}, 6);
  EXPECT_EQ(r.count, 6u);
  ASSERT_EQ(r.batches.size(), 3u);
  for (const auto& b : r.batches) EXPECT_EQ(b.records.size(), 2u) << b.partition.partition;
  EXPECT_EQ(offsets(r, a0), (std::vector<std::int64_t>{0, 1}));

  // What a partition cannot use goes to the others: a0 has 1 left.
  subscription sub2 = filled({a0, a1}, 0, 10);
  sub2.take(std::vector<TopicPartition>{a0}, 9);
  take_result r2 = sub2.take({}, 6);
  EXPECT_EQ(r2.count, 6u);
  EXPECT_EQ(offsets(r2, a0).size(), 1u);
  EXPECT_EQ(offsets(r2, a1).size(), 5u);
}

TEST(Subscription, TakeRotatesTheFirstPartition) {
  subscription sub = filled({a0, a1, a2}, 0, 10);
  std::vector<TopicPartition> served;
  for (int i = 0; i < 3; ++i) {
    take_result r = sub.take({}, 1);
    ASSERT_EQ(r.batches.size(), 1u);
    served.push_back(r.batches[0].partition);
  }
  EXPECT_EQ(std::set<TopicPartition>(served.begin(), served.end()).size(), 3u);
  for (const auto& tp : {a0, a1, a2}) EXPECT_EQ(sub.find(tp)->position->offset, 1) << tp.partition;
}

TEST(Subscription, TakeOnlyTheGivenPartitions) {
  subscription sub = filled({a0, a1}, 0, 3);
  take_result r = sub.take(std::vector<TopicPartition>{a1, b0}, all);
  EXPECT_EQ(offsets(r, a1), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_TRUE(offsets(r, a0).empty());
  EXPECT_EQ(sub.find(a0)->position->offset, 0);
}

TEST(Subscription, PositionsAdvanceExactly) {
  subscription sub;
  sub.assign(std::vector<TopicPartition>{a0});
  sub.seek(a0, 5);
  // Records 5..9 in epoch 4; the fetched range ends at 12 (e.g. a transaction marker), epoch 4.
  ASSERT_EQ(sub.on_fetched(a0, {5, -1}, answer(a0, 5, 10, 100, 12, 4), t0, 0ms), fetched_status::kept);
  EXPECT_EQ(offsets(sub.take({}, 3), a0), (std::vector<std::int64_t>{5, 6, 7}));
  EXPECT_EQ(sub.find(a0)->position, (fetch_position{8, 4}));
  EXPECT_EQ(sub.buffered_bytes(), 100u);  // the chunk is still held
  EXPECT_EQ(offsets(sub.take({}, all), a0), (std::vector<std::int64_t>{8, 9}));
  EXPECT_EQ(sub.find(a0)->position, (fetch_position{12, 4}));
  EXPECT_EQ(sub.buffered_bytes(), 0u);

  // An answer with no records but a later next offset (only markers) moves at once.
  ASSERT_EQ(sub.on_fetched(a0, {12, 4}, answer(a0, 0, 0, 0, 14, 5), t0, 0ms), fetched_status::kept);
  EXPECT_EQ(sub.find(a0)->position, (fetch_position{14, 5}));
  EXPECT_FALSE(sub.find(a0)->has_buffered());
}

TEST(Subscription, PausedPartitionsAreNotTakenButKeepTheirRecords) {
  subscription sub = filled({a0, a1}, 0, 2);
  sub.pause(a0);
  EXPECT_EQ(sub.paused(), std::vector<TopicPartition>{a0});
  take_result r = sub.take({}, all);
  EXPECT_TRUE(offsets(r, a0).empty());
  EXPECT_EQ(offsets(r, a1).size(), 2u);
  EXPECT_TRUE(sub.take(std::vector<TopicPartition>{a0}, all).batches.empty());
  sub.resume(a0);
  EXPECT_EQ(offsets(sub.take({}, all), a0), (std::vector<std::int64_t>{0, 1}));
}

TEST(Subscription, ErrorIsRaisedAfterTheRecordsBeforeItUntilSeek) {
  subscription sub;
  sub.assign(std::vector<TopicPartition>{a0});
  sub.seek(a0, 0);
  partition_fetch_result r = answer(a0, 0, 3);
  r.error = make_error_code(client_errc::crc_mismatch);
  r.error_offset = 3;
  r.error_message = "corrupt at a-0 offset 3";
  ASSERT_EQ(sub.on_fetched(a0, {0, -1}, std::move(r), t0, 0ms), fetched_status::kept);

  take_result first = sub.take({}, all);
  EXPECT_EQ(offsets(first, a0), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_FALSE(first.error.has_value());
  for (int i = 0; i < 2; ++i) {  // raised again until the application moves
    take_result again = sub.take({}, all);
    ASSERT_TRUE(again.error.has_value());
    EXPECT_EQ(again.error->error, make_error_code(client_errc::crc_mismatch));
    EXPECT_EQ(again.error->offset, 3);
    EXPECT_EQ(again.error->partition, a0);
    EXPECT_TRUE(again.batches.empty());
  }
  EXPECT_EQ(sub.find(a0)->position->offset, 3);
  sub.seek(a0, 4);
  EXPECT_FALSE(sub.take({}, all).error.has_value());
  EXPECT_FALSE(sub.find(a0)->error.has_value());
}

TEST(Subscription, ErrorWaitsBehindOtherPartitionsRecords) {
  subscription sub = filled({a0, a1}, 0, 2);
  sub.take(std::vector<TopicPartition>{a0}, all);
  sub.set_error(a0, make_error_code(kafka_errc::offset_out_of_range), "out of range");
  // Whichever comes first, no call returns records and the error together, and the error
  // comes within two calls.
  bool raised = false;
  for (int i = 0; i < 2 && !raised; ++i) {
    take_result r = sub.take({}, all);
    EXPECT_FALSE(r.error && r.count > 0);
    raised = r.error.has_value();
    if (raised) {
      EXPECT_EQ(r.error->offset, 2);
    }
  }
  EXPECT_TRUE(raised);
}

TEST(Subscription, AnswerFieldsAndPreferredReplica) {
  subscription sub;
  sub.assign(std::vector<TopicPartition>{a0});
  sub.seek(a0, 0);
  partition_fetch_result r = answer(a0, 0, 1);
  r.high_watermark = 40;
  r.last_stable_offset = 30;
  r.log_start_offset = 2;
  r.preferred_read_replica = 7;
  const consumer::time_point now = t0 + 5s;
  ASSERT_EQ(sub.on_fetched(a0, {0, -1}, std::move(r), now, 60s), fetched_status::kept);
  const auto* s = sub.find(a0);
  EXPECT_EQ(s->high_watermark, 40);
  EXPECT_EQ(s->last_stable_offset, 30);
  EXPECT_EQ(s->log_start_offset, 2);
  EXPECT_EQ(s->last_fetch_time, now);
  EXPECT_EQ(s->preferred_replica, 7);
  EXPECT_EQ(s->preferred_replica_expiry, now + 60s);

  // The replica's own answers name none (-1): the replica stays until it expires.
  sub.take({}, all);
  partition_fetch_result from_replica = answer(a0, 1, 2);
  from_replica.preferred_read_replica = -1;
  ASSERT_EQ(sub.on_fetched(a0, {1, 3}, std::move(from_replica), now + 1s, 60s), fetched_status::kept);
  EXPECT_EQ(s->preferred_replica, 7);
  EXPECT_EQ(s->preferred_replica_expiry, now + 60s);
  EXPECT_EQ(s->last_fetch_time, now + 1s);
}

TEST(Subscription, ResetForgetsPositionAndBuffer) {
  subscription sub = filled({a0, a1}, 0, 4);
  EXPECT_TRUE(sub.request_reset(a1, reset_policy::earliest));
  EXPECT_FALSE(sub.request_reset(b0, reset_policy::latest));
  EXPECT_FALSE(sub.find(a1)->position.has_value());
  EXPECT_EQ(sub.buffered_bytes(), 100u);
  auto waiting = sub.awaiting_reset();
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0], std::make_pair(a1, reset_policy::earliest));
  EXPECT_TRUE(offsets(sub.take({}, all), a1).empty());
  sub.seek(a1, 0);
  EXPECT_TRUE(sub.awaiting_reset().empty());
}

}  // namespace
}  // namespace asiokafka::test
