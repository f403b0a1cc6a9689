// net::Connection when the single-node broker stops answering (SIGSTOP) or dies (SIGKILL)
// with requests in flight. Serial: these tests take the broker away from everyone else.
// (No class-type temporaries inside co_await: GCC 12 destroys them twice.)
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include "asiokafka/probe.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using net::Connection;
using net::ConnectionOptions;

// Brings the node back whatever the test did to it, so one failure does not cascade.
struct RestoreNode {
  const RigNode& node;
  ~RestoreNode() {
    try {
      node.resume();
      run_async(probe_broker(node.listener("PLAINTEXT"), {.timeout = 2s}), 7s);
    } catch (...) {
      try { node.start(); } catch (...) {}
    }
  }
};

using Target = HostPort;

Target split(const std::string& address) { return split_host_port(address); }

struct Outcome {
  std::vector<std::error_code> errors;  // one per request
  std::chrono::steady_clock::duration elapsed{};
};

// Connects, runs `before` (pause or kill the broker), then sends `n` Metadata requests at
// once and records how each ended and when the last one did.
template <class Before>
Outcome requests_in_flight(Target target, ConnectionOptions options, int n, Before before) {
  asio::io_context io;
  Outcome out;
  std::optional<Connection> conn;
  asio::co_spawn(io, net::connect(io.get_executor(), target.host, target.port, std::move(options)),
                 [&](std::exception_ptr e, Connection c) {
                   if (e) std::rethrow_exception(e);
                   conn.emplace(std::move(c));
                 });
  io.run_for(15s);
  if (!conn) throw std::runtime_error("no connection");
  io.restart();
  before();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto task = [](Connection& c) -> asio::awaitable<void> {
      const msg::MetadataRequest request{};
      (void)co_await c.send(request);
    };
    asio::co_spawn(io, task(*conn), [&](std::exception_ptr e) {
      std::error_code ec;
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::system_error& x) {
          ec = x.code();
        } catch (...) {
          ec = std::make_error_code(std::errc::invalid_argument);
        }
      }
      out.errors.push_back(ec);
      if (static_cast<int>(out.errors.size()) == n) out.elapsed = std::chrono::steady_clock::now() - start;
    });
  }
  io.run_for(60s);
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
  ASSERT_EQ(out.errors.size(), 20u);
  for (const auto& ec : out.errors) EXPECT_EQ(ec, client_errc::timeout) << ec.message();
  EXPECT_GE(out.elapsed, 1500ms);
  EXPECT_LT(out.elapsed, 2500ms) << "the timeout fired late";
}

TEST(ConnectionFault, KilledBrokerFailsInFlightRequestsPromptlyAndANewConnectionWorksAfterRestart) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  // Paused first, so the requests are surely written and unanswered when the broker dies.
  std::thread killer;
  const auto out = requests_in_flight(split(node.listener("PLAINTEXT")), {.request_timeout = 30s}, 20, [&] {
    node.pause();
    killer = std::thread([node] {
      std::this_thread::sleep_for(300ms);
      node.kill();
    });
  });
  killer.join();
  ASSERT_EQ(out.errors.size(), 20u);
  for (const auto& ec : out.errors) EXPECT_EQ(ec, client_errc::connection_lost) << ec.message();
  EXPECT_LT(out.elapsed, 10s) << "requests hung after the broker died";
  node.start();
  const auto target = split(node.listener("PLAINTEXT"));
  auto task = [](Target t) -> asio::awaitable<bool> {
    auto ex = co_await asio::this_coro::executor;
    ConnectionOptions options;
    Connection c = co_await net::connect(ex, t.host, t.port, options);
    const msg::MetadataRequest request{};
    const auto md = co_await c.send(request);
    co_await c.close();
    co_return md->cluster_id.has_value();
  };
  EXPECT_TRUE(run_async(task(target), 30s));
}

}  // namespace
}  // namespace asiokafka::test
