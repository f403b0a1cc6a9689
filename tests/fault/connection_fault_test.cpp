// net::connection when the single-node broker stops answering (SIGSTOP) or dies (SIGKILL)
// with requests in flight. Serial: these tests take the broker away from everyone else.
// (No class-type temporaries inside co_await: GCC 12 destroys them twice.)
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include "asiokafka/probe.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/net_helpers.hpp"
#include "support/poll.hpp"
#include "support/restore_node.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;


using Target = HostPort;

Target split(const std::string& address) { return split_host_port(address); }

struct Outcome {
  std::vector<net::failure> failures;  // one per request (empty: it succeeded)
  std::chrono::steady_clock::duration elapsed{};
};

asio::awaitable<void> connect_into(Target target, net::connection_options options, std::optional<net::connection>& out) {
  auto ex = co_await asio::this_coro::executor;
  auto connected = co_await net::connect(ex, target.host, target.port, std::move(options));
  out.emplace(unwrap(std::move(connected)));
}

// Connects, runs `before` (pauses the broker), then sends `n` Metadata requests at once. With
// `all_written` set, waits until all `n` are on the wire (in_flight(), not a sleep), then runs
// it. Records how each request ended and how long after the last step the last one did.
Outcome requests_in_flight(Target target, net::connection_options options, int n, const std::function<void()>& before,
                           const std::function<void()>& all_written = {}) {
  asio::io_context io;
  Outcome out;
  std::optional<net::connection> conn;
  // Stops the context once connected: the connection's own loops keep it busy otherwise.
  asio::co_spawn(io, connect_into(target, std::move(options), conn), [&io](std::exception_ptr e) {
    io.stop();
    if (e) std::rethrow_exception(e);
  });
  io.run_for(15s);
  if (!conn) throw std::runtime_error("no connection");
  io.restart();
  before();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto task = [](net::connection& c) -> asio::awaitable<net::failure> {
      const msg::MetadataRequest request{};
      const auto md = co_await c.send(request);
      co_return md ? net::failure() : md.error();
    };
    asio::co_spawn(io, task(*conn), [&, n](std::exception_ptr e, net::failure f) {
      if (e) f = net::failure(std::make_error_code(std::errc::state_not_recoverable), "the request threw");
      out.failures.push_back(std::move(f));
      if (static_cast<int>(out.failures.size()) == n) {
        out.elapsed = std::chrono::steady_clock::now() - start;
        io.stop();
      }
    });
  }
  if (all_written) {
    const bool written = eventually(
        [&] {
          io.run_for(10ms);
          return conn->in_flight() == static_cast<std::size_t>(n);
        },
        10s, 0ms);
    if (!written) {
      throw std::runtime_error("only " + std::to_string(conn->in_flight()) + " of " + std::to_string(n) +
                               " requests went out");
    }
    if (!out.failures.empty()) throw std::runtime_error("a request ended before the broker was killed");
    all_written();
    start = std::chrono::steady_clock::now();
    io.restart();
  }
  io.run_for(60s);
  io.restart();
  conn.reset();
  io.run_for(1s);
  return out;
}

TEST(ConnectionFault, PausedBrokerTimesOutAtTheRequestTimeout) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  const auto out = requests_in_flight(split(node.listener("PLAINTEXT")), {.request_timeout = 1500ms}, 20,
                                      [&] { node.pause(); });
  node.resume();
  ASSERT_EQ(out.failures.size(), 20u);
  for (const auto& f : out.failures) EXPECT_EQ(f.code, client_errc::timeout) << f.message;
  EXPECT_GE(out.elapsed, 1500ms);
  EXPECT_LT(out.elapsed, 2500ms) << "the timeout fired late";
}

TEST(ConnectionFault, KilledBrokerFailsInFlightRequestsPromptlyAndANewConnectionWorksAfterRestart) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  // Paused first, so the requests stay unanswered; killed once all of them are on the wire
  // (the in-flight budget allows all 20 at once).
  constexpr int n = 20;
  net::connection_options options;
  options.request_timeout = 30s;
  options.max_in_flight_requests = n;
  const auto out = requests_in_flight(split(node.listener("PLAINTEXT")), options, n, [&] { node.pause(); },
                                      [&] { node.kill(); });
  ASSERT_EQ(out.failures.size(), static_cast<std::size_t>(n));
  for (const auto& f : out.failures) {
    EXPECT_EQ(f.code, client_errc::connection_lost) << f.message;
    EXPECT_EQ(f.sent, net::delivery::maybe_sent) << "a request on the wire when the broker died: " << f.message;
  }
  EXPECT_LT(out.elapsed, 10s) << "requests hung after the broker died";
  node.start();
  const auto target = split(node.listener("PLAINTEXT"));
  auto task = [](Target t) -> asio::awaitable<bool> {
    auto ex = co_await asio::this_coro::executor;
    net::connection_options fresh;
    auto connected = co_await net::connect(ex, t.host, t.port, fresh);
    net::connection c = unwrap(std::move(connected));
    const msg::MetadataRequest request{};
    auto sent = co_await c.send(request);
    co_await c.close();
    const auto md = unwrap(std::move(sent));
    co_return md->cluster_id.has_value();
  };
  EXPECT_TRUE(run_async(task(target), 30s));
}

}  // namespace
}  // namespace asiokafka::test
