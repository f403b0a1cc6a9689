// net::metadata_cache (merging Metadata responses, KIP-320 epochs, routing, invalidation) and
// net::refresh_scheduler (merged refreshes, backoff, max age, waiting for topic creation),
// scripted with hand-built responses and a fake clock.
#include "net/sansio/metadata_cache.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "net/sansio/refresh_scheduler.hpp"

namespace asiokafka::net {
namespace {

using protocol::messages::MetadataResponse;
using std::chrono::milliseconds;
using Topic = MetadataResponse::MetadataResponseTopic;
using Partition = MetadataResponse::MetadataResponsePartition;

const time_point t0 = time_point{} + std::chrono::hours{1};

std::int16_t code(kafka_errc e) { return static_cast<std::int16_t>(e); }

Partition part(std::int32_t index, std::int32_t leader, std::int32_t epoch,
               kafka_errc err = kafka_errc::none) {
  Partition p;
  p.error_code = code(err);
  p.partition_index = index;
  p.leader_id = leader;
  p.leader_epoch = epoch;
  p.replica_nodes = {1, 2, 3};
  p.isr_nodes = {1, 2, 3};
  return p;
}

Topic topic(const std::string& name, std::vector<Partition> parts, std::uint8_t id = 1,
            kafka_errc err = kafka_errc::none) {
  Topic t;
  t.error_code = code(err);
  t.name = name;
  t.topic_id = {};
  t.topic_id[15] = id;
  t.partitions = std::move(parts);
  return t;
}

MetadataResponse response(std::vector<Topic> topics, std::vector<std::int32_t> brokers = {1, 2, 3}) {
  MetadataResponse r;
  for (auto id : brokers) {
    MetadataResponse::MetadataResponseBroker b;
    b.node_id = id;
    b.host = "b" + std::to_string(id);
    b.port = 9092;
    if (id == 2) b.rack = "rack-b";
    r.brokers.push_back(b);
  }
  r.cluster_id = "cluster-1";
  r.controller_id = 1;
  r.topics = std::move(topics);
  return r;
}

metadata_scope asked(std::vector<std::string> topics) { return {false, std::move(topics)}; }

std::int32_t leader_of(const metadata_cache& c, const std::string& t, std::int32_t p) {
  auto l = c.leader_for(t, p);
  return l.status == leader_status::ok ? l.broker->node_id : -1;
}

// --- metadata_cache -------------------------------------------------------------------------

TEST(MetadataCache, AppliesBrokersControllerClusterAndPartitions) {
  metadata_cache c;
  auto res = c.apply(response({topic("a", {part(0, 1, 5), part(1, 2, 3)})}), t0, asked({"a"}));
  EXPECT_EQ(c.brokers().size(), 3u);
  ASSERT_NE(c.broker(2), nullptr);
  EXPECT_EQ(c.broker(2)->host, "b2");
  EXPECT_EQ(c.broker(2)->rack, "rack-b");
  EXPECT_EQ(c.broker(9), nullptr);
  EXPECT_EQ(c.controller_id(), 1);
  EXPECT_EQ(c.cluster_id(), "cluster-1");
  EXPECT_EQ(res.leader_changed.size(), 2u);

  auto l = c.leader_for("a", 0);
  ASSERT_EQ(l.status, leader_status::ok);
  EXPECT_EQ(l.broker->node_id, 1);
  EXPECT_EQ(l.leader_epoch, 5);
  EXPECT_FALSE(l.ec);
  EXPECT_EQ(leader_of(c, "a", 1), 2);
  EXPECT_EQ(c.topic("a")->partitions[1].replicas, (std::vector<std::int32_t>{1, 2, 3}));
}

TEST(MetadataCache, BrokerListIsReplaced) {
  metadata_cache c;
  c.apply(response({}, {1, 2, 3}), t0);
  c.apply(response({}, {2, 4}), t0);
  EXPECT_EQ(c.broker(1), nullptr);
  EXPECT_NE(c.broker(4), nullptr);
  EXPECT_EQ(c.brokers().size(), 2u);
}

TEST(MetadataCache, StaleEpochNeverOverwritesNewer) {
  metadata_cache c;
  c.apply(response({topic("a", {part(0, 2, 7)})}), t0, asked({"a"}));
  // A lagging broker still believes broker 1 leads at epoch 6.
  auto res = c.apply(response({topic("a", {part(0, 1, 6)})}), t0 + milliseconds{1}, asked({"a"}));
  EXPECT_EQ(leader_of(c, "a", 0), 2);
  EXPECT_EQ(c.leader_for("a", 0).leader_epoch, 7);
  ASSERT_EQ(res.stale_ignored.size(), 1u);
  EXPECT_EQ(res.stale_ignored[0], (TopicPartition{"a", 0}));
  EXPECT_TRUE(res.leader_changed.empty());
}

TEST(MetadataCache, NewerEpochLeaderChangeApplies) {
  metadata_cache c;
  c.apply(response({topic("a", {part(0, 1, 3)})}), t0, asked({"a"}));
  auto res = c.apply(response({topic("a", {part(0, 3, 4)})}), t0, asked({"a"}));
  EXPECT_EQ(leader_of(c, "a", 0), 3);
  EXPECT_EQ(c.leader_for("a", 0).leader_epoch, 4);
  ASSERT_EQ(res.leader_changed.size(), 1u);
  // Same epoch: accepted (the same leadership, maybe with a new ISR).
  auto same = part(0, 3, 4);
  same.isr_nodes = {3};
  res = c.apply(response({topic("a", {same})}), t0, asked({"a"}));
  EXPECT_TRUE(res.leader_changed.empty());
  EXPECT_EQ(c.topic("a")->partitions[0].isr, (std::vector<std::int32_t>{3}));
}

TEST(MetadataCache, WithoutEpochsNewestResponseWins) {
  metadata_cache c;  // brokers answering Metadata < v7 send -1
  c.apply(response({topic("a", {part(0, 1, -1)})}), t0, asked({"a"}));
  c.apply(response({topic("a", {part(0, 2, -1)})}), t0, asked({"a"}));
  EXPECT_EQ(leader_of(c, "a", 0), 2);
}

TEST(MetadataCache, RecreatedTopicResetsEpochs) {
  metadata_cache c;
  c.apply(response({topic("a", {part(0, 1, 9), part(1, 1, 9)}, 1)}), t0, asked({"a"}));
  // Deleted and created again under the same name: new id, epochs restart from 0.
  auto res = c.apply(response({topic("a", {part(0, 2, 0)}, 2)}), t0, asked({"a"}));
  EXPECT_EQ(res.recreated_topics, (std::vector<std::string>{"a"}));
  EXPECT_EQ(leader_of(c, "a", 0), 2);
  EXPECT_EQ(c.topic("a")->partitions.size(), 1u);  // the old partition 1 went with it
}

TEST(MetadataCache, DeletedTopicIsRemovedAndForgetsEpochs) {
  metadata_cache c;
  c.apply(response({topic("a", {part(0, 1, 9)})}), t0, asked({"a"}));
  auto res = c.apply(response({topic("a", {}, 1, kafka_errc::unknown_topic_or_partition)}), t0,
                     asked({"a"}));
  EXPECT_EQ(res.removed_topics, (std::vector<std::string>{"a"}));
  EXPECT_EQ(c.topic("a"), nullptr);
  EXPECT_EQ(c.leader_for("a", 0).status, leader_status::unknown_topic);
  EXPECT_EQ(c.leader_for("a", 0).ec, kafka_errc::unknown_topic_or_partition);
  // Re-created while we had no id to compare (KAFKA-12257): epoch 0 is accepted.
  c.apply(response({topic("a", {part(0, 3, 0)}, 0)}), t0, asked({"a"}));
  EXPECT_EQ(leader_of(c, "a", 0), 3);
}

TEST(MetadataCache, AbsentAskedTopicIsRemovedOthersKept) {
  metadata_cache c;
  c.apply(response({topic("a", {part(0, 1, 1)}), topic("b", {part(0, 1, 1)})}), t0,
          asked({"a", "b"}));
  // A partial request for "a" only: "b" is not touched.
  c.apply(response({topic("a", {part(0, 2, 2)})}), t0, asked({"a"}));
  EXPECT_NE(c.topic("b"), nullptr);
  // Asked for "b", not in the answer: gone.
  auto res = c.apply(response({}), t0, asked({"b"}));
  EXPECT_EQ(res.removed_topics, (std::vector<std::string>{"b"}));
  EXPECT_EQ(c.topic("b"), nullptr);
  // All topics: anything unlisted is gone.
  res = c.apply(response({}), t0, {true, {}});
  EXPECT_EQ(res.removed_topics, (std::vector<std::string>{"a"}));
  EXPECT_TRUE(c.topic_names().empty());
}

TEST(MetadataCache, NewTopicAndNewPartitionsAppear) {
  metadata_cache c;
  const auto first = c.apply(response({topic("a", {part(0, 1, 1)})}), t0, asked({"a"}));
  EXPECT_EQ(first.added_topics, (std::vector<std::string>{"a"}));
  EXPECT_TRUE(first.partition_count_changed.empty()) << "a new topic is added, not resized";
  EXPECT_TRUE(first.brokers_changed);
  EXPECT_TRUE(first.controller_changed);
  EXPECT_TRUE(first.changed());
  const auto second = c.apply(response({topic("a", {part(0, 1, 1), part(1, 2, 0)}), topic("b", {part(0, 3, 0)})}),
                              t0, asked({"a", "b"}));
  EXPECT_EQ(second.added_topics, (std::vector<std::string>{"b"}));
  EXPECT_EQ(second.partition_count_changed, (std::vector<std::string>{"a"}));
  EXPECT_FALSE(second.brokers_changed);
  EXPECT_FALSE(second.controller_changed);
  EXPECT_EQ(leader_of(c, "a", 1), 2);
  EXPECT_EQ(leader_of(c, "b", 0), 3);
  EXPECT_EQ(c.topic_names(), (std::vector<std::string>{"a", "b"}));
  // A lagging broker that has not seen the partition increase: partition 1 stays, and
  // nothing changed.
  const auto lagging = c.apply(response({topic("a", {part(0, 1, 1)})}), t0, asked({"a"}));
  EXPECT_FALSE(lagging.changed());
  EXPECT_EQ(leader_of(c, "a", 1), 2);
  EXPECT_EQ(c.leader_for("a", 5).status, leader_status::unknown_partition);
  // A broker leaves: an event for it.
  const auto shrunk = c.apply(response({topic("a", {part(0, 1, 1)})}, {1, 2}), t0, asked({"a"}));
  EXPECT_TRUE(shrunk.brokers_changed);
  EXPECT_TRUE(shrunk.changed());
}

TEST(MetadataCache, LeaderNotAvailableKeepsTopicAndMarksRefresh) {
  metadata_cache c;
  // Being auto-created: no partitions yet.
  c.apply(response({topic("new", {}, 0, kafka_errc::leader_not_available)}), t0, asked({"new"}));
  ASSERT_NE(c.topic("new"), nullptr);
  EXPECT_TRUE(c.urgent());
  EXPECT_TRUE(c.needs_refresh(t0));
  auto l = c.leader_for("new", 0);
  EXPECT_EQ(l.status, leader_status::topic_error);
  EXPECT_EQ(l.ec, kafka_errc::leader_not_available);
  // A known topic answered with a passing error keeps its partitions routable.
  c.apply(response({topic("a", {part(0, 1, 1)})}), t0, asked({"a"}));
  EXPECT_FALSE(c.urgent());
  c.apply(response({topic("a", {}, 1, kafka_errc::leader_not_available)}), t0, asked({"a"}));
  EXPECT_EQ(leader_of(c, "a", 0), 1);
  EXPECT_TRUE(c.urgent());
}

TEST(MetadataCache, FinalTopicErrorsAreRecorded) {
  metadata_cache c;
  c.apply(response({topic("a", {part(0, 1, 1)})}), t0, asked({"a"}));
  c.apply(response({topic("a", {}, 1, kafka_errc::topic_authorization_failed),
                    topic("bad name", {}, 0, kafka_errc::invalid_topic_exception)}),
          t0, asked({"a", "bad name"}));
  auto l = c.leader_for("a", 0);
  EXPECT_EQ(l.status, leader_status::topic_error);
  EXPECT_EQ(l.ec, kafka_errc::topic_authorization_failed);
  EXPECT_EQ(c.leader_for("bad name", 0).ec, kafka_errc::invalid_topic_exception);
  EXPECT_FALSE(c.urgent());  // not worth a refresh
}

TEST(MetadataCache, PartitionErrors) {
  metadata_cache c;
  c.apply(response({topic("a", {part(0, -1, 4, kafka_errc::leader_not_available),
                                part(1, 2, 1, kafka_errc::replica_not_available),
                                part(2, 7, 1)})}),
          t0, asked({"a"}));
  EXPECT_EQ(c.leader_for("a", 0).status, leader_status::no_leader);
  EXPECT_EQ(c.leader_for("a", 0).ec, kafka_errc::leader_not_available);
  EXPECT_EQ(c.topic("a")->partitions[0].error, kafka_errc::leader_not_available);
  // replica_not_available concerns a follower: the leader still serves.
  EXPECT_EQ(leader_of(c, "a", 1), 2);
  // Leader 7 is not in the broker list.
  EXPECT_EQ(c.leader_for("a", 2).status, leader_status::no_leader);
  EXPECT_TRUE(c.urgent());
}

TEST(MetadataCache, ClusterIdChange) {
  metadata_cache c;
  EXPECT_FALSE(c.apply(response({}), t0).cluster_id_changed);
  auto r = response({});
  r.cluster_id = "other";
  EXPECT_TRUE(c.apply(r, t0).cluster_id_changed);
  r.cluster_id = std::nullopt;  // Metadata v0-v1 has none: keep what we know
  EXPECT_FALSE(c.apply(r, t0).cluster_id_changed);
  EXPECT_EQ(c.cluster_id(), "other");
}

TEST(MetadataCache, InvalidateClearsLeaderButKeepsEpoch) {
  metadata_cache c;
  c.apply(response({topic("a", {part(0, 1, 5), part(1, 2, 5)})}), t0, asked({"a"}));
  EXPECT_FALSE(c.urgent());
  EXPECT_TRUE(c.invalidate("a", 0, make_error_code(kafka_errc::not_leader_or_follower)));
  EXPECT_TRUE(c.urgent());
  EXPECT_EQ(c.leader_for("a", 0).status, leader_status::no_leader);
  EXPECT_EQ(leader_of(c, "a", 1), 2);
  // A stale answer cannot bring the old leader back at an older epoch ...
  c.apply(response({topic("a", {part(0, 1, 4), part(1, 2, 5)})}), t0, asked({"a"}));
  EXPECT_EQ(c.leader_for("a", 0).status, leader_status::no_leader);
  // ... a current one can.
  c.apply(response({topic("a", {part(0, 3, 6), part(1, 2, 5)})}), t0, asked({"a"}));
  EXPECT_EQ(leader_of(c, "a", 0), 3);
}

TEST(MetadataCache, InvalidateReasons) {
  metadata_cache c;
  c.apply(response({topic("a", {part(0, 1, 5), part(1, 2, 5)})}), t0, asked({"a"}));
  for (auto e : {kafka_errc::fenced_leader_epoch, kafka_errc::leader_not_available,
                 kafka_errc::unknown_topic_or_partition, kafka_errc::kafka_storage_error}) {
    c.apply(response({topic("a", {part(0, 1, 5), part(1, 2, 5)})}), t0, asked({"a"}));
    c.invalidate("a", 0, make_error_code(e));
    EXPECT_EQ(c.leader_for("a", 0).status, leader_status::no_leader) << error_name(e);
  }
  // The broker lags behind our epoch, or the connection dropped: leader kept, refresh urgent.
  for (auto ec : {make_error_code(kafka_errc::unknown_leader_epoch),
                  std::make_error_code(std::errc::connection_reset)}) {
    c.apply(response({topic("a", {part(0, 1, 5), part(1, 2, 5)})}), t0, asked({"a"}));
    EXPECT_FALSE(c.urgent());
    c.invalidate("a", 0, ec);
    EXPECT_EQ(leader_of(c, "a", 0), 1);
    EXPECT_TRUE(c.urgent());
  }
  // Whole topic.
  c.invalidate("a", make_error_code(kafka_errc::unknown_topic_id));
  EXPECT_EQ(c.leader_for("a", 1).status, leader_status::no_leader);
  // Unknown topic or partition: nothing to clear, still urgent.
  c.apply(response({topic("a", {part(0, 1, 5)})}), t0, asked({"a"}));
  EXPECT_FALSE(c.invalidate("zzz", 0, make_error_code(kafka_errc::not_leader_or_follower)));
  EXPECT_TRUE(c.urgent());
}

TEST(MetadataCache, MaxAge) {
  metadata_cache c({.metadata_max_age = milliseconds{1000}});
  EXPECT_TRUE(c.needs_refresh(t0));  // never refreshed
  c.apply(response({}), t0);
  EXPECT_FALSE(c.needs_refresh(t0 + milliseconds{999}));
  EXPECT_TRUE(c.needs_refresh(t0 + milliseconds{1000}));
  EXPECT_EQ(c.refresh_due(), t0 + milliseconds{1000});
}

TEST(MetadataCache, AnyBrokerIsLeastLoaded) {
  metadata_cache c;
  EXPECT_EQ(c.any_broker([](std::int32_t) { return node_load{}; }), nullptr);
  c.apply(response({}, {1, 2, 3}), t0);
  std::map<std::int32_t, node_load> load{
      {1, {true, true, 4}}, {2, {true, true, 1}}, {3, {true, false, 0}}};
  auto f = [&](std::int32_t id) { return load.at(id); };
  EXPECT_EQ(c.any_broker(f)->node_id, 2);  // connected beats an idle but unconnected one
  load[2].usable = false;             // e.g. in reconnect backoff
  EXPECT_EQ(c.any_broker(f)->node_id, 1);
  load[1].usable = false;
  EXPECT_EQ(c.any_broker(f)->node_id, 3);
  load[3].usable = false;
  EXPECT_EQ(c.any_broker(f), nullptr);
  // Ties rotate.
  for (auto& [id, l] : load) l = {true, true, 0};
  EXPECT_EQ(c.any_broker(f, 0)->node_id, 1);
  EXPECT_EQ(c.any_broker(f, 1)->node_id, 2);
  EXPECT_EQ(c.any_broker(f, 5)->node_id, 3);
}

TEST(MetadataCache, Forget) {
  metadata_cache c;
  c.apply(response({topic("a", {part(0, 1, 1)})}), t0, asked({"a"}));
  EXPECT_TRUE(c.forget("a"));
  EXPECT_FALSE(c.forget("a"));
  EXPECT_TRUE(c.topic_names().empty());
}

// --- refresh_scheduler ----------------------------------------------------------------------

struct SchedulerTest : ::testing::Test {
  metadata_cache cache{{.metadata_max_age = milliseconds{10'000}}};
  refresh_scheduler sched{{.retry_backoff = milliseconds{100}}};

  std::vector<refresh_done> drain() {
    std::vector<refresh_done> out;
    while (auto d = sched.next_completion()) out.push_back(*d);
    return out;
  }
  // Brings the cache up to date at t0 with topic "a".
  void bootstrap() {
    auto plan = sched.poll(t0, cache);
    ASSERT_TRUE(plan);
    sched.on_response(plan->generation, response({topic("a", {part(0, 1, 1)})}), cache, t0);
  }
};

TEST_F(SchedulerTest, ManyConcurrentAsksMergeIntoOneRefresh) {
  bootstrap();
  const time_point t = t0 + milliseconds{500};
  auto w1 = sched.ask({{"a"}});
  auto w2 = sched.ask({{"b"}});
  auto w3 = sched.ask({{"a", "c"}});
  auto plan = sched.poll(t, cache);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->scope.topics, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(sched.poll(t, cache));  // one at a time
  EXPECT_TRUE(drain().empty());
  sched.on_response(plan->generation,
                    response({topic("a", {part(0, 1, 1)}), topic("b", {part(0, 2, 1)}),
                              topic("c", {part(0, 3, 1)})}),
                    cache, t);
  auto done = drain();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].id, w1);
  EXPECT_EQ(done[1].id, w2);
  EXPECT_EQ(done[2].id, w3);
  for (const auto& d : done) EXPECT_FALSE(d.ec);
  EXPECT_EQ(sched.waiters(), 0u);
  EXPECT_FALSE(sched.poll(t + milliseconds{200}, cache));  // nothing wanted
}

TEST_F(SchedulerTest, AsksDuringARefreshGoInTheNextOne) {
  bootstrap();
  const time_point t = t0 + milliseconds{500};
  sched.ask({{"a"}});
  auto plan = sched.poll(t, cache);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->scope.topics, (std::vector<std::string>{"a"}));
  auto joins = sched.ask({{"a"}});     // covered by the refresh in flight: waits for it
  auto next = sched.ask({{"b"}});      // not covered: the next refresh
  auto any = sched.ask({});            // any fresh metadata: the one in flight
  sched.on_response(plan->generation, response({topic("a", {part(0, 1, 1)})}), cache,
                    t + milliseconds{10});
  auto done = drain();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_NE(done[1].id, next);
  EXPECT_EQ(done[1].id, joins);
  EXPECT_EQ(done[2].id, any);
  // The next refresh waits for retry_backoff after the end of the last one.
  EXPECT_FALSE(sched.poll(t + milliseconds{109}, cache));
  EXPECT_EQ(sched.next_wakeup(cache), t + milliseconds{110});
  auto plan2 = sched.poll(t + milliseconds{110}, cache);
  ASSERT_TRUE(plan2);
  EXPECT_EQ(plan2->scope.topics, (std::vector<std::string>{"a", "b"}));  // cached + asked
  sched.on_response(plan2->generation, response({topic("a", {part(0, 1, 1)})}), cache,
                    t + milliseconds{120});
  done = drain();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, next);
}

TEST_F(SchedulerTest, MaxAgeRefresh) {
  bootstrap();
  EXPECT_FALSE(sched.poll(t0 + milliseconds{9'999}, cache));
  EXPECT_EQ(sched.next_wakeup(cache), t0 + milliseconds{10'000});
  auto plan = sched.poll(t0 + milliseconds{10'000}, cache);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->scope.topics, (std::vector<std::string>{"a"}));
  EXPECT_EQ(sched.next_wakeup(cache), std::nullopt);  // in flight, nobody with a deadline
  sched.on_response(plan->generation, response({topic("a", {part(0, 1, 1)})}), cache,
                    t0 + milliseconds{10'005});
  EXPECT_EQ(sched.next_wakeup(cache), t0 + milliseconds{20'005});
}

TEST_F(SchedulerTest, UrgentRefreshAfterInvalidateRespectsRetryBackoff) {
  bootstrap();
  cache.invalidate("a", 0, make_error_code(kafka_errc::not_leader_or_follower));
  EXPECT_FALSE(sched.poll(t0 + milliseconds{50}, cache));  // 100 ms since the last refresh
  EXPECT_EQ(sched.next_wakeup(cache), t0 + milliseconds{100});
  auto plan = sched.poll(t0 + milliseconds{100}, cache);
  ASSERT_TRUE(plan);
  sched.on_response(plan->generation, response({topic("a", {part(0, 2, 2)})}), cache,
                    t0 + milliseconds{110});
  EXPECT_EQ(leader_of(cache, "a", 0), 2);
  EXPECT_FALSE(cache.urgent());
}

TEST_F(SchedulerTest, FailedRefreshIsRetriedAfterBackoff) {
  const auto lost = std::make_error_code(std::errc::connection_reset);
  auto w = sched.ask({{"a"}});
  auto plan = sched.poll(t0, cache);
  ASSERT_TRUE(plan);
  sched.on_failure(plan->generation, lost, t0 + milliseconds{5});
  auto done = drain();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, w);
  EXPECT_EQ(done[0].ec, lost);
  // The cache was never filled: still due, after the backoff.
  EXPECT_FALSE(sched.poll(t0 + milliseconds{104}, cache));
  EXPECT_TRUE(sched.poll(t0 + milliseconds{105}, cache));
}

TEST_F(SchedulerTest, LateOrUnknownGenerationIsIgnored) {
  auto plan = sched.poll(t0, cache);
  ASSERT_TRUE(plan);
  auto res = sched.on_response(plan->generation + 7, response({topic("a", {part(0, 1, 1)})}),
                               cache, t0);
  EXPECT_TRUE(res.leader_changed.empty());
  EXPECT_TRUE(sched.in_flight());
  EXPECT_EQ(cache.topic("a"), nullptr);
}

TEST_F(SchedulerTest, WaitsForTopicAutoCreation) {
  bootstrap();
  auto w = sched.ask({{"new"}, true, t0 + milliseconds{1000}});
  time_point t = t0 + milliseconds{100};
  auto plan = sched.poll(t, cache);
  ASSERT_TRUE(plan);
  // First sight: unknown (auto-creation just triggered).
  sched.on_response(plan->generation,
                    response({topic("a", {part(0, 1, 1)}),
                              topic("new", {}, 0, kafka_errc::unknown_topic_or_partition)}),
                    cache, t);
  EXPECT_TRUE(drain().empty());
  // Asked again after retry_backoff: being created, no leader yet.
  t += milliseconds{100};
  plan = sched.poll(t, cache);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->scope.topics, (std::vector<std::string>{"a", "new"}));
  sched.on_response(plan->generation,
                    response({topic("a", {part(0, 1, 1)}),
                              topic("new", {}, 5, kafka_errc::leader_not_available)}),
                    cache, t);
  EXPECT_TRUE(drain().empty());
  // Partitions, one without a leader yet.
  t += milliseconds{100};
  plan = sched.poll(t, cache);
  ASSERT_TRUE(plan);
  sched.on_response(plan->generation,
                    response({topic("a", {part(0, 1, 1)}),
                              topic("new", {part(0, 2, 0), part(1, -1, 0, kafka_errc::leader_not_available)}, 5)}),
                    cache, t);
  EXPECT_TRUE(drain().empty());
  t += milliseconds{100};
  plan = sched.poll(t, cache);
  ASSERT_TRUE(plan);
  sched.on_response(plan->generation,
                    response({topic("a", {part(0, 1, 1)}),
                              topic("new", {part(0, 2, 0), part(1, 3, 0)}, 5)}),
                    cache, t);
  auto done = drain();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, w);
  EXPECT_FALSE(done[0].ec);
}

TEST_F(SchedulerTest, AutoCreationWaitEndsAtDeadline) {
  bootstrap();
  const time_point deadline = t0 + milliseconds{350};
  auto w = sched.ask({{"never"}, true, deadline});
  time_point t = t0 + milliseconds{100};
  for (int i = 0; i < 2; ++i, t += milliseconds{100}) {
    auto plan = sched.poll(t, cache);
    ASSERT_TRUE(plan);
    sched.on_response(plan->generation,
                      response({topic("never", {}, 0, kafka_errc::unknown_topic_or_partition)}),
                      cache, t);
    EXPECT_TRUE(drain().empty());
    EXPECT_EQ(sched.next_wakeup(cache), t + milliseconds{100});
  }
  // t = 300: the third attempt goes out; the deadline passes while it is in flight.
  auto plan = sched.poll(t, cache);
  ASSERT_TRUE(plan);
  EXPECT_EQ(sched.next_wakeup(cache), deadline);
  sched.expire(deadline);
  auto done = drain();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, w);
  EXPECT_EQ(done[0].ec, client_errc::timeout);
  EXPECT_EQ(sched.waiters(), 0u);
}

TEST_F(SchedulerTest, AutoCreationWaitStopsOnFinalError) {
  bootstrap();
  auto w = sched.ask({{"secret"}, true, t0 + milliseconds{10'000}});
  auto plan = sched.poll(t0 + milliseconds{100}, cache);
  ASSERT_TRUE(plan);
  sched.on_response(plan->generation,
                    response({topic("secret", {}, 0, kafka_errc::topic_authorization_failed)}),
                    cache, t0 + milliseconds{100});
  auto done = drain();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, w);
  EXPECT_EQ(done[0].ec, kafka_errc::topic_authorization_failed);
}

TEST_F(SchedulerTest, AutoCreationWaitSurvivesAFailedRefresh) {
  auto w = sched.ask({{"new"}, true, t0 + milliseconds{1000}});
  auto plan = sched.poll(t0, cache);
  ASSERT_TRUE(plan);
  sched.on_failure(plan->generation, std::make_error_code(std::errc::connection_reset), t0);
  EXPECT_TRUE(drain().empty());
  plan = sched.poll(t0 + milliseconds{100}, cache);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->scope.topics, (std::vector<std::string>{"new"}));
  sched.on_response(plan->generation, response({topic("new", {part(0, 1, 0)})}), cache,
                    t0 + milliseconds{100});
  auto done = drain();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, w);
  EXPECT_FALSE(done[0].ec);
}

TEST_F(SchedulerTest, CancelAndTrackAndRequests) {
  auto w = sched.ask({{"a"}});
  EXPECT_TRUE(sched.cancel(w));
  EXPECT_FALSE(sched.cancel(w));
  auto done = drain();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].ec, std::errc::operation_canceled);

  sched.track("tracked");
  auto plan = sched.poll(t0, cache);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->scope.topics, (std::vector<std::string>{"a", "tracked"}));
  auto req = make_metadata_request(plan->scope, false);
  ASSERT_TRUE(req.topics);
  ASSERT_EQ(req.topics->size(), 2u);
  EXPECT_EQ((*req.topics)[1].name, "tracked");
  EXPECT_FALSE(req.allow_auto_topic_creation);
  EXPECT_FALSE(make_metadata_request({true, {}}, true).topics.has_value());
}

// A tracked topic the answers do not list yet (being created while a group's leader assigns):
// asked for again after retry_backoff, doubling to the cap, instead of at max age (10 s here).
TEST_F(SchedulerTest, MissingTrackedTopicIsAskedForAgainWithGrowingBackoff) {
  bootstrap();
  sched.track("new");
  time_point t = t0 + milliseconds{500};
  std::vector<milliseconds> gaps;
  for (int round = 0; round < 6; ++round) {
    const auto due = sched.next_wakeup(cache);
    ASSERT_TRUE(due);
    EXPECT_FALSE(sched.poll(*due - milliseconds{1}, cache));
    auto plan = sched.poll(*due, cache);
    ASSERT_TRUE(plan) << round;
    EXPECT_EQ(plan->scope.topics, (std::vector<std::string>{"a", "new"}));
    if (round > 0) gaps.push_back(std::chrono::duration_cast<milliseconds>(*due - t));
    t = *due + milliseconds{5};
    sched.on_response(plan->generation, response({topic("a", {part(0, 1, 1)})}), cache, t);
    EXPECT_EQ(sched.missing_rounds(), static_cast<std::uint32_t>(round + 1));
  }
  // 100, 200, 400, 800, then capped at 1000 ms.
  EXPECT_EQ(gaps, (std::vector<milliseconds>{milliseconds{100}, milliseconds{200}, milliseconds{400},
                                             milliseconds{800}, milliseconds{1000}}));
  // The topic shows up: it is cached, nothing is missing, and the next refresh is at max age.
  auto plan = sched.poll(*sched.next_wakeup(cache), cache);
  ASSERT_TRUE(plan);
  const auto seen = sched.on_response(plan->generation,
                                      response({topic("a", {part(0, 1, 1)}), topic("new", {part(0, 1, 1)})}), cache, t);
  EXPECT_EQ(seen.added_topics, (std::vector<std::string>{"new"}));
  EXPECT_EQ(sched.missing_rounds(), 0u);
  EXPECT_EQ(sched.next_wakeup(cache), t + milliseconds{10'000});
  // Untracked while missing: the retries stop after the next answer.
  sched.track("never");
  sched.untrack("never");
  EXPECT_EQ(sched.next_wakeup(cache), t + milliseconds{10'000});
}

TEST(RefreshScheduler, AllTopicsMode) {
  metadata_cache cache;
  refresh_scheduler sched({.all_topics = true});
  auto plan = sched.poll(t0, cache);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->scope.all_topics);
  sched.on_response(plan->generation, response({topic("x", {part(0, 1, 1)})}), cache, t0);
  auto w = sched.ask({{"x", "y"}});
  plan = sched.poll(t0 + milliseconds{100}, cache);
  ASSERT_TRUE(plan);
  // During an all-topics refresh, any ask is covered.
  auto w2 = sched.ask({{"z"}});
  sched.on_response(plan->generation, response({}), cache, t0 + milliseconds{100});
  EXPECT_EQ(cache.topic("x"), nullptr);  // gone from the full list
  auto d1 = sched.next_completion();
  auto d2 = sched.next_completion();
  ASSERT_TRUE(d1 && d2);
  EXPECT_EQ(d1->id, w);
  EXPECT_EQ(d2->id, w2);
}

}  // namespace
}  // namespace asiokafka::net
