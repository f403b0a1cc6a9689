// Smoke test against the real single-node broker: every listener answers ApiVersions.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/probe.hpp"
#include "asiokafka/tls.hpp"
#include "support/async.hpp"
#include "support/net_helpers.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

using namespace std::chrono_literals;

constexpr std::int16_t produce_key = 0;
constexpr std::int16_t fetch_key = 1;

void expect_produce_and_fetch(const BrokerProbe& probe) {
  ASSERT_NE(probe.find(produce_key), nullptr) << probe.address << " does not list Produce";
  ASSERT_NE(probe.find(fetch_key), nullptr) << probe.address << " does not list Fetch";
  EXPECT_LE(probe.find(fetch_key)->min_version, probe.find(fetch_key)->max_version);
  // The rig's brokers are KRaft brokers recent enough for flexible ApiVersions (v3+).
  EXPECT_GE(probe.api_versions_version, 3);
}

constexpr auto probe_timeout = 15s;

ProbeOptions with_timeout(ProbeOptions options = ProbeOptions()) {
  options.timeout = probe_timeout;
  return options;
}

/// Options for a TLS listener of the rig.
ProbeOptions tls_options(const TlsOptions& tls) {
  ProbeOptions options = with_timeout();
  options.ssl_context = create_ssl_context(tls);
  return options;
}

BrokerProbe probe(const std::string& address, ProbeOptions options = ProbeOptions()) {
  return run_probe(address, with_timeout(std::move(options)));
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
    auto ex = co_await boost::asio::this_coro::executor;
    co_return co_await probe_broker(ex, address);
  };
  const auto result = run_async(task(rig.node(1).listener("PLAINTEXT")));
  expect_produce_and_fetch(result);
  EXPECT_EQ(result.cluster_id, rig.get("CLUSTER_ID"));
}

TEST(RealBrokerSmoke, TlsVerifiesBrokerCertificateAgainstRigCa) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto result = probe(rig.node(1).listener("SSL"), tls_options(rig.tls()));
  expect_produce_and_fetch(result);
  EXPECT_EQ(result.cluster_id, rig.get("CLUSTER_ID"));
}

TEST(RealBrokerSmoke, TlsByHostNameChecksTheNameToo) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  std::string address = rig.node(1).listener("SSL");
  address.replace(0, address.find(':'), "localhost");
  const ProbeOptions options = tls_options(rig.tls());
  ASSERT_TRUE(options.ssl_check_hostname);  // on by default: "localhost" is checked against the SAN
  const auto result = probe(address, options);
  expect_produce_and_fetch(result);
}

TEST(RealBrokerSmoke, TlsWithUnknownCaFailsVerification) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  try {
    probe(rig.node(1).listener("SSL"), tls_options(TlsOptions{.ca_file = rig.get("OTHER_CA_FILE")}));
    FAIL() << "a broker certificate from another CA was accepted";
  } catch (const asiokafka::error& e) {  // the message: only the default token carries it
    EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
  }
}

TEST(RealBrokerSmoke, MutualTlsWithClientCertificate) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  expect_produce_and_fetch(probe(rig.node(1).listener("MTLS"), tls_options(rig.mutual_tls())));
}

TEST(RealBrokerSmoke, MutualTlsWithEncryptedClientKey) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  TlsOptions tls = rig.mutual_tls();
  tls.key_file = rig.get("CLIENT_KEY_ENCRYPTED");
  tls.key_password = rig.get("CLIENT_KEY_PASSWORD");
  expect_produce_and_fetch(probe(rig.node(1).listener("MTLS"), tls_options(tls)));
}

TEST(RealBrokerSmoke, MutualTlsWithoutClientCertificateIsRefused) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  // TLS 1.3 reports the missing certificate after the handshake, on the first read: the
  // broker's alert (OpenSSL's error) or its closing the connection, at once; never the
  // probe's timeout.
  const auto start = std::chrono::steady_clock::now();
  const auto result = run_probe_ec(rig.node(1).listener("MTLS"), tls_options(rig.tls()));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const error_code ec = std::get<0>(result);
  ASSERT_TRUE(ec) << "the MTLS listener accepted a client without a certificate";
  EXPECT_NE(ec, client_errc::timeout) << ec.message();
  const bool tls_or_connection_error = ec.category() == boost::asio::error::get_ssl_category() ||
                                       ec == boost::asio::ssl::error::stream_truncated ||
                                       ec == client_errc::connection_lost || ec == client_errc::connection_failed;
  EXPECT_TRUE(tls_or_connection_error) << ec.category().name() << ": " << ec.message();
  EXPECT_LT(elapsed, probe_timeout / 3) << "the refusal was not noticed promptly";
}

TEST(RealBrokerSmoke, SaslListenersAnswerApiVersionsBeforeAuthentication) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  ProbeOptions plain = with_timeout();
  plain.read_metadata = false;
  expect_produce_and_fetch(probe(rig.node(1).listener("SASL_PLAINTEXT"), plain));
  expect_produce_and_fetch(probe(rig.node(1).listener("OAUTH"), plain));
  ProbeOptions tls = tls_options(rig.tls());
  tls.read_metadata = false;
  expect_produce_and_fetch(probe(rig.node(1).listener("SASL_SSL"), tls));
}

TEST(RealBrokerSmoke, TlsClientOnPlaintextListenerFailsInsteadOfHanging) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto result = run_probe_ec(rig.node(1).listener("PLAINTEXT"), tls_options(rig.tls()));
  const error_code ec = std::get<0>(result);
  ASSERT_TRUE(ec) << "a TLS handshake with a plaintext listener succeeded";
  EXPECT_NE(ec, client_errc::timeout) << ec.message();  // the broker drops the connection
}

}  // namespace
}  // namespace asiokafka::test
