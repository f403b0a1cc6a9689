// consumer::fetch_planner scripted: which partitions each node is asked for, with which
// offsets, epochs and sizes; the prefetch rule, the memory cap, in-flight partitions,
// leaderless partitions, preferred read replicas and the rotating order.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "asiokafka/error.hpp"
#include "consumer/sansio/fetch_planner.hpp"

namespace asiokafka::test {
namespace {

using namespace std::chrono_literals;
using consumer::fetch_limits;
using consumer::fetch_planner;
using consumer::fetch_round;
using consumer::fetched_status;
using consumer::node_fetch;
using consumer::partition_fetch_result;
using consumer::partition_leader;
using consumer::subscription;

constexpr std::size_t all = std::numeric_limits<std::size_t>::max();
const TopicPartition a0{"a", 0}, a1{"a", 1}, a2{"a", 2}, b0{"b", 0};
const consumer::time_point t0{};
using leader_map = std::map<TopicPartition, partition_leader>;

subscription positioned(std::vector<TopicPartition> tps, std::int64_t at = 0) {
  subscription sub;
  sub.assign(tps);
  for (const auto& tp : tps) sub.seek(tp, at);
  return sub;
}

// Records [from, to) pinning `bytes`.
partition_fetch_result answer(std::int64_t from, std::int64_t to, std::size_t bytes) {
  partition_fetch_result r;
  for (std::int64_t o = from; o < to; ++o) {
    ConsumerRecord rec;
    rec.offset = o;
    r.records.push_back(rec);
  }
  r.next_offset = to;
  r.retained_bytes = bytes;
  return r;
}

const node_fetch* request_to(const fetch_round& round, std::int32_t node) {
  for (const auto& r : round.requests) {
    if (r.node_id == node) return &r;
  }
  return nullptr;
}

std::vector<TopicPartition> partitions_of(const node_fetch& r) {
  std::vector<TopicPartition> out;
  for (const auto& w : r.wants) out.push_back(TopicPartition{w.topic, w.partition});
  return out;
}

TEST(FetchPlanner, PlansPerNodeWithOffsetsEpochsAndSizes) {
  subscription sub = positioned({a0, a1, b0}, 0);
  sub.seek(a1, 42, 6);
  const leader_map leaders{{a0, {1, 9, {}}}, {a1, {1, 9, {}}}, {b0, {2, 3, {}}}};
  fetch_planner planner(fetch_limits{.fetch_max_bytes = 5000, .max_partition_fetch_bytes = 1000,
                                     .fetch_buffer_memory = 100000});
  fetch_round round = planner.plan(sub, leaders, t0);
  ASSERT_EQ(round.requests.size(), 2u);
  EXPECT_TRUE(round.leaderless.empty());
  const node_fetch* one = request_to(round, 1);
  ASSERT_NE(one, nullptr);
  ASSERT_EQ(one->wants.size(), 2u);
  EXPECT_EQ(one->max_bytes, 2000);  // both partitions' worth, under fetch_max_bytes
  for (const auto& w : one->wants) {
    EXPECT_EQ(w.partition_max_bytes, 1000);
    EXPECT_EQ(w.current_leader_epoch, 9);
    if (w.partition == 1) {
      EXPECT_EQ(w.fetch_offset, 42);
      EXPECT_EQ(w.last_fetched_epoch, 6);
      EXPECT_EQ(consumer::position_of(w), (consumer::fetch_position{42, 6}));
    }
  }
  const node_fetch* two = request_to(round, 2);
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(partitions_of(*two), std::vector<TopicPartition>{b0});
  EXPECT_EQ(sub.find(a0)->in_flight_node, 1);
  EXPECT_EQ(sub.find(b0)->in_flight_node, 2);
  EXPECT_EQ(planner.reserved_bytes(), 3000u);
}

TEST(FetchPlanner, InFlightPartitionsAreNotPlannedTwice) {
  subscription sub = positioned({a0, b0});
  leader_map leaders{{a0, {1, -1, {}}}, {b0, {2, -1, {}}}};
  fetch_planner planner(fetch_limits{});
  ASSERT_EQ(planner.plan(sub, leaders, t0).requests.size(), 2u);
  EXPECT_TRUE(planner.plan(sub, leaders, t0).requests.empty());

  // A partition newly routed to a busy node waits for that node's request to end.
  sub.assign(std::vector<TopicPartition>{a0, a1, b0});
  sub.seek(a1, 0);
  leaders[a1] = {1, -1, {}};
  EXPECT_TRUE(planner.plan(sub, leaders, t0).requests.empty());

  planner.end_fetch(sub, 1);  // failed: nothing buffered, a0 is fetchable again
  EXPECT_FALSE(sub.find(a0)->fetch_in_flight());
  EXPECT_TRUE(sub.find(b0)->fetch_in_flight());
  fetch_round round = planner.plan(sub, leaders, t0);
  ASSERT_EQ(round.requests.size(), 1u);
  EXPECT_EQ(round.requests[0].node_id, 1);
  EXPECT_EQ(round.requests[0].wants.size(), 2u);
}

TEST(FetchPlanner, PartitionInFlightIsNotPlannedToItsNewLeader) {
  subscription sub = positioned({a0});
  leader_map leaders{{a0, {1, 5, {}}}};
  fetch_planner planner(fetch_limits{});
  ASSERT_EQ(planner.plan(sub, leaders, t0).requests.size(), 1u);
  leaders[a0] = {2, 6, {}};  // the leader moved while the fetch to node 1 is out
  EXPECT_TRUE(planner.plan(sub, leaders, t0).requests.empty());
  planner.end_fetch(sub, 2);  // not where it is in flight: no effect
  EXPECT_EQ(sub.find(a0)->in_flight_node, 1);
  EXPECT_TRUE(planner.plan(sub, leaders, t0).requests.empty());
  planner.end_fetch(sub, 1);
  fetch_round round = planner.plan(sub, leaders, t0);
  ASSERT_EQ(round.requests.size(), 1u);
  EXPECT_EQ(round.requests[0].node_id, 2);
  EXPECT_EQ(round.requests[0].wants[0].current_leader_epoch, 6);
}

TEST(FetchPlanner, OnlyFetchablePartitionsArePlanned) {
  subscription sub = positioned({a0, a1, a2, b0});
  sub.pause(a0);
  sub.request_reset(a1, consumer::reset_policy::latest);
  sub.set_error(a2, make_error_code(client_errc::corrupt_record), "bad");
  sub.assign(std::vector<TopicPartition>{a0, a1, a2, b0, TopicPartition{"c", 0}});  // c-0: no position
  const leader_map leaders{{a0, {1, -1, {}}}, {a1, {1, -1, {}}}, {a2, {1, -1, {}}},
                           {b0, {1, -1, {}}}, {{"c", 0}, {1, -1, {}}}};
  fetch_planner planner(fetch_limits{});
  fetch_round round = planner.plan(sub, leaders, t0);
  ASSERT_EQ(round.requests.size(), 1u);
  EXPECT_EQ(partitions_of(round.requests[0]), std::vector<TopicPartition>{b0});

  planner.end_fetch(sub, 1);
  sub.resume(a0);
  round = planner.plan(sub, leaders, t0);
  ASSERT_EQ(round.requests.size(), 1u);
  EXPECT_EQ(round.requests[0].wants.size(), 2u);  // a0 and b0
}

TEST(FetchPlanner, DrainedPartitionIsFetchedAgainAtOnce) {
  subscription sub = positioned({a0, a1});
  const leader_map leaders{{a0, {1, -1, {}}}, {a1, {1, -1, {}}}};
  fetch_planner planner(fetch_limits{});
  fetch_round round = planner.plan(sub, leaders, t0);
  ASSERT_EQ(round.requests.size(), 1u);
  for (const auto& w : round.requests[0].wants) {
    const TopicPartition tp{w.topic, w.partition};
    ASSERT_EQ(sub.on_fetched(tp, consumer::position_of(w), answer(0, 5, 100), t0, 0ms), fetched_status::kept);
  }
  planner.end_fetch(sub, 1);
  // Both buffered: nothing to fetch.
  EXPECT_TRUE(planner.plan(sub, leaders, t0).requests.empty());
  // The application drains a1 only: a1 goes out at once from its new position, a0 waits.
  sub.take(std::vector<TopicPartition>{a1}, all);
  round = planner.plan(sub, leaders, t0);
  ASSERT_EQ(round.requests.size(), 1u);
  ASSERT_EQ(round.requests[0].wants.size(), 1u);
  EXPECT_EQ(round.requests[0].wants[0].partition, 1);
  EXPECT_EQ(round.requests[0].wants[0].fetch_offset, 5);
  // Half-drained is not drained.
  planner.end_fetch(sub, 1);
  sub.take(std::vector<TopicPartition>{a0}, 3);
  round = planner.plan(sub, leaders, t0);
  ASSERT_EQ(round.requests.size(), 1u);
  EXPECT_EQ(partitions_of(round.requests[0]), std::vector<TopicPartition>{a1});
}

TEST(FetchPlanner, MemoryCapStopsPlanningAndBoundsTheAsk) {
  subscription sub = positioned({a0, a1, b0});
  const leader_map leaders{{a0, {1, -1, {}}}, {a1, {1, -1, {}}}, {b0, {2, -1, {}}}};
  fetch_planner planner(fetch_limits{.fetch_max_bytes = 1000, .max_partition_fetch_bytes = 500,
                                     .fetch_buffer_memory = 1600});
  // a0 buffers 1000 bytes: 600 left.
  sub.set_in_flight(a0, 1);
  ASSERT_EQ(sub.on_fetched(a0, {0, -1}, answer(0, 3, 1000), t0, 0ms), fetched_status::kept);
  sub.end_in_flight(a0, 1);
  fetch_round round = planner.plan(sub, leaders, t0);
  // Node 1 (a1) reserves 500; node 2 (b0) gets the 100 left.
  ASSERT_EQ(round.requests.size(), 2u);
  EXPECT_EQ(request_to(round, 1)->max_bytes, 500);
  EXPECT_EQ(request_to(round, 2)->max_bytes, 100);
  EXPECT_EQ(request_to(round, 2)->wants[0].partition_max_bytes, 100);
  EXPECT_EQ(planner.reserved_bytes(), 600u);

  // At the cap nothing goes out, even for a partition that is fetchable (b0).
  planner.end_fetch(sub, 1);
  planner.end_fetch(sub, 2);
  EXPECT_EQ(planner.reserved_bytes(), 0u);
  sub.set_in_flight(a1, 1);
  ASSERT_EQ(sub.on_fetched(a1, {0, -1}, answer(0, 2, 600), t0, 0ms), fetched_status::kept);
  sub.end_in_flight(a1, 1);
  ASSERT_EQ(sub.buffered_bytes(), 1600u);
  ASSERT_FALSE(sub.find(b0)->has_buffered());
  EXPECT_TRUE(planner.plan(sub, leaders, t0).requests.empty());
  EXPECT_FALSE(sub.find(b0)->fetch_in_flight());
  // Consuming frees room: planning resumes.
  sub.take(std::vector<TopicPartition>{a0}, all);
  round = planner.plan(sub, leaders, t0);
  ASSERT_EQ(round.requests.size(), 2u);
  EXPECT_EQ(planner.reserved_bytes(), 1000u);
}

TEST(FetchPlanner, RequestNeverAsksForMoreThanTheRoomLeft) {
  subscription sub = positioned({a0, a1, a2});
  const leader_map leaders{{a0, {1, -1, {}}}, {a1, {2, -1, {}}}, {a2, {2, -1, {}}}};
  fetch_planner planner(fetch_limits{.fetch_max_bytes = 2000, .max_partition_fetch_bytes = 500,
                                     .fetch_buffer_memory = 1500});
  sub.set_in_flight(a0, 1);
  ASSERT_EQ(sub.on_fetched(a0, {0, -1}, answer(0, 1, 900), t0, 0ms), fetched_status::kept);
  sub.end_in_flight(a0, 1);
  fetch_round round = planner.plan(sub, leaders, t0);
  ASSERT_EQ(round.requests.size(), 1u);
  ASSERT_EQ(round.requests[0].wants.size(), 2u);
  EXPECT_EQ(round.requests[0].max_bytes, 600);  // two partitions of 500, 600 left
  for (const auto& w : round.requests[0].wants) EXPECT_EQ(w.partition_max_bytes, 500);
  EXPECT_EQ(planner.reserved_bytes(), 600u);
}

TEST(FetchPlanner, LeaderlessPartitionsAreReported) {
  subscription sub = positioned({a0, a1});
  fetch_planner planner(fetch_limits{});
  fetch_round round = planner.plan(sub, [](const TopicPartition& tp) {
    return tp.partition == 0 ? partition_leader{3, -1, {}} : partition_leader{};
  }, t0);
  ASSERT_EQ(round.requests.size(), 1u);
  EXPECT_EQ(round.requests[0].node_id, 3);
  EXPECT_EQ(round.leaderless, std::vector<TopicPartition>{a1});
  EXPECT_FALSE(sub.find(a1)->fetch_in_flight());
  // Reported again while it has none.
  EXPECT_EQ(planner.plan(sub, leader_map{}, t0).leaderless, std::vector<TopicPartition>{a1});
}

TEST(FetchPlanner, PreferredReplicaUntilItExpiresThenLeader) {
  subscription sub = positioned({a0});
  const leader_map leaders{{a0, {1, 2, {}}}};
  fetch_planner planner(fetch_limits{});
  ASSERT_EQ(planner.plan(sub, leaders, t0).requests.at(0).node_id, 1);
  partition_fetch_result r;
  r.next_offset = 0;
  r.preferred_read_replica = 4;
  ASSERT_EQ(sub.on_fetched(a0, {0, -1}, std::move(r), t0, 10s), fetched_status::kept);
  planner.end_fetch(sub, 1);

  fetch_round round = planner.plan(sub, leaders, t0 + 9s);
  ASSERT_EQ(round.requests.size(), 1u);
  EXPECT_EQ(round.requests[0].node_id, 4);
  EXPECT_EQ(round.requests[0].wants[0].current_leader_epoch, 2);
  planner.end_fetch(sub, 4);
  // Without a known leader the replica still serves.
  EXPECT_EQ(planner.plan(sub, leader_map{}, t0 + 9s).requests.at(0).node_id, 4);
  planner.end_fetch(sub, 4);

  round = planner.plan(sub, leaders, t0 + 10s);
  ASSERT_EQ(round.requests.size(), 1u);
  EXPECT_EQ(round.requests[0].node_id, 1);
  EXPECT_EQ(sub.find(a0)->preferred_replica, -1);
}

TEST(FetchPlanner, PartitionOrderRotatesPerRequest) {
  subscription sub = positioned({a0, a1, a2});
  const leader_map leaders{{a0, {1, -1, {}}}, {a1, {1, -1, {}}}, {a2, {1, -1, {}}}};
  fetch_planner planner(fetch_limits{});
  std::vector<std::vector<TopicPartition>> orders;
  for (int i = 0; i < 3; ++i) {
    fetch_round round = planner.plan(sub, leaders, t0);
    ASSERT_EQ(round.requests.size(), 1u);
    orders.push_back(partitions_of(round.requests[0]));
    planner.end_fetch(sub, 1);
  }
  EXPECT_EQ(orders[0], (std::vector<TopicPartition>{a0, a1, a2}));
  EXPECT_EQ(orders[1], (std::vector<TopicPartition>{a1, a2, a0}));
  EXPECT_EQ(orders[2], (std::vector<TopicPartition>{a2, a0, a1}));
}

}  // namespace
}  // namespace asiokafka::test
