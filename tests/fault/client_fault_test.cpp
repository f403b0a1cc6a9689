// asiokafka::Client while its only broker is SIGKILLed and restarted: requests in flight fail
// with connection_lost, and the same client recovers (reconnect with backoff, metadata
// refresh) once the broker is back, without being restarted itself.
#include <gtest/gtest.h>

#include <chrono>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/client.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "support/async.hpp"
#include "support/poll.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct Outcome {
  std::vector<std::error_code> in_flight_errors;
  std::chrono::milliseconds failed_after{};
  bool recovered = false;
  std::chrono::milliseconds recovered_after{};
};

asio::awaitable<void> pause_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

TEST(ClientFault, KilledBrokerFailsInFlightRequestsAndTheClientRecoversAfterRestart) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  std::thread restarter;
  struct Restore {
    const RigNode& n;
    std::thread& t;
    ~Restore() {
      if (t.joinable()) t.join();
      try {
        n.resume();
      } catch (...) {
      }
      try {
        n.start();  // no-op when it runs
      } catch (...) {
      }
    }
  } restore{node, restarter};

  auto body = [&]() -> asio::awaitable<Outcome> {
    const auto ex = co_await asio::this_coro::executor;
    ClientConfig config;
    config.bootstrap_servers = rig.bootstrap("PLAINTEXT");
    config.request_timeout = 30s;
    config.connect_timeout = 2s;
    config.reconnect_backoff_max = 500ms;
    Client client(ex, config);
    co_await client.start();
    const std::int32_t id = client.metadata().brokers.at(0).node_id;
    const msg::MetadataRequest md;
    (void)co_await client.send_to(id, md);

    // Paused, so the requests are written and unanswered when the broker dies.
    node.pause();
    Outcome out;
    std::size_t done = 0;
    for (int i = 0; i < 10; ++i) {
      client.send_to(id, md, [&](error_code ec, response<msg::MetadataResponse>) {
        out.in_flight_errors.push_back(ec);
        ++done;
      });
    }
    // All ten are on the broker's connection (the first five written, the rest queued behind
    // max_in_flight_requests_per_connection) and none is answered: the broker is paused.
    const auto on_connection = [&] {
      for (const auto& c : client.connections()) {
        if (c.node_id == id && c.purpose == ConnectionPurpose::other) return c.in_flight;
      }
      return std::size_t{0};
    };
    EXPECT_TRUE(co_await eventually_async([&] { return on_connection() == 10; }, 5s)) << on_connection();
    EXPECT_EQ(done, 0u) << "a request was answered by a paused broker";
    node.kill();
    const auto killed_at = clock_type::now();
    (void)co_await eventually_async([&] { return done == 10; }, 10s, 20ms);
    out.failed_after = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - killed_at);

    restarter = std::thread([&node] { node.start(); });
    // Bounded polling while the broker restarts: each attempt is a real request.
    for (int attempt = 0; attempt < 300 && !out.recovered && clock_type::now() - killed_at < 90s; ++attempt) {
      auto r = co_await client.send_to(id, md, asio::as_tuple(asio::use_awaitable));
      out.recovered = !std::get<0>(r) && std::get<1>(r)->cluster_id.has_value();
      if (!out.recovered) co_await pause_for(200ms);
    }
    out.recovered_after = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - killed_at);
    co_await client.close();
    co_return out;
  };
  const Outcome out = run_async(body(), 150s);
  ASSERT_EQ(out.in_flight_errors.size(), 10u) << "requests hung after the broker died";
  for (const auto& ec : out.in_flight_errors) EXPECT_EQ(ec, client_errc::connection_lost) << ec.message();
  EXPECT_LT(out.failed_after, 10s);
  EXPECT_TRUE(out.recovered) << "the client did not recover within " << out.recovered_after.count() << " ms";
}

}  // namespace
}  // namespace asiokafka::test
