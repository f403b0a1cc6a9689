// The producer's record accumulator (src/producer/sansio/accumulator.hpp): batching by size,
// linger, the memory budget, draining per broker within request and in-flight limits,
// idempotent sequence numbers across retries and epoch resets, expiry. Time is simulated.
#include "producer/sansio/accumulator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/records.hpp"

namespace asiokafka::producer {
namespace {

using namespace std::chrono_literals;
using protocol::byte_view;

const time_point t0 = time_point() + 1h;

byte_view bytes_of(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

record_view record(const std::string& value, std::int64_t timestamp = 1000) {
  record_view r;
  r.timestamp = timestamp;
  r.value = bytes_of(value);
  return r;
}

accumulator_options small(std::size_t batch = 1024) {
  accumulator_options o;
  o.max_batch_size = batch;
  o.max_request_size = 4 * batch;
  o.buffer_memory = 16 * batch;
  o.linger = 5ms;
  return o;
}

// Every partition led by node 1 unless listed.
struct leaders {
  std::map<std::pair<std::string, std::int32_t>, std::int32_t> of;
  std::int32_t operator()(std::string_view t, std::int32_t p) const {
    const auto it = of.find({std::string(t), p});
    return it == of.end() ? 1 : it->second;
  }
};

drain_result drain_all(accumulator& acc, time_point now, const leaders& l = {}) {
  return acc.drain(now, std::cref(l), [](std::int32_t) { return 0; }, false);
}

// Drains as the sender does with a broker that answers at once (never busy): again until
// nothing more is taken. Returns every batch taken, in order, and checks that no request
// carries two batches of one partition.
std::vector<batch*> drain_rounds(accumulator& acc, time_point now, const leaders& l = {}) {
  std::vector<batch*> taken;
  for (int round = 0; round < 100; ++round) {
    const auto d = drain_all(acc, now, l);
    for (const auto& req : d.requests) {
      std::set<std::pair<std::string_view, std::int32_t>> seen;
      for (batch* b : req.batches) {
        EXPECT_TRUE(seen.insert({b->topic, b->partition}).second) << "two batches of one partition in a request";
        taken.push_back(b);
      }
    }
    if (d.requests.empty()) break;
  }
  return taken;
}

std::vector<std::string> values_in(const batch& b) {
  std::vector<std::string> out;
  protocol::RecordsReader rd(b.builder.data());
  EXPECT_TRUE(rd.next_batch()) << rd.error().message();
  protocol::Record rec;
  while (rd.next_record(rec)) out.emplace_back(reinterpret_cast<const char*>(rec.value->data()), rec.value->size());
  EXPECT_FALSE(rd.error()) << rd.error().message();
  return out;
}

void succeed(accumulator& acc, batch* b, std::int64_t offset = 0) { acc.complete(b, {}, "", offset, -1, 0); }

TEST(Accumulator, RecordsShareABatchUntilItIsFull) {
  accumulator acc(small(1024));
  const std::string v(100, 'x');
  std::vector<append_result> results;
  for (int i = 0; i < 20; ++i) results.push_back(acc.append("t", 0, record(v), t0));
  batch* first = results[0].b;
  int in_first = 0;
  for (const auto& r : results) {
    ASSERT_EQ(r.status, append_status::appended);
    if (r.b == first) {
      EXPECT_EQ(r.index, in_first++);
    }
  }
  EXPECT_GT(in_first, 5);
  EXPECT_LT(in_first, 11) << "1024 bytes hold fewer than 11 records of 100 bytes";
  EXPECT_NE(results[static_cast<std::size_t>(in_first)].b, first);
  EXPECT_TRUE(results[static_cast<std::size_t>(in_first)].batch_closed);
  EXPECT_TRUE(first->closed);
  EXPECT_LE(first->builder.uncompressed_size(), 1024u);
  std::vector<batch*> distinct;
  for (const auto& r : results) {
    if (distinct.empty() || distinct.back() != r.b) distinct.push_back(r.b);
  }
  ASSERT_EQ(distinct.size(), 3u);
  EXPECT_EQ(acc.memory_used(), 3 * 1024u);
  // The full batches go at once, one per request (the first of the partition alone until
  // it is acknowledged); the open one waits for its linger.
  auto d = drain_all(acc, t0);
  ASSERT_EQ(d.requests.size(), 1u);
  ASSERT_EQ(d.requests[0].batches, std::vector<batch*>{first});
  EXPECT_FALSE(d.more);
  EXPECT_EQ(values_in(*first).size(), static_cast<std::size_t>(in_first));
  EXPECT_TRUE(drain_all(acc, t0).requests.empty());
  succeed(acc, first);
  d = drain_all(acc, t0);
  ASSERT_EQ(d.requests.size(), 1u);
  EXPECT_EQ(d.requests[0].batches, std::vector<batch*>{distinct[1]});
  EXPECT_FALSE(d.more) << "the open batch is not ready yet";
  EXPECT_EQ(d.next_ready, t0 + 5ms);
  d = drain_all(acc, t0 + 5ms);
  ASSERT_EQ(d.requests.size(), 1u);
  EXPECT_EQ(d.requests[0].batches, std::vector<batch*>{distinct[2]});
}

TEST(Accumulator, ALoneRecordLeavesWhenItsLingerEnds) {
  accumulator acc(small());
  const auto r = acc.append("t", 3, record("only"), t0);
  EXPECT_TRUE(drain_all(acc, t0 + 4ms).requests.empty());
  const auto d = drain_all(acc, t0 + 5ms);
  ASSERT_EQ(d.requests.size(), 1u);
  EXPECT_EQ(d.requests[0].batches[0], r.b);
  EXPECT_EQ(values_in(*r.b), std::vector<std::string>{"only"});
  // Taken: a later record starts a new batch.
  EXPECT_NE(acc.append("t", 3, record("next"), t0 + 6ms).b, r.b);
}

TEST(Accumulator, FlushAndMemoryPressureMakeLingeringBatchesReady) {
  accumulator acc(small());
  acc.append("t", 0, record("a"), t0);
  acc.begin_flush();
  EXPECT_EQ(drain_all(acc, t0).requests.size(), 1u);
  acc.end_flush();
  acc.append("t", 1, record("b"), t0);
  EXPECT_TRUE(drain_all(acc, t0).requests.empty());
  leaders l;
  EXPECT_EQ(acc.drain(t0, std::cref(l), [](std::int32_t) { return 0; }, true).requests.size(), 1u);
}

// Nagle for batches: a batch whose linger is over but which is not full waits while its
// broker has a request in flight, and keeps taking records meanwhile.
TEST(Accumulator, ALingeredBatchWaitsWhileItsBrokerIsBusy) {
  accumulator acc(small());
  leaders l;
  const auto busy = [](std::int32_t) { return 1; };
  const auto idle = [](std::int32_t) { return 0; };
  const auto first = acc.append("t", 0, record("a"), t0);
  auto d = acc.drain(t0 + 5ms, std::cref(l), busy, false);
  EXPECT_TRUE(d.requests.empty()) << "held while the broker answers another request";
  EXPECT_EQ(d.next_ready, time_point::max()) << "a response wakes it, not a timer";
  EXPECT_FALSE(d.more);
  EXPECT_EQ(acc.append("t", 0, record("b"), t0 + 6ms).b, first.b) << "the held batch still takes records";
  d = acc.drain(t0 + 6ms, std::cref(l), idle, false);
  ASSERT_EQ(d.requests.size(), 1u);
  ASSERT_EQ(d.requests[0].batches, std::vector<batch*>{first.b});
  EXPECT_EQ(values_in(*first.b), (std::vector<std::string>{"a", "b"}));
  succeed(acc, first.b);
  // Urgent batches go while the broker is busy (within its in-flight limit): flushing, memory
  // pressure, full.
  acc.append("t", 0, record("c"), t0 + 7ms);
  acc.begin_flush();
  EXPECT_EQ(acc.drain(t0 + 7ms, std::cref(l), busy, false).requests.size(), 1u);
  acc.end_flush();
  acc.append("t", 1, record("d"), t0 + 7ms);
  EXPECT_EQ(acc.drain(t0 + 7ms, std::cref(l), busy, true).requests.size(), 1u);
  append_result full;
  for (int i = 0; i < 20 && !full.batch_closed; ++i) full = acc.append("t", 2, record(std::string(300, 'x')), t0 + 7ms);
  ASSERT_TRUE(full.batch_closed);
  d = acc.drain(t0 + 7ms, std::cref(l), busy, false);
  ASSERT_EQ(d.requests.size(), 1u);
  EXPECT_EQ(d.requests[0].batches.size(), 1u) << "the full batch, not the open one behind it";
  EXPECT_TRUE(d.requests[0].batches[0]->closed);
  acc.append("t", 4, record("e"), t0 + 7ms);
  EXPECT_TRUE(acc.drain(t0 + 7ms, std::cref(l), [](std::int32_t) { return 5; }, true).requests.empty())
      << "nothing beyond the connection's in-flight limit";
}

// A request that goes to a busy broker anyway (a full batch) takes along the lingered batches
// of that broker's other partitions, wherever they come in the rotation; another broker's
// stay held.
TEST(Accumulator, ALingeredBatchJoinsARequestThatGoesToItsBroker) {
  accumulator acc(small());
  leaders l;
  l.of[{"t", 3}] = 2;
  const auto lingered = acc.append("t", 0, record("small"), t0);
  const auto other_node = acc.append("t", 3, record("elsewhere"), t0);
  append_result full;
  for (int i = 0; i < 20 && !full.batch_closed; ++i) full = acc.append("t", 1, record(std::string(300, 'x')), t0);
  ASSERT_TRUE(full.batch_closed);
  const auto d = acc.drain(t0 + 5ms, std::cref(l), [](std::int32_t) { return 1; }, false);
  ASSERT_EQ(d.requests.size(), 1u);
  EXPECT_EQ(d.requests[0].node, 1);
  const auto& taken = d.requests[0].batches;
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_NE(std::find(taken.begin(), taken.end(), lingered.b), taken.end());
  EXPECT_TRUE(taken[0]->closed && taken[1]->closed);
  EXPECT_FALSE(other_node.b->in_flight) << "broker 2 gets no request in this drain";
}

TEST(Accumulator, TheMemoryBudgetRefusesNewBatchesUntilOneCompletes) {
  auto o = small(1024);
  o.buffer_memory = 3 * 1024;
  accumulator acc(o);
  std::vector<batch*> batches;
  for (int p = 0; p < 3; ++p) batches.push_back(acc.append("t", p, record("v"), t0).b);
  EXPECT_EQ(acc.memory_available(), 0u);
  const auto refused = acc.append("t", 3, record("v"), t0);
  EXPECT_EQ(refused.status, append_status::no_memory);
  EXPECT_EQ(refused.needed, 1024u);
  // An open batch still takes records: no new memory needed.
  EXPECT_EQ(acc.append("t", 0, record("w"), t0).status, append_status::appended);
  const auto d = drain_all(acc, t0 + 5ms);
  ASSERT_EQ(d.requests.size(), 1u);
  succeed(acc, d.requests[0].batches[0]);
  EXPECT_EQ(acc.memory_available(), 1024u);
  EXPECT_EQ(acc.append("t", 3, record("v"), t0 + 6ms, false).status, append_status::no_memory)
      << "may_allocate=false keeps a newcomer behind earlier waiters";
  EXPECT_EQ(acc.append("t", 3, record("v"), t0 + 6ms).status, append_status::appended);
}

TEST(Accumulator, ARecordLargerThanTheLimitsIsRefusedAndChangesNothing) {
  auto o = small(1024);
  accumulator acc(o);
  acc.append("t", 0, record("a"), t0);
  const auto r = acc.append("t", 0, record(std::string(o.max_request_size, 'x')), t0);
  EXPECT_EQ(r.status, append_status::too_large);
  EXPECT_GT(r.size, o.max_request_size);
  EXPECT_EQ(acc.memory_used(), 1024u);
  // A record larger than a batch but within the request gets a batch of its own size.
  const auto big = acc.append("t", 0, record(std::string(2000, 'y')), t0);
  ASSERT_EQ(big.status, append_status::appended);
  EXPECT_GT(big.b->reserved, 2000u);
  EXPECT_EQ(acc.memory_used(), 1024u + big.b->reserved);
}

TEST(Accumulator, DrainGroupsByLeaderWithinTheRequestSize) {
  auto o = small(1024);
  o.max_request_size = 1500;
  accumulator acc(o);
  leaders l;
  l.of[{"t", 2}] = 2;
  l.of[{"u", 0}] = -1;  // no leader known
  for (int p = 0; p < 3; ++p) acc.append("t", p, record(std::string(800, 'a')), t0);
  acc.append("u", 0, record("x"), t0);
  auto d = drain_all(acc, t0 + 5ms, l);
  ASSERT_EQ(d.requests.size(), 2u);
  std::map<std::int32_t, std::size_t> per_node;
  for (const auto& r : d.requests) per_node[r.node] = r.batches.size();
  EXPECT_EQ(per_node[1], 1u) << "two 800-byte batches exceed a 1500-byte request";
  EXPECT_EQ(per_node[2], 1u);
  EXPECT_EQ(d.unknown_leaders, std::vector<std::string_view>{"u"});
  // The one left for node 1 goes in the next request; nothing goes to a node without room.
  const auto none = acc.drain(t0 + 5ms, std::cref(l), [](std::int32_t) { return 5; }, false);
  EXPECT_TRUE(none.requests.empty());
  d = drain_all(acc, t0 + 5ms, l);
  ASSERT_EQ(d.requests.size(), 1u);
  EXPECT_EQ(d.requests[0].node, 1);
  EXPECT_EQ(acc.in_flight(), 3u);
}

TEST(Accumulator, WithoutIdempotenceOneBatchPerPartitionIsInFlight) {
  auto o = small(256);
  o.idempotent = false;
  o.max_in_flight_per_partition = 1;
  accumulator acc(o);
  for (int i = 0; i < 6; ++i) acc.append("t", 0, record(std::string(100, 'a')), t0);
  auto d = drain_all(acc, t0 + 5ms);
  ASSERT_EQ(d.requests.size(), 1u);
  ASSERT_EQ(d.requests[0].batches.size(), 1u);
  batch* first = d.requests[0].batches[0];
  EXPECT_EQ(first->base_sequence, -1);
  EXPECT_TRUE(drain_all(acc, t0 + 5ms).requests.empty());
  succeed(acc, first);
  EXPECT_EQ(drain_all(acc, t0 + 5ms).requests.size(), 1u);
}

TEST(Accumulator, IdempotentBatchesAreNumberedInOrderAndKeepTheirNumbersOnRetry) {
  auto o = small(512);
  accumulator acc(o);
  acc.set_producer(77, 3);
  std::vector<batch*> made;
  for (int i = 0; i < 16; ++i) {
    const auto r = acc.append("t", 0, record(std::string(100, static_cast<char>('a' + i))), t0);
    if (made.empty() || made.back() != r.b) made.push_back(r.b);
  }
  ASSERT_EQ(made.size(), 4u) << "four records of 100 bytes to a 512-byte batch";
  // Until the partition's first acknowledgement in this epoch, one batch at a time.
  auto first = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(first, std::vector<batch*>{made[0]}) << "the first batch goes alone";
  EXPECT_TRUE(drain_all(acc, t0 + 5ms).requests.empty());
  // Failed (a leader not ready yet) and retried: still alone, with its number.
  acc.retry(made[0], t0 + 5ms);
  first = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(first, std::vector<batch*>{made[0]});
  EXPECT_EQ(made[0]->base_sequence, 0);
  succeed(acc, made[0]);
  const auto rest = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(rest, std::vector<batch*>(made.begin() + 1, made.end())) << "then up to 5 in flight, in order";
  std::vector<batch*> sent{made[0]};
  sent.insert(sent.end(), rest.begin(), rest.end());
  drain_result d;
  std::int32_t expected = 0;
  for (batch* b : sent) {
    protocol::RecordsReader rd(b->builder.data());
    ASSERT_TRUE(rd.next_batch());
    EXPECT_EQ(rd.batch().producer_id, 77);
    EXPECT_EQ(rd.batch().producer_epoch, 3);
    EXPECT_EQ(rd.batch().base_sequence, expected);
    EXPECT_FALSE(protocol::validate_records(b->builder.data()));
    expected += b->builder.record_count();
  }
  // The second fails and comes back; the later ones fail (out of order) and come back too.
  EXPECT_EQ(acc.position_of(sent[1]), sequence_position::next);
  EXPECT_EQ(acc.position_of(sent[2]), sequence_position::ahead) << "an out-of-order answer for it echoes an earlier failure";
  for (std::size_t i = 2; i < sent.size(); ++i) acc.retry(sent[i], t0 + 10ms);
  acc.retry(sent[1], t0 + 10ms);
  EXPECT_FALSE(acc.needs_epoch_bump()) << "retries leave no gap";
  EXPECT_TRUE(drain_all(acc, t0 + 9ms).requests.empty()) << "backoff";
  // Retried batches go one at a time, lowest sequence first.
  for (std::size_t i = 1; i < sent.size(); ++i) {
    d = drain_all(acc, t0 + 10ms);
    ASSERT_EQ(d.requests.size(), 1u);
    ASSERT_EQ(d.requests[0].batches.size(), 1u);
    EXPECT_EQ(d.requests[0].batches[0], sent[i]);
    EXPECT_EQ(sent[i]->attempts, 2);
    EXPECT_TRUE(drain_all(acc, t0 + 10ms).requests.empty()) << "a retried batch waits for its partition";
    succeed(acc, sent[i]);
  }
  EXPECT_EQ(acc.incomplete(), 0u);
  EXPECT_EQ(acc.memory_used(), 0u);
}

TEST(Accumulator, AFailedNumberedBatchAsksForAnEpochBumpThatRenumbersTheRest) {
  accumulator acc(small(512));
  acc.set_producer(9, 0);
  for (int i = 0; i < 12; ++i) acc.append("t", 0, record(std::string(100, 'a')), t0);
  auto first = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(first.size(), 1u);
  succeed(acc, first[0]);
  const auto sent = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(acc.position_of(sent[0]), sequence_position::next);
  // The broker moved past sent[0] (it acknowledged sent[1]): sent[0] can never be written.
  succeed(acc, sent[1]);
  EXPECT_EQ(acc.position_of(sent[0]), sequence_position::behind);
  EXPECT_FALSE(acc.needs_epoch_bump());
  acc.complete(sent[0], make_error_code(client_errc::timeout), "gone", -1, -1, -1);
  EXPECT_TRUE(acc.needs_epoch_bump()) << "a numbered batch failed: the sequences have a gap";
  acc.set_producer(9, 1);
  ASSERT_TRUE(acc.reset_sequences());
  EXPECT_FALSE(acc.needs_epoch_bump());
  acc.append("t", 0, record(std::string(400, 'b')), t0);
  const auto after = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(after.size(), 1u) << "a new epoch: the first batch goes alone again";
  protocol::RecordsReader rd(after[0]->builder.data());
  ASSERT_TRUE(rd.next_batch());
  EXPECT_EQ(rd.batch().producer_epoch, 1);
  EXPECT_EQ(rd.batch().base_sequence, 0);
  // A batch failing before it was numbered leaves no gap.
  accumulator plain(small(512));
  plain.set_producer(9, 0);
  const auto r = plain.append("t", 1, record("x"), t0);
  plain.complete(r.b, make_error_code(client_errc::timeout), "expired", -1, -1, -1);
  EXPECT_FALSE(plain.needs_epoch_bump());
}

TEST(Accumulator, AnEpochResetRenumbersQueuedBatchesFromZero) {
  accumulator acc(small(512));
  acc.set_producer(5, 0);
  for (int i = 0; i < 8; ++i) acc.append("t", 0, record(std::string(100, 'a')), t0);
  std::vector<batch*> sent = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(sent.size(), 1u) << "the first batch of an epoch goes alone";
  acc.retry(sent[0], t0);
  sent = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]->base_sequence, 0);
  EXPECT_FALSE(acc.reset_sequences()) << "not while batches are in flight";
  acc.retry(sent[0], t0);
  acc.set_producer(5, 1);
  ASSERT_TRUE(acc.reset_sequences());
  // Numbered afresh from sequence 0 in the new epoch; the first alone, then the rest.
  std::vector<batch*> all;
  std::int32_t expected = 0;
  for (int round = 0; round < 4 && acc.incomplete() > 0; ++round) {
    for (batch* b : drain_rounds(acc, t0 + 5ms)) {
      all.push_back(b);
      protocol::RecordsReader rd(b->builder.data());
      ASSERT_TRUE(rd.next_batch());
      EXPECT_EQ(rd.batch().producer_epoch, 1);
      EXPECT_EQ(rd.batch().base_sequence, expected);
      EXPECT_FALSE(protocol::validate_records(b->builder.data()));
      expected += b->builder.record_count();
      succeed(acc, b);
    }
  }
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], sent[0]);
}

TEST(Accumulator, ABatchTooLargeForTheBrokerSplitsInHalvesThatEndOnTheirOwn) {
  struct counted : batch_result {
    int calls = 0;
    void on_done() override { ++calls; }
  };
  auto o = small(1024);
  o.idempotent = false;
  o.max_in_flight_per_partition = 1;
  auto root = std::make_shared<counted>();
  o.make_result = [root] { return root; };
  accumulator acc(o);
  for (int i = 0; i < 8; ++i) acc.append("t", 0, record("v" + std::to_string(i), 1000 + i), t0);
  auto sent = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_EQ(sent[0]->builder.record_count(), 8);
  ASSERT_TRUE(acc.split(sent[0], t0 + 5ms));  // 4 + 4
  auto first = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(values_in(*first[0]), (std::vector<std::string>{"v0", "v1", "v2", "v3"}));
  // The first half is still too large: 2 + 2.
  ASSERT_TRUE(acc.split(first[0], t0 + 5ms));
  auto a = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(values_in(*a[0]), (std::vector<std::string>{"v0", "v1"}));
  succeed(acc, a[0], 100);
  auto b = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(values_in(*b[0]), (std::vector<std::string>{"v2", "v3"}));
  acc.complete(b[0], make_error_code(client_errc::timeout), "failed part", -1, -1, -1);
  auto c = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(values_in(*c[0]), (std::vector<std::string>{"v4", "v5", "v6", "v7"}));
  EXPECT_EQ(root->calls, 0) << "not done while a part is pending";
  succeed(acc, c[0], 200);
  EXPECT_EQ(root->calls, 1);
  EXPECT_TRUE(root->done);
  // Each record's outcome is its part's, with offsets within the part.
  EXPECT_EQ(root->outcome_of(0).offset, 100);
  EXPECT_EQ(root->outcome_of(1).offset, 101);
  EXPECT_EQ(root->outcome_of(2).of->error, client_errc::timeout);
  EXPECT_EQ(root->outcome_of(3).offset, -1);
  EXPECT_EQ(root->outcome_of(4).offset, 200);
  EXPECT_EQ(root->outcome_of(7).offset, 203);
  EXPECT_FALSE(root->outcome_of(7).of->error);
  EXPECT_EQ(root->error, client_errc::timeout) << "the batch as a whole: its first failure";
  EXPECT_EQ(acc.incomplete(), 0u);
  EXPECT_EQ(acc.memory_used(), 0u);
  // One record cannot be split.
  acc.append("t", 1, record("alone"), t0);
  auto one = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_FALSE(acc.split(one[0], t0));
}

TEST(Accumulator, AnIdempotentSplitAsksForAnEpochBump) {
  accumulator acc(small(1024));
  acc.set_producer(3, 0);
  for (int i = 0; i < 4; ++i) acc.append("t", 0, record("v"), t0);
  auto sent = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]->base_sequence, 0);
  ASSERT_TRUE(acc.split(sent[0], t0));
  EXPECT_TRUE(acc.needs_epoch_bump());
  acc.set_producer(3, 1);
  ASSERT_TRUE(acc.reset_sequences());
  auto a = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]->base_sequence, 0);
  EXPECT_EQ(a[0]->stamped_epoch, 1);
  succeed(acc, a[0]);
  auto b = drain_rounds(acc, t0 + 5ms);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0]->base_sequence, 2);
}

TEST(Accumulator, TheBudgetCountsWhatBatchesHoldAndTheirSpareBuffers) {
  for (const auto codec : {protocol::CompressionType::none, protocol::CompressionType::lz4}) {
    SCOPED_TRACE(static_cast<int>(codec));
    auto o = small(1024);
    o.idempotent = false;
    o.compression = codec;
    accumulator acc(o);
    // Fill the budget until a new batch is refused; a batch may take the budget past its
    // limit by at most its own size (a compressing batch holds its records and their
    // compressed form).
    int batches = 0;
    for (int p = 0; p < 64; ++p) {
      if (acc.append("t", p, record(std::string(900, 'x')), t0).status == append_status::no_memory) break;
      ++batches;
    }
    EXPECT_GE(batches, 8);
    EXPECT_LE(acc.memory_used(), o.buffer_memory + 3 * 1024);
    for (int round = 0; round < 64 && acc.incomplete() > 0; ++round) {
      for (batch* b : drain_rounds(acc, t0 + 5ms)) {
        EXPECT_LE(acc.memory_used(), o.buffer_memory + 3 * 1024) << "after compression too";
        succeed(acc, b);
      }
    }
    EXPECT_EQ(acc.memory_used(), 0u);
    EXPECT_GT(acc.spare_memory(), 0u) << "some buffers are kept for reuse";
    EXPECT_LE(acc.spare_memory(), o.buffer_memory) << "spares count against the budget";
    // Reusing them: the budget counts the reused buffers' real size.
    for (int p = 0; p < 64; ++p) {
      if (acc.append("t", p, record(std::string(900, 'y')), t0).status == append_status::no_memory) break;
    }
    EXPECT_LE(acc.memory_used() + acc.spare_memory(), o.buffer_memory + 3 * 1024);
  }
  // Memory the shell holds for the batches (its waiters) counts too.
  std::size_t waiters = 15 * 1024;
  auto o = small(1024);
  o.external_memory = &waiters;
  accumulator acc(o);
  EXPECT_EQ(acc.append("t", 0, record("a"), t0).status, append_status::appended);
  EXPECT_EQ(acc.append("t", 1, record("b"), t0).status, append_status::no_memory);
  waiters = 0;
  EXPECT_EQ(acc.append("t", 1, record("b"), t0).status, append_status::appended);
}

TEST(Accumulator, ExpiryFailsQueuedBatchesPastTheirDeadlineOnly) {
  struct counted : batch_result {
    int* calls;
    explicit counted(int* c) : calls(c) {}
    void on_done() override { ++*calls; }
  };
  int done_calls = 0;
  auto o = small();
  o.make_result = [&] { return std::make_shared<counted>(&done_calls); };
  accumulator acc(o);
  const auto early = acc.append("t", 0, record("a"), t0);
  const auto flying = acc.append("t", 1, record("b"), t0);
  const auto d = drain_all(acc, t0 + 5ms, leaders{{{{"t", 0}, -1}}});
  ASSERT_EQ(d.requests.size(), 1u);
  ASSERT_EQ(d.requests[0].batches[0], flying.b);
  const auto late = acc.append("t", 2, record("c"), t0 + 50ms);
  const auto early_result = early.b->result;
  const auto late_result = late.b->result;
  const auto e = acc.expire(t0 + 10ms, make_error_code(client_errc::timeout), "delivery timed out");
  EXPECT_EQ(e.batches, 1u);
  EXPECT_FALSE(e.numbered);
  EXPECT_TRUE(early_result->done);
  EXPECT_EQ(early_result->error, client_errc::timeout);
  EXPECT_NE(early_result->message.find("t-0"), std::string::npos) << early_result->message;
  EXPECT_FALSE(late_result->done);
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(acc.fail_all(make_error_code(client_errc::client_closed), "closed"), 1u);
  EXPECT_TRUE(late_result->done);
  EXPECT_EQ(acc.incomplete(), 1u) << "the in-flight batch ends with its response";
  const auto flying_result = flying.b->result;
  acc.complete(flying.b, {}, "", 42, 7, 1);
  EXPECT_EQ(flying_result->base_offset, 42);
  EXPECT_EQ(flying_result->log_append_time, 7);
  EXPECT_EQ(done_calls, 3);
  EXPECT_EQ(acc.memory_used(), 0u);
}

TEST(Accumulator, EveryCodecProducesBatchesThatReadBack) {
  for (auto codec : {protocol::CompressionType::none, protocol::CompressionType::gzip,
                     protocol::CompressionType::snappy, protocol::CompressionType::lz4, protocol::CompressionType::zstd}) {
    SCOPED_TRACE(static_cast<int>(codec));
    auto o = small(4096);
    o.compression = codec;
    accumulator acc(o);
    std::vector<std::string> values;
    for (int i = 0; i < 30; ++i) {
      values.push_back("value-" + std::to_string(i));
      acc.append("t", 0, record(values.back()), t0);
    }
    const auto d = drain_all(acc, t0 + 5ms);
    ASSERT_EQ(d.requests.size(), 1u);
    ASSERT_EQ(d.requests[0].batches.size(), 1u);
    EXPECT_EQ(values_in(*d.requests[0].batches[0]), values);
  }
}

}  // namespace
}  // namespace asiokafka::producer
