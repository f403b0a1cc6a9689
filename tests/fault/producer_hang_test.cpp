// asiokafka::Producer never hangs (issue 9, "No hang"): start, send, send_and_wait, flush,
// stop and partitions_for return within their documented bounds, with a typed error, when the
// broker is SIGSTOPped before start, killed after start, or never came up. Complements
// producer_fault_test.cpp (a paused broker: send_and_wait at delivery_timeout, memory within
// buffer_memory and send after max_block, start with nothing listening). Serial: the tests
// take the broker away from everyone else.
#include "asiokafka/producer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"
#include "support/async.hpp"
#include "support/restore_node.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

ProducerConfig small_timeouts(const Rig& rig) {
  ProducerConfig c;
  c.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  c.linger = 0ms;
  c.connect_timeout = 1500ms;
  c.request_timeout = 1500ms;
  c.delivery_timeout = 3000ms;
  c.max_block = 2000ms;
  c.retry_backoff = 50ms;
  c.reconnect_backoff = 50ms;
  c.reconnect_backoff_max = 300ms;
  return c;
}

// The warm-up send of a test must not meet a topic auto-creation: max_block is 2 s here, and a
// broker just back from the previous test's fault may take longer to create a topic.
void precreate(const Rig& rig, const std::string& topic) {
  const std::string r = create_topic_rdk(rig.bootstrap("PLAINTEXT"), topic, 1, 1);
  ASSERT_TRUE(r.empty() || r.find("already exists") != std::string::npos) << r;
}

struct Failure {
  error_code ec;
  std::string message;
  steady::duration took{};
};

// Runs `op` (an awaitable<void>), catching asiokafka::error, and times it.
template <class Op>
asio::awaitable<Failure> timed(Op op) {
  Failure f;
  const auto start = steady::now();
  try {
    co_await std::move(op);
  } catch (const asiokafka::error& e) {
    f.ec = e.code();
    f.message = e.what();
  }
  f.took = steady::now() - start;
  co_return f;
}

asio::awaitable<void> wait_handle(DeliveryHandle h) { (void)co_await h.async_wait(); }

TEST(ProducerHang, StartAgainstAPausedBrokerFailsWithinTheConnectTimeout) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  node.pause();  // the kernel still accepts TCP connections; nothing answers ApiVersions
  struct Seen {
    Failure start;
    error_code send_ec;
    steady::duration stop_took{};
  };
  auto body = [](ProducerConfig cfg) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    seen.start = co_await timed(producer.start());
    const auto r = co_await producer.send("producer-hang", "v", {}, asio::as_tuple(asio::use_awaitable));
    seen.send_ec = std::get<0>(r);
    const auto stop_start = steady::now();
    co_await producer.stop();
    seen.stop_took = steady::now() - stop_start;
    co_return seen;
  };
  const Seen seen = run_async(body(small_timeouts(rig)), 60s);
  node.resume();
  EXPECT_EQ(seen.start.ec, client_errc::connection_failed) << seen.start.ec.message() << " " << seen.start.message;
  EXPECT_GE(seen.start.took, 1200ms) << "failed before the connect timeout: " << seen.start.message;
  // connect_timeout per bootstrap address (one here), plus slack for a loaded machine.
  EXPECT_LT(seen.start.took, 4500ms) << "start() overran connect_timeout";
  EXPECT_EQ(seen.send_ec, client_errc::client_closed);
  EXPECT_LT(seen.stop_took, 1s);
}

TEST(ProducerHang, KilledBrokerFailsSendsAtTheDeliveryTimeoutAndFlushAndStopReturn) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  precreate(rig, "producer-hang-killed");
  RestoreNode restore{node};
  struct Seen {
    Failure send_and_wait, handle, flush;
    bool handle_done_after_flush = false;
    steady::duration stop_took{};
  };
  auto body = [](ProducerConfig cfg, const RigNode& n) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    (void)co_await producer.send_and_wait("producer-hang-killed", "before");  // metadata and connection up
    n.kill();  // connections reset, reconnects refused
    seen.send_and_wait = co_await timed(producer.send_and_wait("producer-hang-killed", "while down"));
    auto h = co_await producer.send("producer-hang-killed", "flushed while down");
    seen.flush = co_await timed(producer.flush());
    seen.handle_done_after_flush = h.done();
    seen.handle = co_await timed(wait_handle(h));
    const auto stop_start = steady::now();
    co_await producer.stop();
    seen.stop_took = steady::now() - stop_start;
    co_return seen;
  };
  const Seen seen = run_async(body(small_timeouts(rig), node), 60s);
  EXPECT_EQ(seen.send_and_wait.ec, client_errc::timeout) << seen.send_and_wait.message;
  EXPECT_GE(seen.send_and_wait.took, 2500ms) << "failed before delivery_timeout: " << seen.send_and_wait.message;
  EXPECT_LT(seen.send_and_wait.took, 6s) << "delivery_timeout overrun";
  // flush: every batch ends by delivery_timeout; flush returns then, without an error itself.
  EXPECT_FALSE(seen.flush.ec) << seen.flush.message;
  EXPECT_LT(seen.flush.took, 6s) << "flush() overran delivery_timeout + request_timeout";
  EXPECT_TRUE(seen.handle_done_after_flush) << "flush() returned with a record still pending";
  EXPECT_EQ(seen.handle.ec, client_errc::timeout) << seen.handle.message;
  EXPECT_LT(seen.stop_took, 3s) << "stop() hung on the dead broker";
}

TEST(ProducerHang, PausedBrokerFlushFailsEveryPendingRecordWithinItsBound) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  precreate(rig, "producer-hang-paused");
  RestoreNode restore{node};
  struct Seen {
    Failure flush;
    std::vector<error_code> handles;
    steady::duration stop_took{};
  };
  auto body = [](ProducerConfig cfg, const RigNode& n) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    (void)co_await producer.send_and_wait("producer-hang-paused", "before");
    n.pause();
    std::vector<DeliveryHandle> handles;
    const std::string value(2000, 'p');
    for (int i = 0; i < 40; ++i) handles.push_back(co_await producer.send("producer-hang-paused", value));
    seen.flush = co_await timed(producer.flush());
    for (auto& h : handles) {
      EXPECT_TRUE(h.done()) << "flush() returned with a record still pending";
      const auto r = co_await h.async_wait(asio::as_tuple(asio::use_awaitable));
      seen.handles.push_back(std::get<0>(r));
    }
    const auto stop_start = steady::now();
    co_await producer.stop();
    seen.stop_took = steady::now() - stop_start;
    co_return seen;
  };
  const Seen seen = run_async(body(small_timeouts(rig), node), 60s);
  node.resume();
  EXPECT_FALSE(seen.flush.ec) << seen.flush.message;
  EXPECT_GE(seen.flush.took, 2500ms) << "flush() returned before the records could expire";
  EXPECT_LT(seen.flush.took, 6s) << "flush() overran delivery_timeout + request_timeout";
  ASSERT_EQ(seen.handles.size(), 40u);
  for (const auto& ec : seen.handles) EXPECT_EQ(ec, client_errc::timeout) << ec.message();
  EXPECT_LT(seen.stop_took, 3s);
}

TEST(ProducerHang, PausedBrokerStopWithPendingRecordsReturnsWithinItsBound) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  precreate(rig, "producer-hang-stop");
  RestoreNode restore{node};
  struct Seen {
    Failure stop;
    std::vector<error_code> handles;
  };
  auto body = [](ProducerConfig cfg, const RigNode& n) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    (void)co_await producer.send_and_wait("producer-hang-stop", "before");
    n.pause();
    std::vector<DeliveryHandle> handles;
    for (int i = 0; i < 10; ++i) handles.push_back(co_await producer.send("producer-hang-stop", "pending"));
    seen.stop = co_await timed(producer.stop());
    for (auto& h : handles) {
      const auto r = co_await h.async_wait(asio::as_tuple(asio::use_awaitable));
      seen.handles.push_back(std::get<0>(r));
    }
    co_return seen;
  };
  const Seen seen = run_async(body(small_timeouts(rig), node), 60s);
  node.resume();
  EXPECT_FALSE(seen.stop.ec) << seen.stop.message;
  // stop() = flush (delivery_timeout + request_timeout at most) + joining requests
  // (request_timeout) + closing.
  EXPECT_LT(seen.stop.took, 8s) << "stop() overran its bound";
  ASSERT_EQ(seen.handles.size(), 10u);
  for (const auto& ec : seen.handles) {
    EXPECT_TRUE(ec == client_errc::timeout || ec == client_errc::client_closed) << ec.message();
  }
}

TEST(ProducerHang, PausedBrokerSendToAnUnknownTopicFailsAfterMaxBlockNamingTheTopic) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  struct Seen {
    Failure send, send_and_wait, partitions;
  };
  // Created first: max_block (2 s here) bounds the waits below, not an auto-creation by a
  // broker still busy after the last fault.
  const std::string known = unique_topic("producer-hang-known");
  create_topic(rig.bootstrap("PLAINTEXT"), known, 1);
  auto body = [](ProducerConfig cfg, const RigNode& n, std::string k) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    (void)co_await producer.send_and_wait(k, "before");
    n.pause();
    // Topics the producer has never seen: their metadata cannot arrive.
    auto send = [&]() -> asio::awaitable<void> { (void)co_await producer.send("producer-hang-new-1", "v"); };
    seen.send = co_await timed(send());
    seen.send_and_wait = co_await timed(producer.send_and_wait("producer-hang-new-2", "v"));
    auto parts = [&]() -> asio::awaitable<void> { (void)co_await producer.partitions_for("producer-hang-new-3"); };
    seen.partitions = co_await timed(parts());
    co_await producer.stop();
    co_return seen;
  };
  const Seen seen = run_async(body(small_timeouts(rig), node, known), 60s);
  node.resume();
  const std::vector<std::pair<const Failure*, std::string>> cases{
      {&seen.send, "producer-hang-new-1"}, {&seen.send_and_wait, "producer-hang-new-2"},
      {&seen.partitions, "producer-hang-new-3"}};
  for (const auto& [f, name] : cases) {
    EXPECT_EQ(f->ec, client_errc::timeout) << name << ": " << f->ec.message() << " " << f->message;
    EXPECT_NE(f->message.find(name), std::string::npos) << "the topic is not named: " << f->message;
    EXPECT_GE(f->took, 1800ms) << name << " failed before max_block";
    EXPECT_LT(f->took, 4500ms) << name << " overran max_block";
  }
}

TEST(ProducerHang, EveryCallReturnsAtOnceWhenTheBrokerNeverCameUp) {
  // No rig needed: nothing listens on port 1. After start() failed, the producer is closed.
  ProducerConfig config;
  config.bootstrap_servers = "127.0.0.1:1";
  config.connect_timeout = 1000ms;
  struct Seen {
    Failure start, send, send_and_wait, flush, stop;
  };
  auto body = [](ProducerConfig cfg) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    seen.start = co_await timed(producer.start());
    auto send = [&]() -> asio::awaitable<void> { (void)co_await producer.send("t", "v"); };
    seen.send = co_await timed(send());
    seen.send_and_wait = co_await timed(producer.send_and_wait("t", "v"));
    seen.flush = co_await timed(producer.flush());
    seen.stop = co_await timed(producer.stop());
    co_return seen;
  };
  const Seen seen = run_async(body(config), 30s);
  EXPECT_EQ(seen.start.ec, client_errc::connection_failed) << seen.start.message;
  EXPECT_LT(seen.start.took, 5s);
  EXPECT_EQ(seen.send.ec, client_errc::client_closed) << seen.send.message;
  EXPECT_EQ(seen.send_and_wait.ec, client_errc::client_closed) << seen.send_and_wait.message;
  EXPECT_FALSE(seen.flush.ec) << seen.flush.message;
  EXPECT_FALSE(seen.stop.ec) << seen.stop.message;
  for (const Failure* f : {&seen.send, &seen.send_and_wait, &seen.flush, &seen.stop}) EXPECT_LT(f->took, 500ms);
}

}  // namespace
}  // namespace asiokafka::test
