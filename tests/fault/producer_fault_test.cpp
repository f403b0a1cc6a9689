// asiokafka::Producer when the broker stops answering (SIGSTOP) or is not there: every call
// returns within its documented bound (delivery_timeout, max_block, stop) and buffered memory
// stays within buffer_memory. Serial: the tests take the broker away from everyone else.
#include "asiokafka/producer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/probe.hpp"
#include "support/async.hpp"
#include "support/net_helpers.hpp"
#include "support/restore_node.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;


struct Outcome {
  error_code send_error;
  std::string send_message;
  steady::duration send_took{};
  steady::duration stop_took{};
};

TEST(ProducerFault, PausedBrokerFailsTheRecordAtTheDeliveryTimeoutAndStopReturns) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  ProducerConfig config;
  config.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  config.linger = 0ms;
  config.request_timeout = 1000ms;
  config.delivery_timeout = 3000ms;
  auto body = [](ProducerConfig cfg, const RigNode& n) -> asio::awaitable<Outcome> {
    Outcome out;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    (void)co_await producer.send_and_wait("producer-fault-paused", "before");  // metadata and connection up
    n.pause();
    const auto start = steady::now();
    const auto r = co_await producer.send_and_wait("producer-fault-paused", "while paused", {},
                                                   asio::as_tuple(asio::use_awaitable));
    out.send_took = steady::now() - start;
    out.send_error = std::get<0>(r);
    const auto stop_start = steady::now();
    co_await producer.stop();
    out.stop_took = steady::now() - stop_start;
    co_return out;
  };
  const Outcome out = run_async(body(config, node), 60s);
  node.resume();
  EXPECT_EQ(out.send_error, client_errc::timeout);
  EXPECT_GE(out.send_took, 2500ms) << "failed before the delivery timeout";
  EXPECT_LT(out.send_took, 8s) << "the delivery timeout fired late";
  EXPECT_LT(out.stop_took, 6s) << "stop() hung on the paused broker";
}

TEST(ProducerFault, PausedBrokerBoundsMemoryAndSendFailsAfterMaxBlock) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  ProducerConfig config;
  config.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  config.max_batch_size = 16 * 1024;
  config.buffer_memory = 64 * 1024;
  config.max_block = 1000ms;
  config.request_timeout = 2000ms;
  config.delivery_timeout = 30s;
  // Created (and its metadata visible) before the producer starts: max_block bounds the wait
  // for buffer room here, not an auto-creation by a broker still busy after the last fault.
  const std::string topic = unique_topic("producer-fault-memory");
  create_topic(config.bootstrap_servers, topic, 1);
  struct Seen {
    int appended = 0;
    error_code error;
    std::string message;
    steady::duration blocked{};
  };
  auto body = [](ProducerConfig cfg, const RigNode& n, std::string t) -> asio::awaitable<Seen> {
    Seen seen;
    auto producer = std::make_unique<Producer>(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer->start();
    (void)co_await producer->send_and_wait(t, "before");
    n.pause();
    const std::string value(1000, 'm');
    // 64 KiB hold at most 4 batches of 16 KiB: the fifth batch must wait, then fail.
    for (int i = 0; i < 200; ++i) {
      const auto start = steady::now();
      const auto r = co_await producer->send(t, value, {.partition = 0},
                                             asio::as_tuple(asio::use_awaitable));
      if (std::get<0>(r)) {
        seen.error = std::get<0>(r);
        seen.blocked = steady::now() - start;
        break;
      }
      ++seen.appended;
    }
    producer.reset();  // destroyed without stop while the broker is paused
    co_return seen;
  };
  const Seen seen = run_async(body(config, node, topic), 60s);
  node.resume();
  EXPECT_EQ(seen.error, client_errc::timeout);
  EXPECT_GE(seen.blocked, 900ms);
  EXPECT_LT(seen.blocked, 5s);
  // 16 KiB batches of 1 KB records: about 15 records each, four batches, nothing more.
  EXPECT_GE(seen.appended, 40);
  EXPECT_LE(seen.appended, 64) << "more records buffered than buffer_memory holds";
}

TEST(ProducerFault, StartFailsPromptlyWhenNoBrokerListens) {
  ProducerConfig config;
  config.bootstrap_servers = "127.0.0.1:1";  // nothing listens on port 1
  config.connect_timeout = 2000ms;
  auto body = [](ProducerConfig cfg) -> asio::awaitable<std::tuple<error_code, steady::duration>> {
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    const auto start = steady::now();
    const auto r = co_await producer.start(asio::as_tuple(asio::use_awaitable));
    co_return std::tuple<error_code, steady::duration>{std::get<0>(r), steady::now() - start};
  };
  const auto started = steady::now();
  const auto out = run_async(body(config), 30s);
  EXPECT_EQ(std::get<0>(out), client_errc::connection_failed);
  EXPECT_LT(std::get<1>(out), 10s);
  // run_async returns when the io_context has no work left: nothing outlived the producer.
  EXPECT_LT(steady::now() - started, 12s) << "work outlived the producer";
}

}  // namespace
}  // namespace asiokafka::test
