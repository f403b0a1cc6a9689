// asiokafka::Admin on the three-node cluster (every node a broker and a KRaft controller):
// operations routed to the controller keep working while each node in turn is SIGKILLed. One
// of them leads the KRaft quorum, so its death moves the active controller; the node the
// admin's metadata names as controller (KRaft answers a random live broker) may be the one
// that dies, and then the admin's first request meets a dead connection.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/admin.hpp"
#include "asiokafka/kafka_error.hpp"
#include "support/admin_support.hpp"
#include "support/async.hpp"
#include "support/co_assert.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// Starts the node again when the test ends, whatever happened.
struct Restart {
  std::optional<RigNode> node;
  ~Restart() {
    try {
      if (node) node->start();
    } catch (...) {
    }
  }
};

TEST(AdminCluster3, ControllerOperationsSurviveTheDeathOfEachNodeInTurn) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG3_ENV");
  std::random_device rd;
  const std::string prefix = "admin-ctl-" + std::to_string(rd());
  for (int victim_id = 1; victim_id <= rig.node_count(); ++victim_id) {
    Restart restart;
    auto body = [&]() -> asio::awaitable<bool> {
      const auto executor = co_await asio::this_coro::executor;
      AdminConfig config;
      config.bootstrap_servers = rig.bootstrap("PLAINTEXT");
      config.request_timeout = 5s;
      config.connect_timeout = 2s;
      config.reconnect_backoff_max = 500ms;
      config.default_api_timeout = 45s;
      Admin admin(executor, config);
      co_await admin.start();
      const ClusterDescription before = co_await admin.describe_cluster();
      CO_ASSERT(before.brokers.size() == 3u);
      // Warm the connection to the node about to die, so the admin meets a dead connection
      // rather than a fresh connect.
      const std::string warm = prefix + "-warm-" + std::to_string(victim_id);
      std::vector<NewTopic> warm_topics{NewTopic(warm, 1, 3)};
      EXPECT_TRUE((co_await admin.create_topics(warm_topics)).at(0).ok());

      restart.node.emplace(rig.node(victim_id));
      restart.node->kill();
      const auto killed_at = clock_type::now();
      const std::string topic = prefix + "-" + std::to_string(victim_id);
      std::vector<NewTopic> topics{NewTopic(topic, 2, 2)};
      const auto created = co_await admin.create_topics(topics);
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - killed_at);
      CO_ASSERT(created.size() == 1u);
      EXPECT_TRUE(created[0].ok()) << "node " << victim_id << " killed: " << created[0].error_message;
      std::vector<NewPartitions> more{NewPartitions(topic, 3)};
      const auto grown = co_await admin.create_partitions(more);
      EXPECT_TRUE(grown.at(0).ok()) << grown[0].error_message;
      std::vector<std::string> names{topic, warm};
      const auto deleted = co_await admin.delete_topics(names);
      for (const auto& d : deleted) EXPECT_TRUE(d.ok()) << d.error_message;
      std::cout << "node " << victim_id << " killed (metadata controller was " << before.controller_id
                << "): create_topics answered in " << took.count() << " ms\n";
      co_await admin.close();
      co_return true;
    };
    EXPECT_TRUE(run_async(body(), 120s)) << "victim " << victim_id;
  }
}

// A partition's leader dies: list_offsets finds the new leader on its own (the dead one's
// connection fails, the leader is looked up again); once the old leader is back in sync, a
// preferred election (ElectLeaders) gives it the partition back.
TEST(AdminCluster3, ListOffsetsFollowsAMovedLeaderAndAPreferredElectionMovesItBack) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG3_ENV");
  std::random_device rd;
  const std::string topic = "admin-elect-" + std::to_string(rd());
  Restart restart;
  std::int32_t preferred = -1;
  auto first = [&]() -> asio::awaitable<bool> {
    const auto executor = co_await asio::this_coro::executor;
    AdminConfig config;
    config.bootstrap_servers = rig.bootstrap("PLAINTEXT");
    config.request_timeout = 5s;
    config.connect_timeout = 2s;
    config.reconnect_backoff_max = 500ms;
    config.default_api_timeout = 45s;
    Admin admin(executor, config);
    co_await admin.start();
    std::vector<NewTopic> topics{NewTopic(topic, 1, 3)};
    CO_ASSERT((co_await admin.create_topics(topics)).at(0).ok());
    const auto d = co_await describe_created(admin, std::vector<std::string>(1, topic));
    CO_ASSERT(d.at(0).ok());
    CO_ASSERT(d[0].partitions.size() == 1u && d[0].partitions[0].leader.has_value());
    preferred = d[0].partitions[0].replicas.at(0).node_id;
    CO_ASSERT(d[0].partitions[0].leader->node_id == preferred);
    const std::vector<std::pair<TopicPartition, OffsetSpec>> latest{{TopicPartition(topic, 0), OffsetSpec::latest()}};
    CO_ASSERT((co_await admin.list_offsets(latest)).at(0).ok());  // connected to the leader

    restart.node.emplace(rig.node(preferred));
    restart.node->kill();
    const auto killed_at = clock_type::now();
    const auto after = co_await admin.list_offsets(latest);
    CO_ASSERT(after.size() == 1u);
    EXPECT_TRUE(after[0].ok()) << after[0].error_message;
    EXPECT_EQ(after[0].offset, 0);
    std::cout << "list_offsets after the leader's death: "
              << std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - killed_at).count() << " ms\n";
    co_await admin.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(first(), 120s));
  ASSERT_GE(preferred, 1);
  restart.node->start();
  restart.node.reset();

  auto second = [&]() -> asio::awaitable<bool> {
    const auto executor = co_await asio::this_coro::executor;
    AdminConfig config;
    config.bootstrap_servers = rig.bootstrap("PLAINTEXT");
    config.default_api_timeout = 45s;
    Admin admin(executor, config);
    co_await admin.start();
    const std::vector<TopicPartition> tps{TopicPartition(topic, 0)};
    // Until the restarted replica is back in sync, the election is refused
    // (PREFERRED_LEADER_NOT_AVAILABLE); bounded: 60 tries, 500 ms apart.
    std::vector<ElectLeadersResult> r;
    for (int attempt = 0; attempt < 60; ++attempt) {
      r = co_await admin.elect_leaders(ElectionType::preferred, tps);
      CO_ASSERT(r.size() == 1u);
      if (r[0].ok()) break;
      asio::steady_timer pace(executor, 500ms);
      co_await pace.async_wait(asio::use_awaitable);
    }
    EXPECT_TRUE(r.at(0).ok()) << r[0].error_message;
    // Elected: the preferred replica leads again (the broker's metadata follows shortly).
    std::int32_t leader = -1;
    for (int attempt = 0; attempt < 50 && leader != preferred; ++attempt) {
      const auto d = co_await admin.describe_topics(std::vector<std::string>(1, topic));
      leader = d.at(0).partitions.at(0).leader ? d[0].partitions[0].leader->node_id : -1;
      if (leader != preferred) {
        asio::steady_timer pace(executor, 100ms);
        co_await pace.async_wait(asio::use_awaitable);
      }
    }
    EXPECT_EQ(leader, preferred);
    // Asked again: nothing to do, typed and named.
    const auto again = co_await admin.elect_leaders(ElectionType::preferred, tps);
    EXPECT_EQ(again.at(0).error, kafka_errc::election_not_needed) << again[0].error_message;
    std::vector<std::string> names{topic};
    (void)co_await admin.delete_topics(names);
    co_await admin.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(second(), 90s));
}

// The group coordinator's node dies: offset operations and describe_groups find the new
// coordinator within their timeout (NOT_COORDINATOR / a dead connection: looked up again).
TEST(AdminCluster3, GroupOperationsFollowAMovedCoordinator) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG3_ENV");
  std::random_device rd;
  const std::string topic = "admin-coord-" + std::to_string(rd());
  const std::string group = "admin-coord-group-" + std::to_string(rd());
  Restart restart;
  auto body = [&]() -> asio::awaitable<bool> {
    const auto executor = co_await asio::this_coro::executor;
    AdminConfig config;
    config.bootstrap_servers = rig.bootstrap("PLAINTEXT");
    config.request_timeout = 5s;
    config.connect_timeout = 2s;
    config.reconnect_backoff_max = 500ms;
    config.default_api_timeout = 60s;
    Admin admin(executor, config);
    co_await admin.start();
    std::vector<NewTopic> topics{NewTopic(topic, 2, 3)};
    CO_ASSERT((co_await admin.create_topics(topics)).at(0).ok());
    CO_ASSERT((co_await describe_created(admin, std::vector<std::string>(1, topic))).at(0).ok());
    std::vector<NewGroupOffset> first{NewGroupOffset(TopicPartition(topic, 0), 5),
                                      NewGroupOffset(TopicPartition(topic, 1), 6)};
    const auto committed = co_await admin.alter_consumer_group_offsets(group, first);
    for (const auto& c : committed) CO_ASSERT(c.ok());
    const auto before = co_await admin.describe_groups(std::vector<std::string>(1, group));
    CO_ASSERT(before.size() == 1u && before[0].ok() && before[0].coordinator.has_value());
    const std::int32_t old_coordinator = before[0].coordinator->node_id;
    // The group's offsets must be on every replica before the coordinator dies: a node the
    // previous test restarted may still be catching up, and the commit above was acknowledged
    // by the in-sync replicas of that moment (bounded: 30 s).
    bool replicated = false;
    for (int attempt = 0; attempt < 150 && !replicated; ++attempt) {
      const auto offsets_topic = co_await admin.describe_topics(std::vector<std::string>(1, "__consumer_offsets"));
      replicated = offsets_topic.at(0).ok() && !offsets_topic[0].partitions.empty();
      for (const auto& p : offsets_topic[0].partitions) replicated = replicated && p.isr.size() == 3u;
      if (!replicated) {
        asio::steady_timer pace(executor, 200ms);
        co_await pace.async_wait(asio::use_awaitable);
      }
    }
    EXPECT_TRUE(replicated) << "__consumer_offsets not fully in sync";

    restart.node.emplace(rig.node(old_coordinator));
    restart.node->kill();
    const auto killed_at = clock_type::now();
    // Right after the move, the new coordinator has been seen (CI and here, once in three
    // runs) to answer an all-partitions OffsetFetch with nothing and no error, before it has
    // loaded the group; Java's Admin gets the same. Asked again until it lists them (bounded:
    // 20 tries, 500 ms apart).
    std::vector<ListedGroupOffset> listed = co_await admin.list_consumer_group_offsets(group);
    for (int attempt = 0; attempt < 20 && listed.size() != 2u; ++attempt) {
      asio::steady_timer pace(executor, 500ms);
      co_await pace.async_wait(asio::use_awaitable);
      listed = co_await admin.list_consumer_group_offsets(group);
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - killed_at);
    CO_ASSERT(listed.size() == 2u);
    EXPECT_TRUE(listed[0].ok()) << listed[0].error_message;
    EXPECT_EQ(listed[0].offset, 5);
    EXPECT_EQ(listed[1].offset, 6);
    std::vector<NewGroupOffset> second{NewGroupOffset(TopicPartition(topic, 0), 9)};
    const auto altered = co_await admin.alter_consumer_group_offsets(group, second);
    EXPECT_TRUE(altered.at(0).ok()) << altered[0].error_message;
    const auto after = co_await admin.describe_groups(std::vector<std::string>(1, group));
    CO_ASSERT(after.size() == 1u);
    EXPECT_TRUE(after[0].ok()) << after[0].error_message;
    CO_ASSERT(after[0].coordinator.has_value());
    EXPECT_NE(after[0].coordinator->node_id, old_coordinator);
    const BrokerMetadata found = co_await admin.find_coordinator(CoordinatorType::group, group);
    EXPECT_EQ(found.node_id, after[0].coordinator->node_id);
    const auto again = co_await admin.list_consumer_group_offsets(group, std::vector<TopicPartition>(1, TopicPartition(topic, 0)));
    EXPECT_EQ(again.at(0).offset, 9);
    std::cout << "coordinator " << old_coordinator << " killed: offsets listed from " << after[0].coordinator->node_id
              << " after " << took.count() << " ms\n";
    co_await admin.delete_groups(std::vector<std::string>(1, group));
    std::vector<std::string> names{topic};
    (void)co_await admin.delete_topics(names);
    co_await admin.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 150s));
}

// Config routing: a broker answers for its own resources only ("Unexpected
// broker id"), so every broker's configs and loggers coming back proves each went to its
// broker. Reads and validate_only: the rig is not changed.
TEST(AdminCluster3, EachBrokersConfigResourcesAreAskedOfThatBroker) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG3_ENV");
  const ConfigResource broker_default(ConfigResourceType::broker, "");
  const std::string logger_name = "kafka.server.ReplicaManager";
  auto body = [&]() -> asio::awaitable<bool> {
    const auto executor = co_await asio::this_coro::executor;
    AdminConfig config;
    config.bootstrap_servers = rig.bootstrap("PLAINTEXT");
    config.default_api_timeout = 20s;
    Admin admin(executor, config);
    co_await admin.start();
    std::vector<ConfigResource> resources;
    for (int node = 1; node <= rig.node_count(); ++node) {
      resources.emplace_back(ConfigResourceType::broker, std::to_string(node));
      resources.emplace_back(ConfigResourceType::broker_logger, std::to_string(node));
    }
    resources.push_back(broker_default);
    const auto r = co_await admin.describe_configs(resources);
    CO_ASSERT(r.size() == resources.size());
    for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
      EXPECT_TRUE(r[i].ok()) << r[i].error_message;
      const ConfigEntry* node_id = r[i].find("node.id");
      CO_ASSERT(node_id != nullptr);
      EXPECT_EQ(node_id->value, resources[i].name);
      EXPECT_TRUE(r[i + 1].ok()) << r[i + 1].error_message;
      EXPECT_NE(r[i + 1].find(logger_name), nullptr) << resources[i + 1].name;
    }
    EXPECT_TRUE(r.back().ok()) << r.back().error_message;

    std::vector<ConfigAlteration> levels;
    for (int node = 1; node <= rig.node_count(); ++node) {
      levels.push_back(ConfigAlteration(ConfigResource(ConfigResourceType::broker_logger, std::to_string(node)))
                           .set(logger_name, "INFO"));
    }
    const auto v = co_await admin.incremental_alter_configs(levels, {.validate_only = true});
    CO_ASSERT(v.size() == levels.size());
    for (const auto& x : v) EXPECT_TRUE(x.ok()) << x.error_message;
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

}  // namespace
}  // namespace asiokafka::test
