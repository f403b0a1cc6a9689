// The idempotent Producer (acks=all) on the three-node cluster, topic with replication factor 3
// and min.insync.replicas=2: the leader of partition 0 is SIGKILLed during a steady produce and
// started again later in the run. No acknowledged record may be lost, none may be written
// twice, and each partition keeps send order (read back by librdkafka's consumer).
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "asiokafka/producer.hpp"
#include "support/restore_node.hpp"
#include "support/rig.hpp"
#include "support/sequenced_produce.hpp"

namespace asiokafka::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr int kPartitions = 3;
constexpr std::size_t kRecords = 30'000;

TEST(ProducerCluster, LeaderKilledDuringSteadyProduceLosesAndDuplicatesNothing) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG3_ENV");
  ASSERT_EQ(rig.node_count(), 3);
  const std::string bootstrap = rig.bootstrap("PLAINTEXT");
  std::random_device rd;
  const std::string topic = "producer-leader-kill-" + std::to_string(rd() % 1000000000u);
  ASSERT_EQ(create_topic_rdk(bootstrap, topic, kPartitions, 3, {{"min.insync.replicas", "2"}}), "");
  const int leader = leader_of(bootstrap, topic, 0);
  ASSERT_GE(leader, 1) << "no leader for " << topic << "/0";
  ASSERT_LE(leader, 3);
  const RigNode victim = rig.node(leader);
  RestoreNode restore{victim};  // running again whatever happens, for the tests after this one

  ProduceSpec spec;
  spec.config.bootstrap_servers = bootstrap;
  spec.config.acks = Acks::all;
  spec.config.enable_idempotence = true;
  spec.config.delivery_timeout = 120s;
  spec.config.request_timeout = 15s;
  spec.config.connect_timeout = 2s;
  spec.config.reconnect_backoff_max = 500ms;
  spec.config.metadata_max_age = 10s;
  spec.topic = topic;
  spec.keys = keys_for_partitions(kPartitions);
  spec.count = kRecords;
  spec.window = 3'000;
  spec.limit = 150s;

  // The leader dies at a third of the sends (records in flight), the producer continues on
  // the two others; at two thirds the node is started again and rejoins.
  auto pid = std::make_shared<int>(0);
  std::vector<Fault> faults;
  Fault kill;
  kill.name = "kill leader node " + std::to_string(leader);
  kill.at = kRecords / 3;
  kill.now = [victim, pid] {
    *pid = victim.pid();
    kill_now(*pid);
  };
  kill.then = [pid] { wait_process_gone(*pid, 15s); };
  faults.push_back(std::move(kill));
  Fault restart;
  restart.name = "restart node " + std::to_string(leader);
  restart.at = 2 * kRecords / 3;
  restart.then = [victim] { victim.start(); };
  faults.push_back(std::move(restart));

  const Produced produced = produce_sequenced(spec, std::move(faults));
  for (const auto& line : produced.log) std::cout << "  " << line << "\n";
  std::cout << "produced " << produced.sent << " of " << spec.count << " records, " << produced.acked
            << " acknowledged, " << produced.failed << " failed, in " << produced.took.count() << " ms; leader of "
            << topic << "/0 now " << leader_of(bootstrap, topic, 0) << "\n";
  EXPECT_EQ(produced.aborted, "");
  EXPECT_EQ(produced.faults_done, 2u) << "the kill or the restart did not happen";
  EXPECT_EQ(produced.failed, 0u) << "records failed within the delivery timeout:" << describe_failures(produced);

  const auto read_started = steady::now();
  const auto read = read_back(bootstrap, topic, kPartitions, 60s);
  const Verdict v = verify(spec, produced, read);
  std::cout << "read back in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - read_started).count()
            << " ms: " << v.summary() << "\n";
  EXPECT_EQ(v.acked_missing, 0u) << "acknowledged records lost: " << v.summary();
  EXPECT_EQ(v.acked_misplaced, 0u) << v.summary();
  EXPECT_EQ(v.duplicates, 0u) << v.summary();
  EXPECT_EQ(v.out_of_order, 0u) << v.summary();
  EXPECT_EQ(v.foreign, 0u) << v.summary();
  EXPECT_EQ(v.distinct, produced.acked + v.unacked_present) << v.summary();
}

}  // namespace
}  // namespace asiokafka::test
