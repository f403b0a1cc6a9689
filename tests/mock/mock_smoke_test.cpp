// The smoke test against librdkafka's in-process mock cluster, and its fault injection.
#include <chrono>

#include <gtest/gtest.h>

#include "asiokafka/error.hpp"
#include "asiokafka/probe.hpp"
#include "support/mock_cluster.hpp"
#include "support/net_helpers.hpp"

namespace asiokafka::test {
namespace {

using namespace std::chrono_literals;

constexpr std::int16_t metadata_key = 3;
constexpr std::int16_t api_versions_key = 18;

ProbeOptions within(std::chrono::milliseconds timeout) {
  ProbeOptions options;
  options.timeout = timeout;
  return options;
}

BrokerProbe probe(const std::string& address, std::chrono::milliseconds timeout = 5s) {
  return run_probe(address, within(timeout), timeout + 5s);
}

/// How a probe failed (as_tuple): the code only.
error_code probe_error(const std::string& address, std::chrono::milliseconds timeout = 5s) {
  return std::get<0>(run_probe_ec(address, within(timeout), timeout + 5s));
}

TEST(MockClusterSmoke, EveryBrokerAnswersApiVersionsAndMetadata) {
  MockCluster mock(3);
  for (int id = 1; id <= 3; ++id) {
    const auto p = probe(mock.broker_address(id));
    EXPECT_NE(p.find(0), nullptr) << "Produce missing";
    EXPECT_NE(p.find(1), nullptr) << "Fetch missing";
    EXPECT_EQ(p.brokers.size(), 3u);
    EXPECT_TRUE(p.cluster_id.has_value()) << "Metadata v" << p.metadata_version;
  }
}

TEST(MockClusterSmoke, RackIsReportedInMetadata) {
  MockCluster mock(2);
  mock.set_rack(2, "rack-b");
  const auto p = probe(mock.broker_address(1));
  bool seen = false;
  for (const auto& b : p.brokers) {
    if (b.node_id == 2) {
      seen = true;
      EXPECT_EQ(b.rack, "rack-b");
    }
  }
  EXPECT_TRUE(seen);
}

TEST(MockClusterSmoke, InjectedRoundTripTimeMakesTheProbeTimeOut) {
  MockCluster mock(1);
  mock.set_rtt(1, 3s);
  const auto start = std::chrono::steady_clock::now();
  const error_code ec = probe_error(mock.broker_address(1), 500ms);
  EXPECT_EQ(ec, client_errc::timeout) << (ec ? ec.message() : "answered despite a 3 s round trip");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  mock.set_rtt(1, 0ms);
  EXPECT_FALSE(probe(mock.broker_address(1)).api_versions.empty());
}

TEST(MockClusterSmoke, BrokerDownFailsFastAndRecoversWhenUp) {
  MockCluster mock(2);
  mock.broker_down(1);
  const auto start = std::chrono::steady_clock::now();
  const error_code ec = probe_error(mock.broker_address(1), 3s);
  EXPECT_EQ(ec, client_errc::connection_failed) << (ec ? ec.message() : "a broker that is down answered");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "not fast: " << ec.message();
  EXPECT_EQ(probe(mock.broker_address(2)).brokers.size(), 2u) << "other brokers are unaffected";
  mock.broker_up(1);
  EXPECT_FALSE(probe(mock.broker_address(1)).api_versions.empty());
}

TEST(MockClusterSmoke, RepeatedUnsupportedVersionIsATypedErrorAfterOneFallback) {
  MockCluster mock(1);
  mock.push_broker_request_errors(1, api_versions_key, {{35, 0ms}, {35, 0ms}, {35, 0ms}});
  EXPECT_EQ(mock.pending_errors(1, api_versions_key), 3u);
  const error_code ec = probe_error(mock.broker_address(1));
  EXPECT_EQ(ec, client_errc::unsupported_version)
      << (ec ? ec.message() : "probe succeeded although every ApiVersions answer was UNSUPPORTED_VERSION");
  // Exactly two requests: the first try and one fallback, no retry loop.
  EXPECT_EQ(mock.pending_errors(1, api_versions_key), 1u);
}

TEST(MockClusterSmoke, ApiVersionsUnsupportedVersionFallsBack) {
  MockCluster mock(1);
  mock.push_broker_request_errors(1, api_versions_key, {{35, 0ms}});
  const auto p = probe(mock.broker_address(1));
  EXPECT_EQ(mock.pending_errors(1, api_versions_key), 0u);
  EXPECT_NE(p.find(0), nullptr);
}

TEST(MockClusterSmoke, RemovingMetadataFromApiVersionsIsAnUnsupportedVersionError) {
  MockCluster mock(1);
  mock.set_api_versions(metadata_key, -1, -1);
  const error_code ec = probe_error(mock.broker_address(1));
  EXPECT_EQ(ec, client_errc::unsupported_version) << (ec ? ec.message() : "probe succeeded without a Metadata API");
}

}  // namespace
}  // namespace asiokafka::test
