// asiokafka::Client against librdkafka's mock cluster: bootstrap, routing to leaders and
// coordinators, NOT_COORDINATOR / NOT_LEADER_OR_FOLLOWER handling, one connection per broker
// and purpose, idle reaping, reconnect after a broker comes back, timeouts and cancellation.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/client.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "support/async.hpp"
#include "support/mock_cluster.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
constexpr auto tuple_token = asio::as_tuple(asio::use_awaitable);

ClientConfig config_for(const MockCluster& mock) {
  ClientConfig c;
  c.bootstrap_servers = mock.bootstrap();
  c.request_timeout = 5s;
  c.connect_timeout = 3s;
  c.retry_backoff = 20ms;
  c.reconnect_backoff = 20ms;
  c.reconnect_backoff_max = 200ms;
  return c;
}

// Fetch is the partition-scoped request here: librdkafka 2.0's mock encodes ListOffsets v4+
// answers with four stray bytes at the end, which our decoder rightly rejects.
msg::FetchRequest fetch_request(const std::string& topic, std::int32_t partition) {
  msg::FetchRequest r;
  r.max_wait_ms = 0;
  msg::FetchRequest::FetchTopic t;
  t.topic = topic;
  t.partitions.push_back({.partition = partition, .fetch_offset = 0, .partition_max_bytes = 1 << 16});
  r.topics.push_back(std::move(t));
  return r;
}

std::int16_t partition_error(const msg::FetchResponse& r) {
  if (r.error_code != 0) return r.error_code;
  if (r.responses.empty() || r.responses[0].partitions.empty()) return -100;
  return r.responses[0].partitions[0].error_code;
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

TEST(ClientMock, BootstrapsAndRoutesEachPartitionToItsLeader) {
  MockCluster mock(3);
  mock.create_topic("routed", 3, 1);
  mock.set_partition_leader("routed", 0, 1);
  mock.set_partition_leader("routed", 1, 2);
  mock.set_partition_leader("routed", 2, 3);
  auto body = [&]() -> asio::awaitable<std::vector<std::int32_t>> {
    Client client(co_await asio::this_coro::executor, config_for(mock));
    co_await client.start();
    EXPECT_EQ(client.metadata().brokers.size(), 3u);
    EXPECT_TRUE(client.metadata().cluster_id.has_value());
    std::vector<std::int32_t> answered_by;
    for (std::int32_t p = 0; p < 3; ++p) {
      const auto request = fetch_request("routed", p);
      const auto r = co_await client.send_to_leader("routed", p, request);
      EXPECT_EQ(partition_error(r.message), 0) << "partition " << p;
      answered_by.push_back(r.node_id);
    }
    const auto md = client.metadata();
    const auto* topic = md.topic("routed");
    EXPECT_NE(topic, nullptr);
    if (topic != nullptr) {
      EXPECT_EQ(topic->partitions.size(), 3u);
    }
    co_await client.close();
    co_return answered_by;
  };
  EXPECT_EQ(run_async(body(), 30s), (std::vector<std::int32_t>{1, 2, 3}));
}

TEST(ClientMock, NotLeaderOrFollowerThenRefreshRoutesToTheNewLeader) {
  MockCluster mock(3);
  mock.create_topic("moving", 1, 1);
  mock.set_partition_leader("moving", 0, 1);
  auto body = [&]() -> asio::awaitable<bool> {
    Client client(co_await asio::this_coro::executor, config_for(mock));
    co_await client.start();
    const auto request = fetch_request("moving", 0);
    const auto first = co_await client.send_to_leader("moving", 0, request);
    EXPECT_EQ(first.node_id, 1);
    // Leadership moves; the old leader answers NOT_LEADER_OR_FOLLOWER once.
    mock.set_partition_leader("moving", 0, 3);
    mock.push_broker_request_errors(1, msg::FetchRequest::api_key,
                                    {{static_cast<std::int16_t>(kafka_errc::not_leader_or_follower), 0ms}});
    const auto stale = co_await client.send_to_leader("moving", 0, request);
    EXPECT_EQ(stale.node_id, 1);
    EXPECT_EQ(partition_error(stale.message), static_cast<std::int16_t>(kafka_errc::not_leader_or_follower));
    client.invalidate_leader("moving", 0, kafka_errc::not_leader_or_follower);
    const auto moved = co_await client.send_to_leader("moving", 0, request);
    EXPECT_EQ(moved.node_id, 3);
    EXPECT_EQ(partition_error(moved.message), 0);
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClientMock, NotCoordinatorMakesTheClientFindTheCoordinatorAgain) {
  MockCluster mock(3);
  mock.set_coordinator("group", "billing", 1);
  auto body = [&]() -> asio::awaitable<bool> {
    Client client(co_await asio::this_coro::executor, config_for(mock));
    co_await client.start();
    const auto before = co_await client.find_coordinator(CoordinatorType::group, "billing");
    EXPECT_EQ(before.node_id, 1);
    // The coordinator moves to broker 2; broker 1 rejects the next heartbeat.
    mock.set_coordinator("group", "billing", 2);
    mock.push_broker_request_errors(1, msg::HeartbeatRequest::api_key,
                                    {{static_cast<std::int16_t>(kafka_errc::not_coordinator), 0ms}});
    msg::HeartbeatRequest hb;
    hb.group_id = "billing";
    hb.generation_id = 1;
    hb.member_id = "member-1";
    const auto r = co_await client.send_to_coordinator(CoordinatorType::group, "billing", hb);
    EXPECT_EQ(r.node_id, 2) << "answered by the old coordinator";
    EXPECT_NE(r->error_code, static_cast<std::int16_t>(kafka_errc::not_coordinator));
    EXPECT_EQ(mock.pending_errors(1, msg::HeartbeatRequest::api_key), 0u) << "broker 1 was never asked";
    const auto after = co_await client.find_coordinator(CoordinatorType::group, "billing");
    EXPECT_EQ(after.node_id, 2);
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

// The coordinator's broker is down: the heartbeat never reaches it (the connection cannot be
// made), so the client finds the coordinator again, now on another broker, and sends there.
TEST(ClientMock, UnreachableCoordinatorIsFoundAgainOnAnotherBroker) {
  MockCluster mock(3);
  mock.set_coordinator("group", "moving", 2);
  auto body = [&]() -> asio::awaitable<bool> {
    Client client(co_await asio::this_coro::executor, config_for(mock));
    co_await client.start();
    const auto before = co_await client.find_coordinator(CoordinatorType::group, "moving");
    EXPECT_EQ(before.node_id, 2);
    mock.broker_down(2);
    mock.set_coordinator("group", "moving", 3);
    msg::HeartbeatRequest hb;
    hb.group_id = "moving";
    hb.member_id = "member-1";
    auto r = co_await client.send_to_coordinator(CoordinatorType::group, "moving", hb, tuple_token);
    EXPECT_FALSE(std::get<0>(r)) << std::get<0>(r).message();
    EXPECT_EQ(std::get<1>(r).node_id, 3) << "not resent to the coordinator found again";
    const auto after = co_await client.find_coordinator(CoordinatorType::group, "moving");
    EXPECT_EQ(after.node_id, 3);
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

// A coordinator that keeps answering COORDINATOR_LOAD_IN_PROGRESS: the client resends,
// retry_backoff apart, until request_timeout, then the last answer is the result.
TEST(ClientMock, CoordinatorRetriesGiveUpAtTheRequestTimeout) {
  MockCluster mock(1);
  mock.set_coordinator("group", "loading", 1);
  const auto loading = static_cast<std::int16_t>(kafka_errc::coordinator_load_in_progress);
  std::vector<std::pair<std::int16_t, std::chrono::milliseconds>> errors(200, {loading, 0ms});
  mock.push_broker_request_errors(1, msg::HeartbeatRequest::api_key, errors);
  auto body = [&]() -> asio::awaitable<bool> {
    auto config = config_for(mock);
    config.request_timeout = 1s;
    config.retry_backoff = 50ms;
    Client client(co_await asio::this_coro::executor, config);
    co_await client.start();
    msg::HeartbeatRequest hb;
    hb.group_id = "loading";
    hb.member_id = "member-1";
    const auto start = clock_type::now();
    auto r = co_await client.send_to_coordinator(CoordinatorType::group, "loading", hb, tuple_token);
    const auto took = clock_type::now() - start;
    EXPECT_FALSE(std::get<0>(r)) << "an answer with an error is not a failure of the request";
    EXPECT_EQ(std::get<1>(r)->error_code, loading);
    EXPECT_GE(took, 900ms) << "gave up before request_timeout";
    EXPECT_LT(took, 2s) << "kept going past request_timeout";
    const std::size_t answered = 200 - mock.pending_errors(1, msg::HeartbeatRequest::api_key);
    EXPECT_GE(answered, 5u) << "not resent retry_backoff apart";
    EXPECT_LE(answered, 21u) << "resent faster than retry_backoff";
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClientMock, CoordinatorNotAvailableIsRetriedWithinTheRequestTimeout) {
  MockCluster mock(1);
  mock.set_coordinator("group", "slow-group", 1);
  const auto not_available = static_cast<std::int16_t>(kafka_errc::coordinator_not_available);
  // On the broker's own error stack: librdkafka 2.0 counts only those (pending_errors).
  mock.push_broker_request_errors(1, msg::FindCoordinatorRequest::api_key, {{not_available, 0ms}, {not_available, 0ms}});
  EXPECT_EQ(mock.pending_errors(1, msg::FindCoordinatorRequest::api_key), 2u);
  auto body = [&]() -> asio::awaitable<bool> {
    Client client(co_await asio::this_coro::executor, config_for(mock));
    co_await client.start();
    const auto c = co_await client.find_coordinator(CoordinatorType::group, "slow-group");
    EXPECT_EQ(c.node_id, 1);
    EXPECT_EQ(mock.pending_errors(1, msg::FindCoordinatorRequest::api_key), 0u) << "the errors were not all answered";
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClientMock, OneConnectionPerBrokerAndPurpose) {
  MockCluster mock(1);
  mock.create_topic("purposes", 1, 1);
  mock.set_coordinator("group", "g", 1);
  auto body = [&]() -> asio::awaitable<std::vector<ConnectionPurpose>> {
    Client client(co_await asio::this_coro::executor, config_for(mock));
    co_await client.start();
    const msg::MetadataRequest md;
    (void)co_await client.send_to(1, md);
    msg::FetchRequest fetch;
    fetch.max_wait_ms = 10;
    (void)co_await client.send_to(1, fetch);
    msg::HeartbeatRequest hb;
    hb.group_id = "g";
    hb.member_id = "m";
    (void)co_await client.send_to(1, hb);
    std::vector<ConnectionPurpose> seen;
    for (const auto& c : client.connections()) {
      EXPECT_EQ(c.node_id, 1);
      seen.push_back(c.purpose);
    }
    co_await client.close();
    EXPECT_TRUE(client.connections().empty());
    co_return seen;
  };
  const auto seen = run_async(body(), 30s);
  EXPECT_EQ(seen, (std::vector<ConnectionPurpose>{ConnectionPurpose::fetch, ConnectionPurpose::group,
                                                  ConnectionPurpose::other}));
}

TEST(ClientMock, IdleConnectionsAreClosed) {
  MockCluster mock(1);
  auto body = [&]() -> asio::awaitable<bool> {
    auto config = config_for(mock);
    config.connections_max_idle = 300ms;
    Client client(co_await asio::this_coro::executor, config);
    co_await client.start();
    const msg::MetadataRequest md;
    (void)co_await client.send_to(1, md);
    EXPECT_EQ(client.connections().size(), 1u);
    const auto sent = clock_type::now();
    // Poll the observable state (bounded); the reaper runs on the client's own timer.
    for (int i = 0; i < 50 && !client.connections().empty(); ++i) co_await pause(50ms);
    EXPECT_TRUE(client.connections().empty()) << "an idle connection stayed open";
    EXPECT_GE(clock_type::now() - sent, 300ms) << "closed before connections_max_idle";
    // The next request reconnects.
    const auto again = co_await client.send_to(1, md);
    EXPECT_FALSE(again->brokers.empty());
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClientMock, ReconnectsWhenTheBrokerComesBack) {
  MockCluster mock(1);
  auto body = [&]() -> asio::awaitable<bool> {
    auto config = config_for(mock);
    config.request_timeout = 1s;
    Client client(co_await asio::this_coro::executor, config);
    co_await client.start();
    const msg::MetadataRequest md;
    (void)co_await client.send_to(1, md);
    mock.broker_down(1);
    auto down = co_await client.send_to(1, md, tuple_token);
    const error_code down_error = std::get<0>(down);
    EXPECT_TRUE(down_error == client_errc::connection_lost || down_error == client_errc::connection_failed ||
                down_error == client_errc::timeout)
        << down_error.message();
    mock.broker_up(1);
    bool recovered = false;
    // Bounded polling: each attempt is a real request; the pause only spaces them.
    for (int attempt = 0; attempt < 40 && !recovered; ++attempt) {
      auto r = co_await client.send_to(1, md, tuple_token);
      recovered = !std::get<0>(r) && !std::get<1>(r)->brokers.empty();
      if (!recovered) co_await pause(100ms);
    }
    EXPECT_TRUE(recovered) << "no successful request after the broker came back";
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(ClientMock, RequestTimeoutAndCancellationLeaveTheClientUsable) {
  using namespace asio::experimental::awaitable_operators;
  MockCluster mock(1);
  auto body = [&]() -> asio::awaitable<bool> {
    auto config = config_for(mock);
    config.request_timeout = 700ms;
    Client client(co_await asio::this_coro::executor, config);
    co_await client.start();
    const msg::MetadataRequest md;
    mock.set_rtt(1, 2s);
    const auto start = clock_type::now();
    auto timed_out = co_await client.send_to(1, md, tuple_token);
    const auto took = clock_type::now() - start;
    EXPECT_EQ(std::get<0>(timed_out), client_errc::timeout) << std::get<0>(timed_out).message();
    EXPECT_GE(took, 700ms);
    EXPECT_LT(took, 2s);
    // A send that loses a `||` race is cancelled at once; the cancelled operation itself ends
    // with operation_aborted (asserted in client_api_test's CancellationEnds...).
    mock.set_rtt(1, 1500ms);
    asio::steady_timer limit(co_await asio::this_coro::executor, 100ms);
    const auto race_start = clock_type::now();
    auto raced = co_await (client.send_to(1, md) || limit.async_wait(asio::use_awaitable));
    EXPECT_EQ(raced.index(), 1u) << "the slow send should have lost the race";
    EXPECT_LT(clock_type::now() - race_start, 1s) << "the race waited for the cancelled send";
    mock.set_rtt(1, 0ms);
    const auto after = co_await client.send_to(1, md);
    EXPECT_FALSE(after->brokers.empty());
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClientMock, UnreachableBootstrapFailsNamingEveryAddress) {
  auto body = []() -> asio::awaitable<bool> {
    ClientConfig config;
    // Port 1 and 2 on loopback: nothing listens there (connection refused at once).
    config.bootstrap_servers = "127.0.0.1:1,127.0.0.1:2";
    config.connect_timeout = 2s;
    config.request_timeout = 2s;
    Client client(co_await asio::this_coro::executor, config);
    const auto start = clock_type::now();
    try {
      co_await client.start();
      ADD_FAILURE() << "started without a broker";
    } catch (const asiokafka::error& e) {  // the message names every address: the thrown form
      EXPECT_EQ(e.code(), client_errc::connection_failed);
      const std::string what = e.what();
      EXPECT_NE(what.find("127.0.0.1:1"), std::string::npos) << what;
      EXPECT_NE(what.find("127.0.0.1:2"), std::string::npos) << what;
    }
    EXPECT_LT(clock_type::now() - start, 10s);
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClientMock, DestroyingAStartedClientWithoutCloseIsSafe) {
  MockCluster mock(1);
  asio::io_context io;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Client client(co_await asio::this_coro::executor, config_for(mock));
        co_await client.start();
        const msg::MetadataRequest md;
        (void)co_await client.send_to(1, md);
        done = true;
      },
      asio::detached);
  // The background tasks (refresh loop, idle reaper, connections) must all end by themselves
  // once the client is gone: the io_context then runs out of work and run_for returns early.
  // A task left behind keeps it busy until the limit (and ASan reports what it leaks).
  const auto start = clock_type::now();
  io.run_for(20s);
  EXPECT_TRUE(done);
  EXPECT_TRUE(io.stopped()) << "work left on the io_context after the client was destroyed";
  EXPECT_LT(clock_type::now() - start, 15s);
}

}  // namespace
}  // namespace asiokafka::test
