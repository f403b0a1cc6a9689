// asiokafka::Consumer never hangs and loses nothing when its broker goes away (issue 10, "No
// hang"; aiokafka #1154, #1037): getmany(timeout) returns at its timeout, getone and next()
// end when cancelled or stopped, commit fails at request_timeout, stop() returns within its
// bound, whether the broker is SIGSTOPped or SIGKILLed; once the broker is back, consumption
// continues from the right position without loss or duplicates. Serial: the tests take the
// broker away from everyone else.
#include "asiokafka/consumer.hpp"
#include "asiokafka/producer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"
#include "support/async.hpp"
#include "support/numbered_records.hpp"
#include "support/restore_node.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using steady = std::chrono::steady_clock;

ConsumerConfig small_timeouts(const Rig& rig) {
  ConsumerConfig c;
  c.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  c.auto_offset_reset = AutoOffsetReset::earliest;
  c.enable_auto_commit = false;
  c.connect_timeout = 1500ms;
  c.request_timeout = 1500ms;
  c.fetch_max_wait = 200ms;
  c.retry_backoff = 50ms;
  c.reconnect_backoff = 50ms;
  c.reconnect_backoff_max = 300ms;
  return c;
}

// Appends what getmany returns for partition 0 to `seen` until it holds `until` records or
// `limit` passes.
asio::awaitable<void> read_until(Consumer& c, std::vector<std::int64_t>& offsets, std::vector<std::string>& values,
                                 std::size_t until, std::chrono::seconds limit) {
  const auto deadline = steady::now() + limit;
  while (offsets.size() < until && steady::now() < deadline) {
    const RecordBatches b = co_await c.getmany({.timeout = 500ms, .max_records = until - offsets.size()});
    for (const auto& entry : b) {
      for (const auto& r : entry.second) {
        offsets.push_back(r.offset);
        values.push_back(std::string(r.value->as_string()));
      }
    }
  }
}

void expect_contiguous(const std::vector<std::int64_t>& offsets, const std::vector<std::string>& values,
                       std::size_t count) {
  ASSERT_EQ(offsets.size(), count);
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    ASSERT_EQ(offsets[i], static_cast<std::int64_t>(i)) << "lost or duplicated around offset " << i;
    ASSERT_EQ(values[i], std::to_string(i));
  }
}

TEST(ConsumerHang, PausedBrokerEveryCallReturnsWithinItsBoundAndConsumptionResumes) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-paused");
  const std::string group = unique_topic("group");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
  ASSERT_TRUE(produce_numbered(rig.bootstrap("PLAINTEXT"), topic, 0, 1000));
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  struct Seen {
    steady::duration getmany_took{};
    std::size_t getmany_count = 99;
    error_code getmany_ec;
    steady::duration getone_cancel_took{};
    bool timer_won = false;
    error_code commit_ec;
    steady::duration commit_took{};
    std::vector<std::int64_t> offsets;
    std::vector<std::string> values;
    steady::duration stop_took{};
  };
  auto body = [](ConsumerConfig cfg, std::string t, const RigNode& n) -> asio::awaitable<Seen> {
    Seen seen;
    const auto ex = co_await asio::this_coro::executor;
    Consumer consumer(ex, std::move(cfg));
    consumer.assign(std::vector<TopicPartition>{TopicPartition(t, 0)});
    co_await consumer.start();
    co_await read_until(consumer, seen.offsets, seen.values, 400, 30s);
    n.pause();  // sockets stay open; nothing answers
    // Drain what is buffered, then a getmany with nothing to return ends at its timeout.
    for (int i = 0; i < 20 && seen.getmany_count != 0; ++i) {
      const auto start = steady::now();
      auto r = co_await consumer.getmany({.timeout = 1s}, asio::as_tuple(asio::use_awaitable));
      seen.getmany_took = steady::now() - start;
      seen.getmany_ec = std::get<0>(r);
      seen.getmany_count = 0;
      for (const auto& entry : std::get<1>(r)) {
        for (const auto& rec : entry.second) {
          seen.offsets.push_back(rec.offset);
          seen.values.push_back(std::string(rec.value->as_string()));
          ++seen.getmany_count;
        }
      }
    }
    // getone waits as long as it takes: cancelling it (here by a timer winning) ends it.
    {
      const auto start = steady::now();
      asio::steady_timer timer(ex, 500ms);
      auto winner = co_await (consumer.getone() || timer.async_wait(asio::use_awaitable));
      seen.timer_won = winner.index() == 1;
      seen.getone_cancel_took = steady::now() - start;
    }
    // A commit fails at request_timeout.
    {
      const auto start = steady::now();
      std::map<TopicPartition, OffsetAndMetadata> offsets;
      offsets[TopicPartition(t, 0)] = OffsetAndMetadata(1);
      auto r = co_await consumer.commit(offsets, asio::as_tuple(asio::use_awaitable));
      seen.commit_ec = std::get<0>(r);
      seen.commit_took = steady::now() - start;
    }
    n.resume();
    co_await read_until(consumer, seen.offsets, seen.values, 1000, 30s);
    const auto stop_start = steady::now();
    co_await consumer.stop();
    seen.stop_took = steady::now() - stop_start;
    co_return seen;
  };
  ConsumerConfig cfg = small_timeouts(rig);
  cfg.group_id = group;
  const Seen seen = run_async(body(std::move(cfg), topic, node), 120s);
  EXPECT_FALSE(seen.getmany_ec) << seen.getmany_ec.message();
  EXPECT_EQ(seen.getmany_count, 0u);
  EXPECT_GE(seen.getmany_took, 900ms);
  EXPECT_LT(seen.getmany_took, 2500ms) << "getmany overran its timeout";
  EXPECT_TRUE(seen.timer_won);
  EXPECT_LT(seen.getone_cancel_took, 1500ms) << "a cancelled getone did not end";
  EXPECT_TRUE(seen.commit_ec) << "a commit to a paused broker succeeded";
  EXPECT_LT(seen.commit_took, 4s) << "commit overran request_timeout";
  EXPECT_LT(seen.stop_took, 4s);
  expect_contiguous(seen.offsets, seen.values, 1000);
}

TEST(ConsumerHang, KilledAndRestartedBrokerConsumptionContinuesWithoutLossOrDuplicates) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-killed");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
  ASSERT_TRUE(produce_numbered(rig.bootstrap("PLAINTEXT"), topic, 0, 1500));
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  struct Seen {
    steady::duration getmany_took{};
    error_code getmany_ec;
    std::vector<std::int64_t> offsets;
    std::vector<std::string> values;
    bool restarted = false;
  };
  auto body = [](ConsumerConfig cfg, std::string t, const RigNode& n) -> asio::awaitable<Seen> {
    Seen seen;
    const auto ex = co_await asio::this_coro::executor;
    Consumer consumer(ex, std::move(cfg));
    consumer.assign(std::vector<TopicPartition>{TopicPartition(t, 0)});
    co_await consumer.start();
    co_await read_until(consumer, seen.offsets, seen.values, 700, 30s);
    n.kill();
    // With the broker gone, getmany still ends at its timeout (after the buffered records).
    for (int i = 0; i < 20; ++i) {
      const auto start = steady::now();
      auto res = co_await consumer.getmany({.timeout = 1s}, asio::as_tuple(asio::use_awaitable));
      seen.getmany_took = steady::now() - start;
      seen.getmany_ec = std::get<0>(res);
      std::size_t got = 0;
      for (const auto& entry : std::get<1>(res)) {
        for (const auto& rec : entry.second) {
          seen.offsets.push_back(rec.offset);
          seen.values.push_back(std::string(rec.value->as_string()));
          ++got;
        }
      }
      if (got == 0) break;
    }
    n.start();  // returns once the broker answers again
    seen.restarted = true;
    co_await read_until(consumer, seen.offsets, seen.values, 1500, 60s);
    co_await consumer.stop();
    co_return seen;
  };
  const Seen seen = run_async(body(small_timeouts(rig), topic, node), 180s);
  EXPECT_TRUE(seen.restarted);
  EXPECT_FALSE(seen.getmany_ec) << seen.getmany_ec.message();
  EXPECT_LT(seen.getmany_took, 2500ms) << "getmany overran its timeout with the broker down";
  expect_contiguous(seen.offsets, seen.values, 1500);
  // Records written after the restart come too, in order after the others.
  ASSERT_TRUE(produce_numbered(rig.bootstrap("PLAINTEXT"), topic, 1500, 300));
  auto more = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<std::vector<std::int64_t>> {
    const auto ex = co_await asio::this_coro::executor;
    Consumer consumer(ex, std::move(cfg));
    consumer.assign(std::vector<TopicPartition>{TopicPartition(t, 0)});
    co_await consumer.start();
    consumer.seek(TopicPartition(t, 0), 1400);
    std::vector<std::int64_t> offsets;
    std::vector<std::string> values;
    co_await read_until(consumer, offsets, values, 400, 30s);
    co_await consumer.stop();
    co_return offsets;
  };
  const auto tail = run_async(more(small_timeouts(rig), topic), 60s);
  ASSERT_EQ(tail.size(), 400u);
  for (std::size_t i = 0; i < tail.size(); ++i) EXPECT_EQ(tail[i], static_cast<std::int64_t>(1400 + i));
}

TEST(ConsumerHang, StopReturnsWhileTheBrokerIsDownAndEndsTheAsyncLoop) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-stop-down");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
  ASSERT_TRUE(produce_numbered(rig.bootstrap("PLAINTEXT"), topic, 0, 10));
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  struct Seen {
    std::size_t looped = 0;
    bool loop_ended = false;
    steady::duration stop_took{};
    error_code stop_ec;
  };
  auto body = [](ConsumerConfig cfg, std::string t, const RigNode& n) -> asio::awaitable<Seen> {
    Seen seen;
    const auto ex = co_await asio::this_coro::executor;
    cfg.enable_auto_commit = true;  // stop() commits: against a dead broker it must still end
    Consumer consumer(ex, std::move(cfg));
    consumer.assign(std::vector<TopicPartition>{TopicPartition(t, 0)});
    co_await consumer.start();
    for (int i = 0; i < 10; ++i) {
      (void)co_await consumer.next();
      ++seen.looped;
    }
    n.pause();
    // The loop waits for an 11th record that cannot come; stop() must end it.
    asio::steady_timer ended(ex, 20s);
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          while (auto rec = co_await consumer.next()) ++seen.looped;
          seen.loop_ended = true;
          ended.cancel();
        },
        asio::detached);
    const auto start = steady::now();
    auto r = co_await consumer.stop(asio::as_tuple(asio::use_awaitable));
    seen.stop_ec = std::get<0>(r);
    seen.stop_took = steady::now() - start;
    if (!seen.loop_ended) (void)co_await ended.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return seen;
  };
  ConsumerConfig cfg = small_timeouts(rig);
  cfg.group_id = unique_topic("group");
  const Seen seen = run_async(body(std::move(cfg), topic, node), 60s);
  EXPECT_EQ(seen.looped, 10u);
  EXPECT_TRUE(seen.loop_ended) << "the async loop did not end on stop()";
  // The commit on stop fails at request_timeout, the tasks end at once after it.
  EXPECT_TRUE(seen.stop_ec) << "the commit on stop to a paused broker succeeded";
  EXPECT_LT(seen.stop_took, 5s) << "stop() hung on the paused broker";
}

}  // namespace
}  // namespace asiokafka::test
