// The SaslAuthenticator against the rig's broker (docs/rig.md): PLAIN, SCRAM-SHA-256/512 and
// OAUTHBEARER, over TCP and TLS. The test drives the sans-I/O algorithm with a few lines of
// Asio (net::connection runs the same algorithm: connection_reauth_tests) and proves the
// session by a Metadata request.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/sasl.hpp"
#include "net/sansio/sasl/authenticator.hpp"
#include "net/sasl_config.hpp"
#include "support/async.hpp"
#include "support/jwt.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using bytes = std::vector<std::uint8_t>;

// What one connection attempt ended with.
struct Outcome {
  bool authenticated = false;
  net::failure failure;
  std::int64_t session_lifetime_ms = -1;
  std::optional<std::string> cluster_id;  // from Metadata after authentication
  bool closed_after_expiry = false;        // wait_past_lifetime: the broker closed the connection
};

std::uint32_t read_u32(const std::array<std::uint8_t, 4>& b) {
  return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
}

// Skips a response header (v0: correlation id; v1: plus tagged fields) and returns the body.
std::span<const std::uint8_t> strip_header(std::span<const std::uint8_t> frame, std::int16_t header_version,
                                           std::int32_t expected_correlation) {
  if (frame.size() < 4) throw std::runtime_error("short response frame");
  const auto corr = static_cast<std::int32_t>(std::uint32_t{frame[0]} << 24 | std::uint32_t{frame[1]} << 16 |
                                              std::uint32_t{frame[2]} << 8 | frame[3]);
  if (corr != expected_correlation) throw std::runtime_error("correlation id mismatch");
  std::size_t pos = 4;
  if (header_version >= 1) {
    auto uvarint = [&] {
      std::uint64_t v = 0;
      for (int shift = 0; pos < frame.size() && shift < 35; shift += 7) {
        const auto byte = frame[pos++];
        v |= std::uint64_t{byte & 0x7fu} << shift;
        if ((byte & 0x80) == 0) return v;
      }
      throw std::runtime_error("bad varint in response header");
    };
    for (auto n = uvarint(); n > 0; --n) {
      (void)uvarint();  // tag
      pos += uvarint(); // size, skip data
    }
    if (pos > frame.size()) throw std::runtime_error("bad tagged fields in response header");
  }
  return frame.subspan(pos);
}

template <class Stream>
class Wire {
 public:
  explicit Wire(Stream& s) : stream_(s) {}

  asio::awaitable<bytes> round_trip(std::int16_t key, std::int16_t version, const bytes& body) {
    msg::RequestHeader h;
    h.request_api_key = key;
    h.request_api_version = version;
    h.correlation_id = ++correlation_;
    h.client_id = "asiokafka-sasl-test";
    bytes frame(4);
    if (auto ec = h.encode(frame, protocol::request_header_version(key, version))) throw std::system_error(ec);
    frame.insert(frame.end(), body.begin(), body.end());
    const auto size = static_cast<std::uint32_t>(frame.size() - 4);
    for (int i = 0; i < 4; ++i) frame[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
    co_await asio::async_write(stream_, asio::buffer(frame), use_awaitable);
    std::array<std::uint8_t, 4> len{};
    co_await asio::async_read(stream_, asio::buffer(len), use_awaitable);
    const auto n = read_u32(len);
    if (n > (16u << 20)) throw std::runtime_error("response frame too large");
    bytes response(n);
    co_await asio::async_read(stream_, asio::buffer(response), use_awaitable);
    const auto b = strip_header(response, protocol::response_header_version(key, version), correlation_);
    co_return bytes(b.begin(), b.end());
  }

  template <class Request, class Response>
  asio::awaitable<Response> call(const Request& req, std::int16_t version) {
    bytes body;
    if (auto ec = req.encode(body, version)) throw std::system_error(ec, "encode");
    const auto resp_body = co_await round_trip(Request::api_key, version, body);
    Response resp;
    if (auto ec = resp.decode(resp_body, version)) throw std::system_error(ec, "decode");
    co_return resp;
  }

 private:
  Stream& stream_;
  std::int32_t correlation_ = 0;
};

// With `wait_past_lifetime`, waits until the session has expired (KIP-368) before the Metadata
// request, which the broker must then refuse by closing the connection.
template <class Stream>
asio::awaitable<Outcome> authenticate(Stream& stream, SaslConfig config, std::string host,
                                      bool wait_past_lifetime = false) {
  Wire<Stream> wire(stream);
  // Requests are named locals: GCC 12 destroys a temporary inside a co_await expression twice.
  msg::ApiVersionsRequest versions_request;
  versions_request.client_software_name = "asiokafka-test";
  versions_request.client_software_version = "0";
  const auto versions =
      co_await wire.template call<msg::ApiVersionsRequest, msg::ApiVersionsResponse>(versions_request, 3);
  if (versions.error_code != 0) throw std::runtime_error("ApiVersions failed");

  Outcome out;
  sasl::authenticator auth(sasl::make_mechanism(config, host), versions.api_keys);
  for (auto action = auth.start();;) {
    if (action.kind == sasl::next_action::kind_t::fail) {
      out.failure = action.failure;
      co_return out;
    }
    if (action.kind == sasl::next_action::kind_t::done) {
      out.authenticated = true;
      out.session_lifetime_ms = action.session_lifetime_ms;
      break;
    }
    const auto body = co_await wire.round_trip(action.api_key, action.api_version, action.body);
    action = auth.on_response(body);
  }

  // The session works: the broker answers requests other than ApiVersions now.
  const auto md_range = std::find_if(versions.api_keys.begin(), versions.api_keys.end(),
                                     [](const auto& a) { return a.api_key == msg::MetadataRequest::api_key; });
  if (md_range == versions.api_keys.end()) throw std::runtime_error("no Metadata API");
  const auto md_version = std::min<std::int16_t>(md_range->max_version, msg::MetadataRequest::max_version);
  const msg::MetadataRequest md_request{};
  if (wait_past_lifetime) {
    if (out.session_lifetime_ms <= 0) co_return out;
    asio::steady_timer expiry(co_await asio::this_coro::executor,
                              std::chrono::milliseconds(out.session_lifetime_ms + 500));
    co_await expiry.async_wait(use_awaitable);
    try {
      const auto late = co_await wire.template call<msg::MetadataRequest, msg::MetadataResponse>(md_request, md_version);
      out.cluster_id = late.cluster_id;
    } catch (const std::exception&) {
      out.closed_after_expiry = true;  // EOF: the broker closed the expired connection
    }
    co_return out;
  }
  const auto md = co_await wire.template call<msg::MetadataRequest, msg::MetadataResponse>(md_request, md_version);
  out.cluster_id = md.cluster_id;
  co_return out;
}

std::pair<std::string, std::string> split(const std::string& address) {
  const auto colon = address.rfind(':');
  return {address.substr(0, colon), address.substr(colon + 1)};
}

// (No structured bindings or nested co_await in these coroutines: GCC 12 miscompiles them.)
asio::awaitable<Outcome> over_tcp(std::string address, SaslConfig config, bool wait_past_lifetime = false) {
  const auto host_port = split(address);
  const std::string host = host_port.first;
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  tcp::socket socket(ex);
  const auto endpoints = co_await resolver.async_resolve(host, host_port.second, use_awaitable);
  co_await asio::async_connect(socket, endpoints, use_awaitable);
  co_return co_await authenticate(socket, std::move(config), host, wait_past_lifetime);
}

asio::awaitable<Outcome> over_tls(std::string address, std::string ca_file, SaslConfig config) {
  const auto host_port = split(address);
  const std::string host = host_port.first;
  auto ex = co_await asio::this_coro::executor;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  ctx.load_verify_file(ca_file);
  ctx.set_verify_callback(asio::ssl::host_name_verification(host));
  asio::ssl::stream<tcp::socket> stream(ex, ctx);
  tcp::resolver resolver(ex);
  const auto endpoints = co_await resolver.async_resolve(host, host_port.second, use_awaitable);
  co_await asio::async_connect(stream.lowest_layer(), endpoints, use_awaitable);
  co_await stream.async_handshake(asio::ssl::stream_base::client, use_awaitable);
  co_return co_await authenticate(stream, std::move(config), host);
}

Outcome run(asio::awaitable<Outcome> task) { return run_async(std::move(task), std::chrono::seconds(30)); }

void expect_authenticated(const Outcome& o, const Rig& rig, std::int64_t max_lifetime_ms = 0) {
  ASSERT_TRUE(o.authenticated) << o.failure.code.message() << ": " << o.failure.message;
  EXPECT_EQ(o.cluster_id, rig.get("CLUSTER_ID"));
  if (max_lifetime_ms == 0) {
    // connections.max.reauth.ms is unset here, so password sessions never expire.
    EXPECT_EQ(o.session_lifetime_ms, 0);
  } else {
    // KIP-368: the session ends at the earlier of the token's expiry and the listener's
    // connections.max.reauth.ms.
    EXPECT_GT(o.session_lifetime_ms, 0);
    EXPECT_GT(o.session_lifetime_ms, max_lifetime_ms - 60'000);
    EXPECT_LE(o.session_lifetime_ms, max_lifetime_ms);
  }
}

std::int64_t reauth_ms(const Rig& rig) { return std::stoll(rig.get("REAUTH_MS")); }

void expect_refused(const Outcome& o, const std::string& password) {
  ASSERT_FALSE(o.authenticated);
  EXPECT_EQ(o.failure.code, kafka_errc::sasl_authentication_failed) << o.failure.message;
  EXPECT_TRUE(is_authentication_failure(o.failure.code));
  // The broker's own text ("Authentication failed...") is part of the message.
  EXPECT_NE(o.failure.message.find("Authentication failed"), std::string::npos) << o.failure.message;
  EXPECT_EQ(o.failure.message.find(password), std::string::npos) << o.failure.message;
}

SaslConfig user(const Rig& rig, SaslConfig::Mechanism m, std::string password) {
  return {.mechanism = m, .username = rig.get("SASL_USER"), .password = std::move(password)};
}

using M = SaslConfig::Mechanism;

TEST(SaslRealBroker, PlainRightAndWrongPassword) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto address = rig.node(1).listener("SASL_PLAINTEXT");
  expect_authenticated(run(over_tcp(address, user(rig, M::plain, rig.get("SASL_PASSWORD")))), rig);
  expect_refused(run(over_tcp(address, user(rig, M::plain, "wrong-password-123"))), "wrong-password-123");
}

TEST(SaslRealBroker, ScramSha256RightAndWrongPassword) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto address = rig.node(1).listener("SASL_PLAINTEXT");
  expect_authenticated(run(over_tcp(address, user(rig, M::scram_sha_256, rig.get("SASL_PASSWORD")))), rig);
  expect_refused(run(over_tcp(address, user(rig, M::scram_sha_256, "wrong-password-256"))), "wrong-password-256");
}

TEST(SaslRealBroker, ScramSha512RightAndWrongPassword) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto address = rig.node(1).listener("SASL_PLAINTEXT");
  expect_authenticated(run(over_tcp(address, user(rig, M::scram_sha_512, rig.get("SASL_PASSWORD")))), rig);
  expect_refused(run(over_tcp(address, user(rig, M::scram_sha_512, "wrong-password-512"))), "wrong-password-512");
  // The admin user too (a second SCRAM credential).
  expect_authenticated(run(over_tcp(address, {.mechanism = M::scram_sha_512, .username = rig.get("ADMIN_USER"),
                                              .password = rig.get("ADMIN_PASSWORD")})),
                       rig);
}

TEST(SaslRealBroker, ScramUnknownUserIsRefused) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto o = run(over_tcp(rig.node(1).listener("SASL_PLAINTEXT"),
                              {.mechanism = M::scram_sha_256, .username = "nobody", .password = "whatever-pw"}));
  ASSERT_FALSE(o.authenticated);
  EXPECT_EQ(o.failure.code, kafka_errc::sasl_authentication_failed) << o.failure.message;
}

TEST(SaslRealBroker, MechanismNotEnabledListsTheBrokersMechanisms) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto o = run(over_tcp(rig.node(1).listener("SASL_PLAINTEXT"),
                              {.mechanism = M::oauthbearer, .oauth_token_provider = [] { return std::string("t"); }}));
  ASSERT_FALSE(o.authenticated);
  EXPECT_EQ(o.failure.code, sasl_errc::mechanism_not_enabled);
  for (const auto* offered : {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}) {
    EXPECT_NE(o.failure.message.find(offered), std::string::npos) << o.failure.message;
  }
}

TEST(SaslRealBroker, SaslSslWithPlain) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto address = rig.node(1).listener("SASL_SSL");
  expect_authenticated(run(over_tls(address, rig.ca_file(), user(rig, M::plain, rig.get("SASL_PASSWORD")))), rig);
  expect_refused(run(over_tls(address, rig.ca_file(), user(rig, M::plain, "wrong-tls-password"))),
                 "wrong-tls-password");
}

TEST(SaslRealBroker, SaslSslWithScramSha512) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  // SCRAM-SHA-512 on SASL_SSL is one of the rig's re-authentication paths (REAUTH_MS).
  expect_authenticated(run(over_tls(rig.node(1).listener("SASL_SSL"), rig.ca_file(),
                                    user(rig, M::scram_sha_512, rig.get("SASL_PASSWORD")))),
                       rig, reauth_ms(rig));
}

TEST(SaslRealBroker, OAuthBearerUnsignedJwt) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto principal = rig.get("OAUTH_PRINCIPAL");
  int calls = 0;
  SaslConfig config{.mechanism = M::oauthbearer,
                    .oauth_token_provider = [&] { ++calls; return unsigned_jwt(principal, std::chrono::hours(1)); }};
  // The session lifetime is the token's remaining validity (an hour) capped by the listener's
  // connections.max.reauth.ms (KIP-368).
  expect_authenticated(run(over_tcp(rig.node(1).listener("OAUTH"), config)), rig, reauth_ms(rig));
  EXPECT_EQ(calls, 1);
  // KIP-342 extensions travel in the initial response; this broker accepts unvalidated ones.
  config.oauth_extensions = {{"traceId", "abc-123"}};
  expect_authenticated(run(over_tcp(rig.node(1).listener("OAUTH"), config)), rig, reauth_ms(rig));
  // A token that expires before REAUTH_MS bounds the session itself.
  config.oauth_token_provider = [&] { return unsigned_jwt(principal, std::chrono::seconds(2)); };
  expect_authenticated(run(over_tcp(rig.node(1).listener("OAUTH"), config)), rig, 2'000);
}

// The control for connection_reauth_tests: without re-authentication, the first request after
// the session expired makes the broker close the connection (KIP-368).
TEST(SaslRealBroker, ExpiredSessionIsClosedByTheBroker) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto principal = rig.get("OAUTH_PRINCIPAL");
  const SaslConfig config{.mechanism = M::oauthbearer,
                          .oauth_token_provider = [&] { return unsigned_jwt(principal, std::chrono::hours(1)); }};
  const auto o = run(over_tcp(rig.node(1).listener("OAUTH"), config, true));
  ASSERT_TRUE(o.authenticated) << o.failure.message;
  EXPECT_GT(o.session_lifetime_ms, 0);
  EXPECT_TRUE(o.closed_after_expiry);
  EXPECT_FALSE(o.cluster_id);
}

TEST(SaslRealBroker, OAuthBearerExpiredTokenIsRefusedWithTheServersJson) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto token = unsigned_jwt(rig.get("OAUTH_PRINCIPAL"), -std::chrono::hours(1));
  const auto o = run(over_tcp(rig.node(1).listener("OAUTH"),
                              {.mechanism = M::oauthbearer, .oauth_token_provider = [token] { return token; }}));
  ASSERT_FALSE(o.authenticated);
  // The broker sent {"status":"invalid_token"}, we answered 0x01, then it failed with 58.
  EXPECT_EQ(o.failure.code, kafka_errc::sasl_authentication_failed) << o.failure.message;
  EXPECT_NE(o.failure.message.find("invalid_token"), std::string::npos) << o.failure.message;
  EXPECT_EQ(o.failure.message.find(token), std::string::npos);
}

}  // namespace
}  // namespace asiokafka::test
