// Smoke test against the real single-node broker: every listener answers ApiVersions.
#include <gtest/gtest.h>

#include "asiokafka/error.hpp"
#include "asiokafka/probe.hpp"
#include "support/async.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

constexpr std::int16_t produce_key = 0;
constexpr std::int16_t fetch_key = 1;

void expect_produce_and_fetch(const BrokerProbe& probe) {
  ASSERT_NE(probe.find(produce_key), nullptr) << probe.address << " does not list Produce";
  ASSERT_NE(probe.find(fetch_key), nullptr) << probe.address << " does not list Fetch";
  EXPECT_LE(probe.find(fetch_key)->min_version, probe.find(fetch_key)->max_version);
  // The rig's brokers are KRaft brokers recent enough for flexible ApiVersions (v3+).
  EXPECT_GE(probe.api_versions_version, 3);
}

BrokerProbe probe(const std::string& address, ProbeOptions options = {}) {
  options.timeout = std::chrono::seconds(15);
  return run_async(probe_broker(address, options));
}

TEST(RealBrokerSmoke, Plaintext) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto result = probe(rig.node(1).listener("PLAINTEXT"));
  expect_produce_and_fetch(result);
  ASSERT_TRUE(result.cluster_id.has_value());
  EXPECT_EQ(*result.cluster_id, rig.get("CLUSTER_ID"));
  ASSERT_EQ(result.brokers.size(), 1u);
  EXPECT_EQ(result.brokers[0].node_id, 1);
  EXPECT_EQ(result.brokers[0].host + ":" + std::to_string(result.brokers[0].port), rig.node(1).listener("PLAINTEXT"));
  EXPECT_EQ(result.controller_id, 1);
}

// The quickstart's pattern: the one-argument overload awaited inside a coroutine, with the
// address string owned by that coroutine. (A defaulted class-type argument here was
// destroyed twice by GCC 12; the overload exists for that reason.)
TEST(RealBrokerSmoke, DefaultOptionsOverloadInsideACoroutine) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  auto task = [](std::string address) -> boost::asio::awaitable<BrokerProbe> {
    co_return co_await probe_broker(address);
  };
  const auto result = run_async(task(rig.node(1).listener("PLAINTEXT")));
  expect_produce_and_fetch(result);
  EXPECT_EQ(result.cluster_id, rig.get("CLUSTER_ID"));
}

TEST(RealBrokerSmoke, TlsVerifiesBrokerCertificateAgainstRigCa) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto result = probe(rig.node(1).listener("SSL"), {.tls = rig.tls()});
  expect_produce_and_fetch(result);
  EXPECT_EQ(result.cluster_id, rig.get("CLUSTER_ID"));
}

TEST(RealBrokerSmoke, TlsByHostNameChecksTheNameToo) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  std::string address = rig.node(1).listener("SSL");
  address.replace(0, address.find(':'), "localhost");
  const auto result = probe(address, {.tls = rig.tls()});
  expect_produce_and_fetch(result);
}

TEST(RealBrokerSmoke, TlsWithUnknownCaFailsVerification) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  try {
    probe(rig.node(1).listener("SSL"), {.tls = ProbeTls{.ca_file = rig.get("OTHER_CA_FILE")}});
    FAIL() << "a broker certificate from another CA was accepted";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
  }
}

TEST(RealBrokerSmoke, MutualTlsWithClientCertificate) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  expect_produce_and_fetch(probe(rig.node(1).listener("MTLS"), {.tls = rig.mutual_tls()}));
}

TEST(RealBrokerSmoke, MutualTlsWithEncryptedClientKey) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  ProbeTls tls = rig.mutual_tls();
  tls.key_file = rig.get("CLIENT_KEY_ENCRYPTED");
  tls.key_password = rig.get("CLIENT_KEY_PASSWORD");
  expect_produce_and_fetch(probe(rig.node(1).listener("MTLS"), {.tls = tls}));
}

TEST(RealBrokerSmoke, MutualTlsWithoutClientCertificateIsRefused) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  // TLS 1.3 reports the missing certificate after the handshake, on the first read.
  EXPECT_THROW(probe(rig.node(1).listener("MTLS"), {.tls = rig.tls()}), std::system_error);
}

TEST(RealBrokerSmoke, SaslListenersAnswerApiVersionsBeforeAuthentication) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  expect_produce_and_fetch(probe(rig.node(1).listener("SASL_PLAINTEXT"), {.read_metadata = false}));
  expect_produce_and_fetch(probe(rig.node(1).listener("OAUTH"), {.read_metadata = false}));
  expect_produce_and_fetch(probe(rig.node(1).listener("SASL_SSL"), {.tls = rig.tls(), .read_metadata = false}));
}

TEST(RealBrokerSmoke, TlsClientOnPlaintextListenerFailsInsteadOfHanging) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  try {
    probe(rig.node(1).listener("PLAINTEXT"), {.tls = rig.tls()});
    FAIL() << "a TLS handshake with a plaintext listener succeeded";
  } catch (const std::system_error& e) {
    EXPECT_NE(e.code(), client_errc::timeout) << e.what();  // the broker drops the connection
  }
}

}  // namespace
}  // namespace asiokafka::test
