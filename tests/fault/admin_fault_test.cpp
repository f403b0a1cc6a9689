// asiokafka::Admin while its only broker is SIGSTOPped or SIGKILLed: an operation fails with a
// typed timeout within its own bound (never hangs), and one started while the broker is down
// completes once the broker is back, within its timeout, without restarting the Admin.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/admin.hpp"
#include "asiokafka/error.hpp"
#include "support/async.hpp"
#include "support/co_assert.hpp"
#include "support/restore_node.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

AdminConfig fault_config(const Rig& rig) {
  AdminConfig c;
  c.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  c.request_timeout = 2s;
  c.connect_timeout = 1s;
  c.reconnect_backoff_max = 500ms;
  return c;
}

std::chrono::milliseconds since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t);
}

TEST(AdminFault, APausedBrokerGivesATypedTimeoutWithinTheOperationsBound) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  std::random_device rd;
  const std::string topic = "admin-paused-" + std::to_string(rd());
  auto body = [&]() -> asio::awaitable<bool> {
    const auto executor = co_await asio::this_coro::executor;
    Admin admin(executor, fault_config(rig));
    co_await admin.start();
    (void)co_await admin.describe_cluster();
    node.pause();
    // A read: retried until its 3 s are spent, then a timeout naming the operation.
    auto t0 = clock_type::now();
    auto read = co_await admin.describe_cluster({.timeout = 3s}, asio::as_tuple(asio::use_awaitable));
    const auto read_took = since(t0);
    EXPECT_EQ(std::get<0>(read), client_errc::timeout) << std::get<0>(read).message();
    EXPECT_GE(read_took, 1900ms);
    EXPECT_LT(read_took, 4500ms);
    // A topic change: resent after each request timeout (2 s), so it too ends with a timeout
    // within its own bound.
    std::vector<NewTopic> topics{NewTopic(topic, 1, 1)};
    t0 = clock_type::now();
    auto change = co_await admin.create_topics(topics, {.timeout = 5s}, asio::as_tuple(asio::use_awaitable));
    const auto change_took = since(t0);
    EXPECT_EQ(std::get<0>(change), client_errc::timeout) << std::get<0>(change).message();
    EXPECT_LT(change_took, 6500ms);
    node.resume();
    // The same Admin works again.
    const auto listed = co_await admin.list_topics({.timeout = 20s});
    (void)listed;
    // A broker paused this long was fenced by the controller (it missed its heartbeats), and
    // DescribeCluster lists only unfenced brokers: wait until it is back (bounded: 20 s).
    std::size_t brokers = 0;
    for (int attempt = 0; attempt < 100 && brokers != 1; ++attempt) {
      brokers = (co_await admin.describe_cluster({.timeout = 20s})).brokers.size();
      if (brokers != 1) {
        asio::steady_timer pace(executor, 200ms);
        co_await pace.async_wait(asio::use_awaitable);
      }
    }
    EXPECT_EQ(brokers, 1u);
    std::vector<std::string> names{topic};
    (void)co_await admin.delete_topics(names, {.timeout = 20s});
    co_await admin.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 90s));
}

// Cancelling an operation (its handler's cancellation slot) ends it at once with
// operation_aborted, while it waits for a paused broker or between its retries.
TEST(AdminFault, ACancelledOperationEndsAtOnceWithOperationAborted) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  auto body = [&]() -> asio::awaitable<bool> {
    const auto executor = co_await asio::this_coro::executor;
    Admin admin(executor, fault_config(rig));
    co_await admin.start();
    (void)co_await admin.describe_cluster();
    node.pause();
    for (int round = 0; round < 2; ++round) {
      // Round 0 cancels while the request waits for the paused broker; round 1, after the
      // request timeout (2 s), while the read waits to be retried.
      asio::cancellation_signal cancel;
      std::optional<error_code> ended;
      const auto t0 = clock_type::now();
      admin.describe_cluster({.timeout = 30s},
                             asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, ClusterDescription) {
                               ended = ec;
                             }));
      asio::steady_timer wait(executor, round == 0 ? 300ms : 2300ms);
      co_await wait.async_wait(asio::use_awaitable);
      EXPECT_FALSE(ended.has_value());
      cancel.emit(asio::cancellation_type::terminal);
      for (int i = 0; i < 100 && !ended; ++i) {  // bounded: 1 s
        asio::steady_timer tick(executor, 10ms);
        co_await tick.async_wait(asio::use_awaitable);
      }
      CO_ASSERT(ended.has_value());
      EXPECT_EQ(*ended, asio::error::operation_aborted) << ended->message();
      EXPECT_LT(since(t0), 4s);
    }
    node.resume();
    const auto after = co_await admin.describe_cluster({.timeout = 20s});  // answers again
    (void)after;
    co_await admin.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(AdminFault, AnOperationStartedWhileTheBrokerIsDownCompletesOnceItIsBack) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  std::thread restarter;
  struct Restore {
    const RigNode& n;
    std::thread& t;
    ~Restore() {
      if (t.joinable()) t.join();
      try {
        n.start();  // no-op when it runs
      } catch (...) {
      }
    }
  } restore{node, restarter};
  std::chrono::milliseconds took{};
  auto body = [&]() -> asio::awaitable<bool> {
    const auto executor = co_await asio::this_coro::executor;
    Admin admin(executor, fault_config(rig));
    co_await admin.start();
    (void)co_await admin.describe_cluster();
    node.kill();
    const auto killed_at = clock_type::now();
    restarter = std::thread([&node] { node.start(); });
    // Started at once, while the broker is down: reads are retried until it answers.
    auto r = co_await admin.describe_cluster({.timeout = 60s}, asio::as_tuple(asio::use_awaitable));
    took = since(killed_at);
    CO_ASSERT(!std::get<0>(r));
    EXPECT_EQ(std::get<1>(r).brokers.size(), 1u);
    co_await admin.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 120s)) << "after " << took.count() << " ms";
  EXPECT_LT(took, 60s);
}

}  // namespace
}  // namespace asiokafka::test
