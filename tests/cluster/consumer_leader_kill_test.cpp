// asiokafka::Consumer on the three-node cluster: the leader of the partition being consumed
// is SIGKILLed mid-way; the consumer finds the new leader and continues from its position
// without losing or repeating a record. And with client_rack set to a follower's rack, the
// consumer fetches from that follower (KIP-392; the rig gives node N rack "rack-N" and the
// rack-aware replica selector). Issue 10.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/consumer.hpp"
#include "asiokafka/producer.hpp"
#include "support/async.hpp"
#include "support/numbered_records.hpp"
#include "support/restore_node.hpp"
#include "support/rig.hpp"
#include "support/sequenced_produce.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr int kRecords = 6000;

TEST(ConsumerCluster, LeaderKilledWhileConsumingLosesAndRepeatsNothing) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG3_ENV");
  ASSERT_EQ(rig.node_count(), 3);
  const std::string bootstrap = rig.bootstrap("PLAINTEXT");
  std::random_device rd;
  const std::string topic = "consumer-leader-kill-" + std::to_string(rd() % 1000000000u);
  ASSERT_EQ(create_topic_rdk(bootstrap, topic, 1, 3, {{"min.insync.replicas", "2"}}), "");
  // acks=all: every acknowledged record is on the in-sync replicas, so on the next leader.
  ASSERT_TRUE(produce_numbered(bootstrap, topic, 0, kRecords));
  const int leader = leader_of(bootstrap, topic, 0);
  ASSERT_GE(leader, 1);
  ASSERT_LE(leader, 3);
  const RigNode victim = rig.node(leader);
  RestoreNode restore{victim};

  struct Seen {
    std::vector<std::int64_t> offsets;
    std::vector<std::string> values;
  };
  auto consume = [](std::string b, std::string t, const RigNode& v) -> asio::awaitable<Seen> {
    const auto ex = co_await asio::this_coro::executor;
    ConsumerConfig cfg;
    cfg.bootstrap_servers = b;
    cfg.auto_offset_reset = AutoOffsetReset::earliest;
    cfg.enable_auto_commit = false;
    cfg.max_partition_fetch_bytes = 8 * 1024;  // many fetches, so the kill lands mid-stream
    cfg.request_timeout = 5s;
    cfg.connect_timeout = 2s;
    cfg.reconnect_backoff_max = 500ms;
    Consumer consumer(ex, std::move(cfg));
    consumer.assign(std::vector<TopicPartition>{TopicPartition(t, 0)});
    co_await consumer.start();
    Seen seen;
    bool killed = false;
    const auto deadline = steady::now() + 120s;
    while (seen.offsets.size() < static_cast<std::size_t>(kRecords) && steady::now() < deadline) {
      if (!killed && seen.offsets.size() >= static_cast<std::size_t>(kRecords / 3)) {
        v.kill();
        killed = true;
      }
      const RecordBatches batch = co_await consumer.getmany({.timeout = 1s, .max_records = 500});
      for (const auto& entry : batch) {
        for (const auto& r : entry.second) {
          seen.offsets.push_back(r.offset);
          seen.values.push_back(std::string(r.value->as_string()));
        }
      }
    }
    co_await consumer.stop();
    co_return seen;
  };
  const Seen seen = run_async(consume(bootstrap, topic, victim), 180s);
  ASSERT_EQ(seen.offsets.size(), static_cast<std::size_t>(kRecords)) << "records missing after the leader was killed";
  for (std::size_t i = 0; i < seen.offsets.size(); ++i) {
    ASSERT_EQ(seen.offsets[i], static_cast<std::int64_t>(i)) << "lost or repeated around offset " << i;
    ASSERT_EQ(seen.values[i], std::to_string(i));
  }
  EXPECT_NE(leader_of(bootstrap, topic, 0), leader) << "the leader did not move";
}

TEST(ConsumerCluster, ClientRackFetchesFromTheReplicaInItsRack) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG3_ENV");
  ASSERT_EQ(rig.node_count(), 3);
  const std::string bootstrap = rig.bootstrap("PLAINTEXT");
  std::random_device rd;
  const std::string topic = "consumer-rack-" + std::to_string(rd() % 1000000000u);
  ASSERT_EQ(create_topic_rdk(bootstrap, topic, 1, 3, {{"min.insync.replicas", "2"}}), "");
  ASSERT_TRUE(produce_numbered(bootstrap, topic, 0, 500));
  const int leader = leader_of(bootstrap, topic, 0);
  ASSERT_GE(leader, 1);
  const int follower = leader % 3 + 1;  // another replica (replication factor 3)
  struct Seen {
    std::vector<std::int64_t> offsets;
    std::vector<ConnectionInfo> connections;
  };
  auto consume = [](std::string b, std::string t, int rack_node) -> asio::awaitable<Seen> {
    const auto ex = co_await asio::this_coro::executor;
    ConsumerConfig cfg;
    cfg.bootstrap_servers = b;
    cfg.auto_offset_reset = AutoOffsetReset::earliest;
    cfg.enable_auto_commit = false;
    cfg.client_rack = "rack-" + std::to_string(rack_node);
    cfg.max_partition_fetch_bytes = 1024;  // several fetches after the redirection
    Consumer consumer(ex, std::move(cfg));
    consumer.assign(std::vector<TopicPartition>{TopicPartition(t, 0)});
    co_await consumer.start();
    Seen seen;
    const auto deadline = steady::now() + 60s;
    while (seen.offsets.size() < 500 && steady::now() < deadline) {
      const RecordBatches batch = co_await consumer.getmany({.timeout = 1s});
      for (const auto& entry : batch) {
        for (const auto& r : entry.second) seen.offsets.push_back(r.offset);
      }
    }
    seen.connections = consumer.connections();
    co_await consumer.stop();
    co_return seen;
  };
  const Seen seen = run_async(consume(bootstrap, topic, follower), 90s);
  ASSERT_EQ(seen.offsets.size(), 500u);
  for (std::size_t i = 0; i < seen.offsets.size(); ++i) ASSERT_EQ(seen.offsets[i], static_cast<std::int64_t>(i));
  bool fetched_from_follower = false;
  for (const auto& c : seen.connections) {
    if (c.purpose == ConnectionPurpose::fetch && c.node_id == follower) fetched_from_follower = true;
  }
  EXPECT_TRUE(fetched_from_follower) << "no fetch connection to node " << follower << " (rack-" << follower
                                     << "); the leader is " << leader;
}

}  // namespace
}  // namespace asiokafka::test
