// The rig's node controls on the single-node broker: pause/resume, kill/start, stop/start.
// These tests run serially (they take the broker away from everyone else).
#include <chrono>

#include <gtest/gtest.h>

#include "asiokafka/error.hpp"
#include "asiokafka/probe.hpp"
#include "support/net_helpers.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

using namespace std::chrono_literals;

ProbeOptions within(std::chrono::milliseconds timeout) {
  ProbeOptions options;
  options.timeout = timeout;
  return options;
}

BrokerProbe probe(const std::string& address, std::chrono::milliseconds timeout) {
  return run_probe(address, within(timeout), timeout + 5s);
}

/// How a probe failed (as_tuple): the code only.
error_code probe_error(const std::string& address, std::chrono::milliseconds timeout) {
  return std::get<0>(run_probe_ec(address, within(timeout), timeout + 5s));
}

// Brings a node back whatever the test did to it, so one failure does not cascade.
struct RestoreNode {
  const RigNode& node;
  ~RestoreNode() {
    try {
      node.resume();
      probe(node.listener("PLAINTEXT"), 2s);
    } catch (...) {
      try { node.start(); } catch (...) {}
    }
  }
};

TEST(RigNodeControl, PausedBrokerTimesOutAtTheLimitAndAnswersAfterResume) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  node.pause();
  const auto start = std::chrono::steady_clock::now();
  const error_code ec = probe_error(node.listener("PLAINTEXT"), 1500ms);
  EXPECT_EQ(ec, client_errc::timeout) << (ec ? ec.message() : "a SIGSTOPped broker answered");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 1500ms);
  EXPECT_LT(elapsed, 4s) << "the timeout fired late";
  node.resume();
  EXPECT_FALSE(probe(node.listener("PLAINTEXT"), 10s).api_versions.empty());
}

TEST(RigNodeControl, KilledBrokerRefusesConnectionsAndRestartsWithItsData) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  const int old_pid = node.pid();
  node.kill();
  const error_code ec = probe_error(node.listener("PLAINTEXT"), 5s);
  ASSERT_TRUE(ec) << "a SIGKILLed broker answered";
  EXPECT_NE(ec, client_errc::timeout) << "connection refused should be immediate: " << ec.message();
  EXPECT_EQ(ec, client_errc::connection_failed) << ec.message();
  node.start();
  EXPECT_NE(node.pid(), old_pid);
  const auto result = probe(node.listener("PLAINTEXT"), 10s);
  EXPECT_EQ(result.cluster_id, rig.get("CLUSTER_ID")) << "restart must reuse the formatted storage";
}

TEST(RigNodeControl, StoppedBrokerShutsDownCleanlyAndStartsAgain) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  node.stop();
  const error_code ec = probe_error(node.listener("PLAINTEXT"), 5s);
  EXPECT_EQ(ec, client_errc::connection_failed) << (ec ? ec.message() : "a stopped broker answered");
  node.start();
  EXPECT_EQ(probe(node.listener("PLAINTEXT"), 10s).cluster_id, rig.get("CLUSTER_ID"));
}

}  // namespace
}  // namespace asiokafka::test
