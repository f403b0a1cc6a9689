// net::Connection against the rig's broker (docs/rig.md): every listener (PLAINTEXT, SSL, MTLS,
// SASL_PLAINTEXT with PLAIN/SCRAM, OAUTH, SASL_SSL), typed TLS and SASL failures, 10,000
// pipelined requests on one connection, cancelling one in-flight request, a large Metadata.
// (No structured bindings, and no class-type temporaries inside co_await: GCC 12 bugs.)
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/kafka_error.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/jwt.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using asio::use_awaitable;
using net::Connection;
using net::ConnectionOptions;

using Target = HostPort;

Target split(const std::string& address) { return split_host_port(address); }

std::shared_ptr<asio::ssl::context> tls_context(const std::string& ca, const std::string& cert = {},
                                                const std::string& key = {}) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_verify_mode(asio::ssl::verify_peer);
  ctx->load_verify_file(ca);
  if (!cert.empty()) {
    ctx->use_certificate_chain_file(cert);
    ctx->use_private_key_file(key, asio::ssl::context::pem);
  }
  return ctx;
}

struct MetadataSeen {
  std::optional<std::string> cluster_id;
  std::size_t brokers = 0;
  std::int16_t version = -1;
  std::int64_t session_lifetime_ms = -1;
};

asio::awaitable<MetadataSeen> connect_and_read_metadata(Target target, ConnectionOptions options) {
  auto ex = co_await asio::this_coro::executor;
  Connection conn = co_await net::connect(ex, target.host, target.port, std::move(options));
  const msg::MetadataRequest request{};
  const auto md = co_await conn.send(request);
  MetadataSeen seen{md->cluster_id, md->brokers.size(), md.version, conn.session_lifetime_ms()};
  co_await conn.close();
  co_return seen;
}

MetadataSeen metadata(const std::string& address, ConnectionOptions options) {
  return run_async(connect_and_read_metadata(split(address), std::move(options)), 30s);
}

void expect_cluster(const MetadataSeen& seen, const Rig& rig) {
  EXPECT_EQ(seen.cluster_id, rig.get("CLUSTER_ID"));
  EXPECT_EQ(seen.brokers, 1u);
  EXPECT_GE(seen.version, 9);  // Kafka 4 serves Metadata v4+; we implement up to v12
}

SaslConfig user(const Rig& rig, SaslConfig::Mechanism m, std::string password) {
  return {.mechanism = m, .username = rig.get("SASL_USER"), .password = std::move(password)};
}

using M = SaslConfig::Mechanism;

TEST(ConnectionRealBroker, PlaintextMetadata) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  expect_cluster(metadata(rig.node(1).listener("PLAINTEXT"), {}), rig);
}

TEST(ConnectionRealBroker, LocalhostTriesEveryAddress) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  // "localhost" resolves to ::1 and 127.0.0.1; the broker listens on 127.0.0.1 only.
  const auto target = split(rig.node(1).listener("PLAINTEXT"));
  expect_cluster(metadata("localhost:" + std::to_string(target.port), {}), rig);
}

TEST(ConnectionRealBroker, RefusedConnectionNamesTheAddressesTried) {
  // Port 1 on loopback: nothing listens there.
  try {
    metadata("localhost:1", {.connect_timeout = 5s});
    FAIL() << "connected to port 1";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), client_errc::connection_failed) << e.what();
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
  }
}

TEST(ConnectionRealBroker, Ssl) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  expect_cluster(metadata(rig.node(1).listener("SSL"), {.tls = net::ConnectionTls{tls_context(rig.ca_file())}}), rig);
}

TEST(ConnectionRealBroker, MutualTlsWithClientCertificate) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto ctx = tls_context(rig.ca_file(), rig.get("CLIENT_CERT"), rig.get("CLIENT_KEY"));
  expect_cluster(metadata(rig.node(1).listener("MTLS"), {.tls = net::ConnectionTls{ctx}}), rig);
}

TEST(ConnectionRealBroker, WrongCaIsATlsError) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  try {
    metadata(rig.node(1).listener("SSL"), {.tls = net::ConnectionTls{tls_context(rig.get("OTHER_CA_FILE"))}});
    FAIL() << "TLS verification passed with the wrong CA";
  } catch (const std::system_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;  // OpenSSL's reason
    EXPECT_NE(what.find("certificate verification:"), std::string::npos) << what;
    EXPECT_NE(what.find(rig.node(1).listener("SSL")), std::string::npos) << what;
  }
}

TEST(ConnectionRealBroker, SaslPlainAndScram) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  for (const auto m : {M::plain, M::scram_sha_256, M::scram_sha_512}) {
    SCOPED_TRACE(std::string(to_string(m)));
    const auto seen = metadata(rig.node(1).listener("SASL_PLAINTEXT"), {.sasl = user(rig, m, rig.get("SASL_PASSWORD"))});
    expect_cluster(seen, rig);
    EXPECT_EQ(seen.session_lifetime_ms, 0);
  }
}

TEST(ConnectionRealBroker, SaslWrongPasswordCarriesTheBrokersMessage) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  for (const auto m : {M::plain, M::scram_sha_512}) {
    SCOPED_TRACE(std::string(to_string(m)));
    try {
      metadata(rig.node(1).listener("SASL_PLAINTEXT"), {.sasl = user(rig, m, "wrong-password-x")});
      FAIL() << "authenticated with a wrong password";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), kafka_errc::sasl_authentication_failed) << e.what();
      EXPECT_NE(std::string(e.what()).find("Authentication failed"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("wrong-password-x"), std::string::npos) << e.what();
    }
  }
}

TEST(ConnectionRealBroker, OAuthBearerUnsignedJwt) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto principal = rig.get("OAUTH_PRINCIPAL");
  const SaslConfig sasl{.mechanism = M::oauthbearer, .oauth_token_provider = [principal] { return unsigned_jwt(principal); }};
  const auto seen = metadata(rig.node(1).listener("OAUTH"), {.sasl = sasl});
  expect_cluster(seen, rig);
  // KIP-368: the token's remaining validity (an hour), capped by the listener's
  // connections.max.reauth.ms (REAUTH_MS in rig.env).
  EXPECT_GT(seen.session_lifetime_ms, 0);
  EXPECT_LE(seen.session_lifetime_ms, std::stoll(rig.get("REAUTH_MS")));
}

TEST(ConnectionRealBroker, SaslSsl) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  expect_cluster(metadata(rig.node(1).listener("SASL_SSL"),
                          {.tls = net::ConnectionTls{tls_context(rig.ca_file())},
                           .sasl = user(rig, M::scram_sha_256, rig.get("SASL_PASSWORD"))}),
                 rig);
}

// Alternates two APIs so that a mismatched response could not decode by chance.
asio::awaitable<void> one_request(Connection& conn, int i) {
  if (i % 2 == 0) {
    msg::ApiVersionsRequest request;  // Kafka rejects an empty software name (KIP-511)
    request.client_software_name = "asiokafka-test";
    request.client_software_version = "1";
    const auto r = co_await conn.send(request);
    if (r->error_code != 0 || r->api_keys.empty()) throw std::runtime_error("bad ApiVersions");
  } else {
    const msg::MetadataRequest request{};
    const auto r = co_await conn.send(request);
    if (!r->cluster_id) throw std::runtime_error("bad Metadata");
  }
}

// 10,000 requests from 10,000 concurrent coroutines on one connection: each is answered with
// its own response (the multiplexer checks correlation ids in order), in-flight stays bounded.
TEST(ConnectionRealBroker, TenThousandConcurrentRequests) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto target = split(rig.node(1).listener("PLAINTEXT"));
  constexpr int n = 10'000;
  asio::io_context io;
  std::optional<Connection> conn;
  int ok = 0;
  int failed = 0;
  std::string first_error;
  asio::co_spawn(io, net::connect(io.get_executor(), target.host, target.port, {}),
                 [&](std::exception_ptr e, Connection c) {
                   if (e) {
                     first_error = "connect failed";
                     return;
                   }
                   conn.emplace(std::move(c));
                   for (int i = 0; i < n; ++i) {
                     asio::co_spawn(io, one_request(*conn, i), [&](std::exception_ptr err) {
                       if (!err) {
                         ++ok;
                       } else if (++failed == 1) {
                         try {
                           std::rethrow_exception(err);
                         } catch (const std::exception& x) {
                           first_error = x.what();
                         }
                       }
                       if (ok + failed == n) asio::co_spawn(io, conn->close(), asio::detached);
                     });
                   }
                 });
  io.run_for(120s);
  EXPECT_EQ(ok, n) << first_error;
  EXPECT_EQ(failed, 0) << first_error;
}

asio::awaitable<void> create_topic(Connection& conn, const std::string& name, int partitions) {
  msg::CreateTopicsRequest request;
  msg::CreateTopicsRequest::CreatableTopic topic;
  topic.name = name;
  topic.num_partitions = partitions;
  topic.replication_factor = 1;
  request.topics.push_back(topic);
  const auto r = co_await conn.send(request);
  if (r->topics.size() != 1 || (r->topics[0].error_code != 0 && r->topics[0].error_code != 36)) {
    throw std::runtime_error("CreateTopics failed with " + std::to_string(r->topics.empty() ? -1 : r->topics[0].error_code));
  }
}

std::string unique_name(const std::string& prefix) {
  return prefix + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

// A Fetch that the broker parks (max_wait_ms on an empty partition) is surely in flight;
// cancelling its send abandons it, and requests after it still succeed.
asio::awaitable<std::string> cancel_in_flight(Target target) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  ConnectionOptions options;  // a named local: no class-type temporary inside co_await (GCC 12)
  Connection conn = co_await net::connect(ex, target.host, target.port, options);
  const std::string topic = unique_name("conn-cancel");
  co_await create_topic(conn, topic, 1);

  msg::FetchRequest fetch;
  fetch.max_wait_ms = 1500;
  fetch.min_bytes = 1;
  msg::FetchRequest::FetchTopic ft;
  ft.topic = topic;
  msg::FetchRequest::FetchPartition fp;
  fp.partition = 0;
  fp.partition_max_bytes = 1 << 20;
  ft.partitions.push_back(fp);
  fetch.topics.push_back(ft);
  std::string log;
  for (int attempt = 0; attempt < 20; ++attempt) {  // until the topic's leader is known
    const auto warmup = co_await conn.send(fetch, 12);
    if (!warmup->responses.empty() && !warmup->responses[0].partitions.empty() &&
        warmup->responses[0].partitions[0].error_code == 0) {
      break;
    }
    asio::steady_timer pause(ex, 200ms);
    co_await pause.async_wait(use_awaitable);
  }

  const auto start = std::chrono::steady_clock::now();
  asio::steady_timer limit(ex, 300ms);
  try {
    auto winner = co_await (conn.send(fetch, 12) || limit.async_wait(use_awaitable));
    if (winner.index() == 0) log += "fetch answered before the cancel; ";
  } catch (const std::system_error& e) {
    log += std::string("cancel threw ") + e.what() + "; ";
  }
  if (std::chrono::steady_clock::now() - start > 1s) log += "cancel took too long; ";
  if (!conn.is_open()) log += "connection closed by the cancel; ";
  // The broker answers the parked Fetch first; that response is read and dropped.
  const msg::MetadataRequest md_request{};
  const auto md = co_await conn.send(md_request);
  if (!md->cluster_id) log += "metadata after cancel has no cluster id; ";
  msg::ApiVersionsRequest av_request;
  av_request.client_software_name = "asiokafka-test";
  av_request.client_software_version = "1";
  const auto av = co_await conn.send(av_request);
  if (av->error_code != 0) log += "ApiVersions after cancel failed; ";
  if (conn.pending() != 0) log += "requests left pending; ";
  co_await conn.close();
  co_return log;
}

TEST(ConnectionRealBroker, CancellingOneInFlightSendLeavesTheConnectionUsable) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  EXPECT_EQ(run_async(cancel_in_flight(split(rig.node(1).listener("PLAINTEXT"))), 60s), "");
}

asio::awaitable<std::size_t> big_metadata(Target target, std::size_t& frame_bytes) {
  auto ex = co_await asio::this_coro::executor;
  ConnectionOptions options;  // a named local: no class-type temporary inside co_await (GCC 12)
  Connection conn = co_await net::connect(ex, target.host, target.port, options);
  const std::string prefix = unique_name("conn-big");
  constexpr int topics = 30;
  constexpr int partitions = 100;
  msg::MetadataRequest request;
  request.topics.emplace();
  for (int t = 0; t < topics; ++t) {
    const std::string name = prefix + "-" + std::to_string(t);
    co_await create_topic(conn, name, partitions);
    msg::MetadataRequest::MetadataRequestTopic rt;
    rt.name = name;
    request.topics->push_back(rt);
  }
  std::size_t seen = 0;
  for (int attempt = 0; attempt < 300; ++attempt) {  // until every partition has a leader
    const auto md = co_await conn.send(request);
    seen = 0;
    for (const auto& t : md->topics) {
      for (const auto& p : t.partitions) seen += p.error_code == 0 && p.leader_id >= 0 ? 1 : 0;
    }
    frame_bytes = md.storage.size();
    if (seen == topics * partitions) break;
    asio::steady_timer pause(ex, 200ms);
    co_await pause.async_wait(use_awaitable);
  }
  // Delete the 3,000 partitions again: the fault suites restart this broker, and every
  // partition left behind adds to its log recovery time.
  msg::DeleteTopicsRequest drop;
  drop.timeout_ms = 30000;
  for (const auto& t : request.topics.value()) {
    msg::DeleteTopicsRequest::DeleteTopicState state;
    state.name = t.name;
    drop.topics.push_back(state);
  }
  const auto dropped = co_await conn.send(drop);
  for (const auto& r : dropped->responses) EXPECT_EQ(r.error_code, 0) << r.name.value_or("?");
  co_await conn.close();
  co_return seen;
}

TEST(ConnectionRealBroker, LargeMetadataResponse) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  std::size_t frame_bytes = 0;
  EXPECT_EQ(run_async(big_metadata(split(rig.node(1).listener("PLAINTEXT")), frame_bytes), 120s), 3000u);
  EXPECT_GT(frame_bytes, 64u * 1024);  // larger than the reader's first buffer
}

TEST(ConnectionRealBroker, SendAfterCloseFailsWithConnectionClosed) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto target = split(rig.node(1).listener("PLAINTEXT"));
  auto task = [](Target t) -> asio::awaitable<std::string> {
    auto ex = co_await asio::this_coro::executor;
    ConnectionOptions options;
    Connection conn = co_await net::connect(ex, t.host, t.port, options);
    co_await conn.close();
    try {
      const msg::MetadataRequest request{};
      (void)co_await conn.send(request);
    } catch (const std::system_error& e) {
      co_return e.code() == client_errc::connection_closed ? std::string() : std::string(e.what());
    }
    co_return "send after close succeeded";
  };
  EXPECT_EQ(run_async(task(target), 30s), "");
}

}  // namespace
}  // namespace asiokafka::test
