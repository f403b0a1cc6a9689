// The idempotent Producer (acks=all) while the single-node broker is SIGKILLed and restarted
// three times during the run: every record is delivered exactly once, in send order per
// partition, as librdkafka's consumer (CRC checks on) reads it back.
//
// ASIOKAFKA_EOS_RECORDS sets the record count: 20,000 by default (the `fault` suite); CTest's
// producer_exactly_once_tests.full runs 200,000 under the `slow` label (docs/testing.md).
// Serial: the test takes the broker away from everyone else.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
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

constexpr int kPartitions = 4;
constexpr int kKills = 3;

std::size_t record_count() {
  const char* env = std::getenv("ASIOKAFKA_EOS_RECORDS");
  if (env == nullptr || *env == '\0') return 20'000;
  return static_cast<std::size_t>(std::stoul(env));
}

TEST(ProducerExactlyOnce, BrokerKilledAndRestartedThreeTimesEveryRecordOnceInOrder) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  const std::string bootstrap = rig.bootstrap("PLAINTEXT");
  std::random_device rd;
  const std::string topic = "producer-eos-" + std::to_string(rd() % 1000000000u);
  ASSERT_EQ(create_topic_rdk(bootstrap, topic, kPartitions, 1), "");

  ProduceSpec spec;
  spec.config.bootstrap_servers = bootstrap;
  spec.config.acks = Acks::all;
  spec.config.enable_idempotence = true;
  // Each restart takes seconds; the delivery timeout rides them out, so no record may fail.
  spec.config.delivery_timeout = 120s;
  spec.config.request_timeout = 15s;
  spec.config.connect_timeout = 2s;
  spec.config.reconnect_backoff_max = 500ms;
  spec.topic = topic;
  spec.keys = keys_for_partitions(kPartitions);
  spec.count = record_count();
  spec.window = spec.count >= 100'000 ? 20'000 : 4'000;
  // Three restarts take 10-35 s each (slower on a loaded CI machine): the bound leaves room.
  spec.limit = spec.count >= 100'000 ? 20min : 240s;

  // Kill k at k/4 of the sends: SIGKILL at once (records are in flight), then, on the helper
  // thread, wait for the process to be gone and start the node again with its data.
  std::vector<Fault> faults;
  for (int k = 1; k <= kKills; ++k) {
    auto pid = std::make_shared<int>(0);
    Fault f;
    f.name = "kill " + std::to_string(k);
    f.at = spec.count * static_cast<std::size_t>(k) / (kKills + 1);
    f.now = [node, pid] {
      *pid = node.pid();
      kill_now(*pid);
    };
    f.then = [node, pid] {
      wait_process_gone(*pid, 15s);
      node.start();
    };
    faults.push_back(std::move(f));
  }

  const Produced produced = produce_sequenced(spec, std::move(faults));
  for (const auto& line : produced.log) std::cout << "  " << line << "\n";
  std::cout << "produced " << produced.sent << " of " << spec.count << " records, " << produced.acked
            << " acknowledged, " << produced.failed << " failed, in " << produced.took.count() << " ms\n";
  EXPECT_EQ(produced.aborted, "");
  EXPECT_EQ(produced.faults_done, static_cast<std::size_t>(kKills)) << "not every kill and restart happened";
  EXPECT_EQ(produced.failed, 0u) << "records failed (the issue requires every one delivered):"
                                 << describe_failures(produced);
  EXPECT_EQ(produced.acked, spec.count);

  const auto read_started = steady::now();
  const auto read = read_back(bootstrap, topic, kPartitions, spec.count >= 100'000 ? 180s : 60s);
  const Verdict v = verify(spec, produced, read);
  std::cout << "read back in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - read_started).count()
            << " ms: " << v.summary() << "\n";
  EXPECT_EQ(v.duplicates, 0u) << v.summary();
  EXPECT_EQ(v.out_of_order, 0u) << v.summary();
  EXPECT_EQ(v.foreign, 0u) << v.summary();
  EXPECT_EQ(v.acked_missing, 0u) << v.summary();
  EXPECT_EQ(v.acked_misplaced, 0u) << v.summary();
  EXPECT_EQ(v.distinct, spec.count) << "not every record was delivered: " << v.summary();
  EXPECT_EQ(v.read, spec.count) << v.summary();
}

}  // namespace
}  // namespace asiokafka::test
