// GSSAPI (Kerberos V5) login through net::connection against the rig's GSSAPI listener and
// its MIT KDC (kafkarig.py start --kerberos; docs/rig.md "Kerberos"). Kerberos is opt-in:
// without KERBEROS=1 in rig.env every test here skips, or fails with ASIOKAFKA_REQUIRE_RIG=1
// (rig/test starts its rig with --kerberos).
//
// Credentials come from the environment as for any MIT client: KRB5_CONFIG names the rig's
// krb5.conf, KRB5_CLIENT_KTNAME the client keytab (so no kinit is needed), and KRB5CCNAME a
// private in-memory cache, so nothing touches /etc/krb5.conf or the user's ticket cache.
// (No class-type temporaries inside co_await: GCC 12 bugs, see docs/design.md.)
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/sasl.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/net_helpers.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;

using Target = HostPort;

Target split(const std::string& address) { return split_host_port(address); }

struct Seen {
  std::optional<std::string> cluster_id;
  std::size_t brokers = 0;
};

asio::awaitable<net::outcome<Seen>> connect_and_read_metadata(Target target, net::connection_options options) {
  auto ex = co_await asio::this_coro::executor;
  auto connected = co_await net::connect(ex, target.host, target.port, options);
  if (!connected) co_return connected.error();
  net::connection conn = std::move(connected).value();
  const msg::MetadataRequest request{};
  const auto md = co_await conn.send(request);
  co_await conn.close();
  if (!md) co_return md.error();
  Seen seen;
  seen.cluster_id = md.value()->cluster_id;
  seen.brokers = md.value()->brokers.size();
  co_return seen;
}

net::outcome<Seen> try_metadata(const std::string& address, const SaslConfig& sasl) {
  net::connection_options options;
  options.connect_timeout = 20s;
  options.sasl = sasl;
  return run_async(connect_and_read_metadata(split(address), std::move(options)), 40s);
}

Seen metadata(const std::string& address, const SaslConfig& sasl) { return unwrap(try_metadata(address, sasl)); }

/// The single-node rig with Kerberos, or a skip (a failure with ASIOKAFKA_REQUIRE_RIG=1).
/// `keytab` empty: no client credentials at all.
#define REQUIRE_KERBEROS_RIG(var)                                                                    \
  ASIOKAFKA_REQUIRE_RIG(var, "ASIOKAFKA_RIG_ENV");                                                   \
  if (!kerberos_enabled(var)) {                                                                      \
    if (::asiokafka::test::rig_required()) FAIL() << "the rig has no KDC (KERBEROS=1 missing in "    \
                                                     "rig.env) and ASIOKAFKA_REQUIRE_RIG=1";         \
    GTEST_SKIP() << "the rig has no KDC (KERBEROS=1 missing in rig.env): start it with "             \
                    "'kafkarig.py start --kerberos' or ASIOKAFKA_RIG_KERBEROS=1 (docs/rig.md)";     \
  }

bool kerberos_enabled(const Rig& rig) {
  try {
    return rig.get("KERBEROS") == "1";
  } catch (const std::out_of_range&) {
    return false;
  }
}

/// Points MIT Kerberos at the rig's realm. `with_keytab` false leaves no credentials at all.
void use_rig_kerberos(const Rig& rig, bool with_keytab, const std::string& cache) {
  ::setenv("KRB5_CONFIG", rig.get("KRB5_CONFIG").c_str(), 1);
  ::setenv("KRB5CCNAME", ("MEMORY:" + cache).c_str(), 1);
  const std::string keytab = with_keytab ? rig.get("KRB5_CLIENT_KEYTAB") : rig.get("RIG_DIR") + "/kdc/no-such.keytab";
  ::setenv("KRB5_CLIENT_KTNAME", keytab.c_str(), 1);
  ::unsetenv("KRB5_KTNAME");
}

SaslConfig gssapi(const Rig& rig) {
  SaslConfig sasl;
  sasl.mechanism = SaslConfig::Mechanism::gssapi;
  sasl.kerberos_service_name = rig.get("KRB5_SERVICE_NAME");
  return sasl;
}

TEST(GssapiRealBroker, KeytabLoginThenMetadata) {
  REQUIRE_KERBEROS_RIG(rig);
  use_rig_kerberos(rig, true, "asiokafka-gssapi-ok");
  const auto address = rig.node(1).listener("GSSAPI");
  ASSERT_EQ(split(address).host, "localhost");  // the service principal is kafka/localhost
  const auto seen = metadata(address, gssapi(rig));
  EXPECT_EQ(seen.cluster_id, rig.get("CLUSTER_ID"));
  EXPECT_EQ(seen.brokers, 1u);
}

TEST(GssapiRealBroker, LoginTwiceOnTheSameCache) {
  REQUIRE_KERBEROS_RIG(rig);
  use_rig_kerberos(rig, true, "asiokafka-gssapi-twice");
  const auto address = rig.node(1).listener("GSSAPI");
  for (int i = 0; i < 2; ++i) EXPECT_EQ(metadata(address, gssapi(rig)).cluster_id, rig.get("CLUSTER_ID"));
}

void expect_gssapi_failure(const std::string& address, const SaslConfig& sasl, const std::string& needle) {
  const auto start = std::chrono::steady_clock::now();
  const auto result = try_metadata(address, sasl);
  ASSERT_FALSE(result) << "GSSAPI login succeeded";
  const net::failure& f = result.error();
  EXPECT_EQ(f.code, sasl_errc::gssapi_failed) << f.message;
  EXPECT_NE(f.message.find(needle), std::string::npos) << f.message;
  EXPECT_EQ(f.sent, net::delivery::not_sent) << "a failed login sent no request";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);  // a typed error, not a hang
}

TEST(GssapiRealBroker, UnknownServiceNameFailsTyped) {
  REQUIRE_KERBEROS_RIG(rig);
  use_rig_kerberos(rig, true, "asiokafka-gssapi-badservice");
  SaslConfig sasl = gssapi(rig);
  sasl.kerberos_service_name = "nosuchservice";
  // The KDC has no nosuchservice/localhost principal.
  expect_gssapi_failure(rig.node(1).listener("GSSAPI"), sasl, "GSSAPI");
}

TEST(GssapiRealBroker, NoCredentialsFailsTyped) {
  REQUIRE_KERBEROS_RIG(rig);
  use_rig_kerberos(rig, false, "asiokafka-gssapi-nocreds");
  expect_gssapi_failure(rig.node(1).listener("GSSAPI"), gssapi(rig), "GSSAPI");
}

}  // namespace
}  // namespace asiokafka::test
