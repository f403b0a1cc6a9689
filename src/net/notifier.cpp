#include "net/notifier.hpp"

#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asiokafka::net {

namespace asio = boost::asio;

asio::awaitable<bool> sleep_until(time_point t) {
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  boost::system::error_code ec;
  try {
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  } catch (const boost::system::system_error&) {
    co_return false;  // Asio throws when the coroutine was cancelled before the wait
  }
  co_return !ec;
}

struct notifier::entry {
  entry(const asio::any_io_executor& ex, time_point deadline) : timer(ex, deadline) {}
  asio::steady_timer timer;
  bool fired = false;
};

asio::awaitable<wait_status> notifier::wait_until(time_point deadline) {
  entry e(co_await asio::this_coro::executor, deadline);
  const auto it = waiters_.insert(waiters_.end(), &e);
  bool aborted = false;
  try {
    boost::system::error_code ec;
    co_await e.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  } catch (const boost::system::system_error&) {
    aborted = true;  // Asio throws when the awaiting coroutine was cancelled before the wait
  }
  waiters_.erase(it);
  if (e.fired) co_return wait_status::notified;
  const auto cs = co_await asio::this_coro::cancellation_state;
  if (aborted || cs.cancelled() != asio::cancellation_type::none) co_return wait_status::cancelled;
  co_return wait_status::timed_out;
}

void notifier::notify_all() {
  for (entry* e : waiters_) {
    e->fired = true;
    e->timer.cancel();
  }
}

struct task_group::state {
  explicit state(asio::any_io_executor ex) : executor(std::move(ex)) {}
  asio::any_io_executor executor;
  std::list<asio::cancellation_signal> signals;  // one per running task
  std::size_t running = 0;
  notifier done;
};

task_group::task_group(asio::any_io_executor executor) : state_(std::make_shared<state>(std::move(executor))) {}

task_group::~task_group() { cancel_all(); }

void task_group::spawn(asio::awaitable<void> task, std::shared_ptr<void> owner) {
  const auto it = state_->signals.emplace(state_->signals.end());
  ++state_->running;
  asio::co_spawn(state_->executor, std::move(task),
                 asio::bind_cancellation_slot(it->slot(), [s = state_, it, owner = std::move(owner)](std::exception_ptr) {
                   // A signal may not be destroyed from inside its own slot's handler: later.
                   asio::post(s->executor, [s, it] {
                     s->signals.erase(it);
                     if (--s->running == 0) s->done.notify_all();
                   });
                 }));
}

void task_group::cancel_all() {
  // Emitted on the group's executor only. co_spawn's slot handler (Boost 1.81) re-dispatches
  // the emission to the coroutine's executor holding a raw pointer to its own signal: emitted
  // from outside (a destructor after io_context::run returned), that dispatch becomes a post
  // that can run after the task ended and its signal was erased. On the executor, the erase
  // of a finished task has either run already or runs later, never in between.
  asio::dispatch(state_->executor, [s = state_] {
    for (auto& signal : s->signals) signal.emit(asio::cancellation_type::terminal);
  });
}

std::size_t task_group::running() const noexcept { return state_->running; }

asio::awaitable<wait_status> task_group::join(time_point deadline) {
  const auto s = state_;
  // Each wake-up re-checks the count: a task that started after the notification keeps us here.
  while (s->running > 0) {
    const wait_status w = co_await s->done.wait_until(deadline);
    if (w != wait_status::notified) co_return w;
  }
  co_return wait_status::notified;
}

}  // namespace asiokafka::net
