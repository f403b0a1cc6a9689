// KIP-368 re-authentication through net::connection against the rig's broker, whose OAUTH
// listener (OAUTHBEARER) and SASL_SSL listener (SCRAM-SHA-512) expire sessions after REAUTH_MS
// (rig.env; docs/rig.md). A connection keeps serving requests for more than twice the session
// lifetime, so it must have re-authenticated in-band: the broker closes a connection that sends
// anything but SaslHandshake once its session expired (sasl_integration_tests'
// ExpiredSessionIsClosedByTheBroker shows that without re-authentication). For OAUTHBEARER the
// token provider (sync and awaitable) is called again for every re-authentication.
// (No structured bindings, and no class-type temporaries inside co_await: GCC 12 bugs.)
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/tls.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/connection_helpers.hpp"
#include "support/jwt.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using asio::use_awaitable;
using clock_type = std::chrono::steady_clock;

struct Served {
  int ok = 0;
  int failed = 0;
  std::string first_error;
  std::uint64_t reauthentications = 0;
  std::int64_t first_lifetime_ms = -1;
  bool open = false;
  clock_type::duration span{};
};

// Rounds of 3 concurrent Metadata requests every 250 ms for `duration` (at most 200 rounds).
asio::awaitable<Served> serve(HostPort target, net::connection_options options, std::chrono::milliseconds duration) {
  auto ex = co_await asio::this_coro::executor;
  auto connected = co_await net::connect(ex, target.host, target.port, options);
  net::connection conn = unwrap(std::move(connected));
  Served out;
  out.first_lifetime_ms = conn.session_lifetime_ms();
  const auto start = clock_type::now();
  for (int round = 0; round < 200 && clock_type::now() - start < duration && conn.is_open(); ++round) {
    int remaining = 3;
    asio::steady_timer done(ex, clock_type::time_point::max());
    for (int i = 0; i < 3; ++i) {
      const msg::MetadataRequest request{};
      spawn_await(ex, conn.send(request), [&](net::outcome<response<msg::MetadataResponse>> r) {
        if (r && r.value()->cluster_id) {
          ++out.ok;
        } else if (out.failed++ == 0) {
          out.first_error = r ? std::string("Metadata without a cluster id") : failure_text(r.error());
        }
        if (--remaining == 0) done.cancel();
      });
    }
    done.expires_after(30s);
    boost::system::error_code ignored;
    co_await done.async_wait(asio::redirect_error(use_awaitable, ignored));
    if (remaining != 0) {  // fail them and wait for their handlers, which use this frame
      co_await conn.close();
      done.expires_after(10s);
      co_await done.async_wait(asio::redirect_error(use_awaitable, ignored));
      break;
    }
    co_await pause(250ms);  // pacing, not synchronisation
  }
  out.span = clock_type::now() - start;
  out.reauthentications = conn.reauthentications();
  out.open = conn.is_open();
  co_await conn.close();
  co_return out;
}

std::chrono::milliseconds reauth_ms(const Rig& rig) { return std::chrono::milliseconds(std::stoll(rig.get("REAUTH_MS"))); }

void expect_reauthenticated(const Served& s, std::chrono::milliseconds lifetime) {
  EXPECT_EQ(s.failed, 0) << s.first_error;
  EXPECT_GT(s.ok, 0);
  EXPECT_TRUE(s.open);
  EXPECT_GT(s.first_lifetime_ms, 0);
  EXPECT_LE(s.first_lifetime_ms, lifetime.count());
  EXPECT_GT(s.span, 2 * lifetime);  // well past the first session's end
  EXPECT_GE(s.reauthentications, 2u);
}

TEST(ConnectionReauth, OAuthBearerWithAnAwaitableProviderRefreshesTheToken) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto lifetime = reauth_ms(rig);
  const auto principal = rig.get("OAUTH_PRINCIPAL");
  auto calls = std::make_shared<int>(0);
  SaslConfig sasl{.mechanism = SaslConfig::Mechanism::oauthbearer};
  sasl.oauth_token_provider_async = [calls, principal]() -> asio::awaitable<std::string> {
    ++*calls;
    co_await pause(10ms);  // as if asking an identity provider
    co_return unsigned_jwt(principal, std::chrono::hours(1));
  };
  net::connection_options options;
  options.sasl = sasl;
  const auto s = run_async(serve(split_host_port(rig.node(1).listener("OAUTH")), options, 2 * lifetime + 2s), 90s);
  expect_reauthenticated(s, lifetime);
  EXPECT_EQ(static_cast<std::uint64_t>(*calls), s.reauthentications + 1);  // a fresh token each time
}

TEST(ConnectionReauth, OAuthBearerWithASynchronousProvider) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto lifetime = reauth_ms(rig);
  const auto principal = rig.get("OAUTH_PRINCIPAL");
  auto calls = std::make_shared<int>(0);
  const SaslConfig sasl{.mechanism = SaslConfig::Mechanism::oauthbearer,
                        .oauth_token_provider = [calls, principal] {
                          ++*calls;
                          return unsigned_jwt(principal, std::chrono::hours(1));
                        }};
  net::connection_options options;
  options.sasl = sasl;
  const auto s = run_async(serve(split_host_port(rig.node(1).listener("OAUTH")), options, 2 * lifetime + 2s), 90s);
  expect_reauthenticated(s, lifetime);
  EXPECT_EQ(static_cast<std::uint64_t>(*calls), s.reauthentications + 1);
}

TEST(ConnectionReauth, ScramSha512OverTls) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto lifetime = reauth_ms(rig);
  net::connection_options options;
  options.ssl_context = create_ssl_context(rig.tls());  // trusts the rig's CA
  options.ssl_check_hostname = true;
  options.sasl = SaslConfig{.mechanism = SaslConfig::Mechanism::scram_sha_512,
                            .username = rig.get("SASL_USER"),
                            .password = rig.get("SASL_PASSWORD")};
  const auto s = run_async(serve(split_host_port(rig.node(1).listener("SASL_SSL")), options, 2 * lifetime + 2s), 90s);
  expect_reauthenticated(s, lifetime);
}

TEST(ConnectionReauth, SessionsWithoutLifetimeAreNeverReauthenticated) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  net::connection_options options;
  options.sasl = SaslConfig{.mechanism = SaslConfig::Mechanism::scram_sha_256,
                            .username = rig.get("SASL_USER"),
                            .password = rig.get("SASL_PASSWORD")};
  const auto s = run_async(serve(split_host_port(rig.node(1).listener("SASL_PLAINTEXT")), options, 1s), 60s);
  EXPECT_EQ(s.failed, 0) << s.first_error;
  EXPECT_EQ(s.first_lifetime_ms, 0);
  EXPECT_EQ(s.reauthentications, 0u);
}

}  // namespace
}  // namespace asiokafka::test
