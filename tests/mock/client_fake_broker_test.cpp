// asiokafka::Client against a FakeBroker: a response that does not decode closes its
// connection, every request pending on it fails with a clear error, and the client reconnects
// for the next request.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <system_error>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/client.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "support/async.hpp"
#include "support/fake_broker.hpp"
#include "support/poll.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// The fake broker as a one-broker cluster: node 0 at its own address, also the controller.
void answer_metadata(FakeSession& s, const FakeRequest& r, std::int32_t port) {
  msg::MetadataResponse md;
  md.brokers.push_back({.node_id = 0, .host = "127.0.0.1", .port = port});
  md.cluster_id = "fake-cluster";
  md.controller_id = 0;
  s.respond(r, md);
}

struct Outcome {
  std::vector<std::error_code> first_connection;  // the malformed answer and the pending one
  std::chrono::milliseconds failed_after{};
  bool recovered = false;
  std::size_t accepted = 0;
};

TEST(ClientFakeBroker, MalformedResponseClosesTheConnectionFailsItsRequestsAndTheClientReconnects) {
  auto body = []() -> asio::awaitable<Outcome> {
    const auto ex = co_await asio::this_coro::executor;
    FakeBroker broker(ex);
    const auto port = static_cast<std::int32_t>(broker.port());
    std::size_t list_groups_seen = 0;
    broker.on_request([&](FakeSession& s, const FakeRequest& r) {
      if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
      if (r.api_key == msg::MetadataRequest::api_key) return answer_metadata(s, r, port);
      if (r.api_key == msg::ListGroupsRequest::api_key) {
        // First two on the first ListGroups connection: answer one with bytes that do not
        // decode, leave the other pending. Afterwards, answer properly.
        ++list_groups_seen;
        if (list_groups_seen == 1) {
          const std::vector<std::uint8_t> junk{0xff, 0xff, 0xff};
          return s.respond(r, junk);
        }
        if (list_groups_seen == 2) return;  // pending: must fail when the connection closes
        msg::ListGroupsResponse ok;
        return s.respond(r, ok);
      }
    });
    ClientConfig config;
    config.bootstrap_servers = broker.host() + ":" + std::to_string(port);
    config.request_timeout = 10s;
    config.reconnect_backoff = 20ms;
    Client client(ex, config);
    co_await client.start();

    Outcome out;
    const msg::ListGroupsRequest lg;
    std::size_t done = 0;
    const auto start = clock_type::now();
    for (int i = 0; i < 2; ++i) {
      client.send_to(0, lg, [&](error_code ec, response<msg::ListGroupsResponse>) {
        out.first_connection.push_back(ec);
        ++done;
      });
    }
    (void)co_await eventually_async([&] { return done == 2; }, 5s);
    out.failed_after = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
    const auto again = co_await client.send_to(0, lg);
    out.recovered = again->error_code == 0;
    out.accepted = broker.accepted();
    co_await client.close();
    co_return out;
  };
  const Outcome out = run_async(body(), 30s);
  ASSERT_EQ(out.first_connection.size(), 2u) << "a request on the poisoned connection hung";
  EXPECT_LT(out.failed_after, 5s);
  // ff ff ff is three bytes of a ListGroups answer whose first field takes four: the answered
  // request gets the decode error, and the connection fails with it, so the pending one too.
  for (const auto& ec : out.first_connection) EXPECT_EQ(ec, client_errc::truncated) << ec.message();
  EXPECT_TRUE(out.recovered);
  // At least: the bootstrap connection, the poisoned one, and a reconnection (the metadata
  // refresh the lost connection triggers may share it or not).
  EXPECT_GE(out.accepted, 3u);
}

TEST(ClientFakeBroker, ThrottleTimeInAResponseHoldsTheNextRequest) {
  // KIP-219: after a response with throttle_time_ms the client sends nothing more on that
  // connection until the time has passed (the broker has muted the channel meanwhile).
  auto body = []() -> asio::awaitable<std::vector<std::chrono::milliseconds>> {
    const auto ex = co_await asio::this_coro::executor;
    FakeBroker broker(ex);
    const auto port = static_cast<std::int32_t>(broker.port());
    std::vector<clock_type::time_point> arrivals;
    broker.on_request([&](FakeSession& s, const FakeRequest& r) {
      if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
      if (r.api_key == msg::MetadataRequest::api_key) return answer_metadata(s, r, port);
      if (r.api_key == msg::ListGroupsRequest::api_key) {
        arrivals.push_back(clock_type::now());
        msg::ListGroupsResponse throttled;
        throttled.throttle_time_ms = arrivals.size() == 1 ? 400 : 0;
        return s.respond(r, throttled);
      }
    });
    ClientConfig config;
    config.bootstrap_servers = broker.host() + ":" + std::to_string(port);
    Client client(ex, config);
    co_await client.start();
    const msg::ListGroupsRequest lg;
    std::vector<std::chrono::milliseconds> answered_after;
    const auto start = clock_type::now();
    for (int i = 0; i < 3; ++i) {
      (void)co_await client.send_to(0, lg);
      answered_after.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start));
    }
    co_await client.close();
    std::vector<std::chrono::milliseconds> gaps;
    for (std::size_t i = 1; i < arrivals.size(); ++i) {
      gaps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(arrivals[i] - arrivals[i - 1]));
    }
    co_return gaps;
  };
  const auto gaps = run_async(body(), 30s);
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_GE(gaps[0], 380ms) << "the request after a 400 ms throttle went out early";
  EXPECT_LT(gaps[1], 300ms) << "an unthrottled request was held";
}

TEST(ClientFakeBroker, ConcurrentRefreshesAndCoordinatorLookupsShareOneRequest) {
  struct Counts {
    std::size_t metadata = 0;
    std::size_t find_coordinator = 0;
    std::size_t refreshed = 0;
    std::vector<std::int32_t> coordinators;
  };
  auto body = []() -> asio::awaitable<Counts> {
    const auto ex = co_await asio::this_coro::executor;
    FakeBroker broker(ex);
    const auto port = static_cast<std::int32_t>(broker.port());
    Counts counts;
    broker.on_request([&](FakeSession& s, const FakeRequest& r) {
      if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
      if (r.api_key == msg::MetadataRequest::api_key) {
        ++counts.metadata;
        return answer_metadata(s, r, port);
      }
      if (r.api_key == msg::FindCoordinatorRequest::api_key) {
        ++counts.find_coordinator;
        msg::FindCoordinatorRequest asked;
        (void)asked.decode(r.body, r.api_version);
        msg::FindCoordinatorResponse found;
        if (r.api_version < 4) {  // one key, answered in top-level fields
          found.node_id = 0;
          found.host = "127.0.0.1";
          found.port = port;
        }
        for (const auto& key : asked.coordinator_keys) {
          found.coordinators.push_back({.key = key, .node_id = 0, .host = "127.0.0.1", .port = port});
        }
        return s.respond(r, found);
      }
    });
    ClientConfig config;
    config.bootstrap_servers = broker.host() + ":" + std::to_string(port);
    config.retry_backoff = 1ms;
    Client client(ex, config);
    co_await client.start();
    const std::size_t metadata_at_start = counts.metadata;
    std::size_t done = 0;
    // Callbacks: all ten operations are started before any of them can complete.
    for (int i = 0; i < 5; ++i) {
      client.refresh_metadata([&](error_code ec) {
        if (!ec) ++counts.refreshed;
        ++done;
      });
      client.find_coordinator(CoordinatorType::group, "shared-group", [&](error_code ec, BrokerMetadata c) {
        counts.coordinators.push_back(ec ? -100 : c.node_id);
        ++done;
      });
    }
    EXPECT_TRUE(co_await eventually_async([&] { return done == 10; }, 5s));
    counts.metadata -= metadata_at_start;
    co_await client.close();
    co_return counts;
  };
  const Counts c = run_async(body(), 30s);
  EXPECT_EQ(c.refreshed, 5u);
  EXPECT_EQ(c.metadata, 1u) << "five concurrent refreshes should share one Metadata request";
  EXPECT_EQ(c.coordinators, (std::vector<std::int32_t>(5, 0)));
  EXPECT_EQ(c.find_coordinator, 1u) << "five concurrent lookups should share one FindCoordinator";
}

}  // namespace
}  // namespace asiokafka::test
