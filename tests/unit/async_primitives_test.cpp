// The async primitives every Asio shell shares (src/net/notifier.hpp): notifier, task_group,
// event_source, sleep_until. No network; each test runs on a private io_context, bounded.
#include "net/notifier.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/async.hpp"

namespace asiokafka::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::run_async;

TEST(Notifier, WakesEveryWaiterPresentAndTimesOutTheRest) {
  auto body = []() -> asio::awaitable<std::vector<wait_status>> {
    const auto ex = co_await asio::this_coro::executor;
    notifier n;
    std::vector<wait_status> seen;
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(ex, n.wait_until(clock::now() + 5s), [&](std::exception_ptr, wait_status s) { seen.push_back(s); });
    }
    asio::steady_timer t(ex, 20ms);
    co_await t.async_wait(asio::use_awaitable);
    EXPECT_EQ(n.waiting(), 3u);
    n.notify_all();
    const auto start = clock::now();
    const wait_status late = co_await n.wait_until(clock::now() + 50ms);  // came after the notification
    EXPECT_GE(clock::now() - start, 45ms);
    seen.push_back(late);
    co_return seen;
  };
  EXPECT_EQ(run_async(body(), 10s), (std::vector<wait_status>{wait_status::notified, wait_status::notified,
                                                              wait_status::notified, wait_status::timed_out}));
}

TEST(Notifier, CancellationEndsTheWaitWithoutAnException) {
  asio::io_context io;
  notifier n;
  asio::cancellation_signal cancel;
  std::optional<wait_status> result;
  asio::co_spawn(io, n.wait_until(clock::now() + 10s),
                 asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, wait_status s) {
                   EXPECT_FALSE(e);
                   result = s;
                 }));
  io.run_for(20ms);
  cancel.emit(asio::cancellation_type::terminal);
  io.run_for(1s);
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, wait_status::cancelled);
  EXPECT_EQ(n.waiting(), 0u);
}

TEST(SleepUntil, SleepsAndReportsCancellation) {
  asio::io_context io;
  bool slept = false;
  const auto start = clock::now();
  asio::co_spawn(io, sleep_until(clock::now() + 30ms), [&](std::exception_ptr, bool ok) { slept = ok; });
  io.run_for(2s);
  EXPECT_TRUE(slept);
  EXPECT_GE(clock::now() - start, 30ms);
  asio::cancellation_signal cancel;
  std::optional<bool> cancelled;
  asio::co_spawn(io, sleep_until(clock::now() + 10s),
                 asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr, bool ok) { cancelled = ok; }));
  io.restart();
  io.run_for(10ms);
  cancel.emit(asio::cancellation_type::terminal);
  io.run_for(1s);
  ASSERT_TRUE(cancelled);
  EXPECT_FALSE(*cancelled);
}

TEST(TaskGroup, CancelAllEndsEveryTaskAndJoinWaitsForThem) {
  auto body = []() -> asio::awaitable<int> {
    const auto ex = co_await asio::this_coro::executor;
    task_group group(ex);
    int ended = 0;
    auto task = [&ended]() -> asio::awaitable<void> {
      (void)co_await sleep_until(clock::now() + 10s);
      ++ended;
    };
    for (int i = 0; i < 4; ++i) group.spawn(task());
    EXPECT_EQ(group.running(), 4u);
    group.cancel_all();
    const auto start = clock::now();
    EXPECT_EQ(co_await group.join(clock::now() + 5s), wait_status::notified);
    EXPECT_LT(clock::now() - start, 1s);
    EXPECT_EQ(group.running(), 0u);
    co_return ended;
  };
  EXPECT_EQ(run_async(body(), 10s), 4);
}

TEST(TaskGroup, JoinIsBoundedByItsDeadlineAndOwnersLiveUntilTheTaskEnds) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    auto owner = std::make_shared<int>(7);
    std::weak_ptr<int> watch = owner;
    task_group group(ex);
    group.spawn(
        []() -> asio::awaitable<void> { (void)co_await sleep_until(clock::now() + 200ms); }(), std::move(owner));
    EXPECT_FALSE(watch.expired()) << "the task's owner must live while it runs";
    EXPECT_EQ(co_await group.join(clock::now() + 20ms), wait_status::timed_out);
    EXPECT_EQ(co_await group.join(clock::now() + 5s), wait_status::notified);
    // The owner goes with the task's completion (posted): bounded wait for it.
    for (int i = 0; i < 100 && !watch.expired(); ++i) (void)co_await sleep_until(clock::now() + 5ms);
    co_return watch.expired();
  };
  EXPECT_TRUE(run_async(body(), 10s));
}

asio::awaitable<void> end_now() { co_return; }

asio::awaitable<void> sleep_long(bool& cancelled) { cancelled = !co_await sleep_until(clock::now() + 30s); }

// Stops the context in the turn after `watch` (a task's owner) is released, i.e. once that
// task has ended and the group's bookkeeping for it is queued but has not run. One resumption
// of this loop is always queued, ahead of that bookkeeping.
asio::awaitable<void> stop_once_released(asio::io_context& io, std::weak_ptr<int> watch) {
  for (int i = 0; i < 1000 && !watch.expired(); ++i) co_await asio::post(io.get_executor(), asio::use_awaitable);
  io.stop();
}

// A group destroyed outside io_context::run (as a test or an application does after run
// returns) while one task has ended but its bookkeeping is still queued and another task
// waits: the waiting one is cancelled once the context runs again, and nothing reaches the
// ended one (Boost 1.81's co_spawn re-posts an emission with a pointer into state that the
// queued bookkeeping frees: a use after free under ASan before cancel_all ran on the
// group's executor).
TEST(TaskGroup, DestroyedOutsideTheRunningContextAfterATaskEnded) {
  asio::io_context io;
  bool cancelled = false;
  auto group = std::make_unique<task_group>(io.get_executor());
  group->spawn(sleep_long(cancelled));
  auto owner = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = owner;
  group->spawn(end_now(), std::move(owner));
  asio::co_spawn(io, stop_once_released(io, watch), asio::detached);
  io.run_for(10s);
  ASSERT_TRUE(watch.expired());
  EXPECT_EQ(group->running(), 2u) << "the ended task's bookkeeping should still be queued";
  group.reset();
  io.restart();
  const auto start = clock::now();
  io.run_for(10s);
  EXPECT_TRUE(cancelled);
  EXPECT_LT(clock::now() - start, 5s) << "the waiting task was not cancelled";
}

TEST(EventSource, ListenersInOrderUnsubscribingInsideAndAfterTheSourceIsGone) {
  std::vector<int> calls;
  event_source<int>::subscription keep_alive_past_source;
  {
    event_source<int> source;
    auto a = source.subscribe([&](const int& v) { calls.push_back(v); });
    event_source<int>::subscription self;
    self = source.subscribe([&](const int& v) {
      calls.push_back(100 + v);
      self.reset();  // unsubscribes itself from inside the call
    });
    event_source<int>::subscription late;
    bool subscribed_late = false;
    auto c = source.subscribe([&](const int& v) {
      calls.push_back(200 + v);
      if (subscribed_late) return;
      subscribed_late = true;
      late = source.subscribe([&](const int& w) { calls.push_back(300 + w); });
    });
    source.emit(1);  // a, self, c; the one c subscribes waits for the next emit
    source.emit(2);  // a, c, late
    EXPECT_EQ(source.size(), 3u);
    keep_alive_past_source = std::move(a);
  }
  keep_alive_past_source.reset();  // the source is gone: a no-op
  EXPECT_EQ(calls, (std::vector<int>{1, 101, 201, 2, 202, 302}));
}

}  // namespace
}  // namespace asiokafka::net
