// The three-node KRaft cluster (replication factor 3, min ISR 2) used by failover tests.
#include <chrono>
#include <set>

#include <gtest/gtest.h>

#include "asiokafka/probe.hpp"
#include "support/net_helpers.hpp"
#include "support/poll.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

using namespace std::chrono_literals;

BrokerProbe probe(const std::string& address) {
  ProbeOptions options;
  options.timeout = 5s;
  return run_probe(address, options, 10s);
}

std::set<std::int32_t> broker_ids(const BrokerProbe& p) {
  std::set<std::int32_t> ids;
  for (const auto& b : p.brokers) ids.insert(b.node_id);
  return ids;
}

TEST(ThreeNodeCluster, EveryNodeReportsTheSameThreeBrokers) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG3_ENV");
  ASSERT_EQ(rig.node_count(), 3);
  for (int id = 1; id <= 3; ++id) {
    const auto p = probe(rig.node(id).listener("PLAINTEXT"));
    EXPECT_EQ(broker_ids(p), (std::set<std::int32_t>{1, 2, 3})) << "node " << id;
    EXPECT_EQ(p.cluster_id, rig.get("CLUSTER_ID"));
    EXPECT_GE(p.controller_id, 1);
    EXPECT_LE(p.controller_id, 3);
  }
}

TEST(ThreeNodeCluster, KilledNodeLeavesMetadataAndRejoinsAfterRestart) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG3_ENV");
  const RigNode victim = rig.node(3);
  const std::string survivor = rig.node(1).listener("PLAINTEXT");
  victim.kill();
  struct Restart {
    const RigNode& n;
    ~Restart() { try { n.start(); } catch (...) {} }
  } restart{victim};
  // The controller fences the dead broker after its session times out.
  EXPECT_TRUE(eventually([&] { return broker_ids(probe(survivor)) == std::set<std::int32_t>{1, 2}; }, 60s))
      << "node 3 still listed after SIGKILL";
  victim.start();
  EXPECT_TRUE(eventually([&] { return broker_ids(probe(survivor)) == std::set<std::int32_t>{1, 2, 3}; }, 60s))
      << "node 3 did not rejoin";
  EXPECT_EQ(broker_ids(probe(victim.listener("PLAINTEXT"))), (std::set<std::int32_t>{1, 2, 3}));
}

}  // namespace
}  // namespace asiokafka::test
