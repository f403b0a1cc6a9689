// Helpers for tests that drive net::connection directly: unwrap an outcome, run a send in the
// background, wait (bounded) for a condition or a number of completions on the test's own
// executor. Header-only; everything runs on one executor, nothing is locked.
// (No structured bindings, and no class-type temporaries inside co_await: GCC 12 bugs.)
#pragma once

#include "support/poll.hpp"

#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/connection.hpp"
#include "support/net_helpers.hpp"

namespace asiokafka::test {

/// A failure for test output: "code message (sent): text".
inline std::string failure_text(const net::failure& f) {
  if (!f) return "no failure";
  return f.code.message() + (f.maybe_sent() ? " (maybe sent): " : " (not sent): ") + f.message;
}

/// Waits `d` on the current executor: pacing, a polling interval, or a slow peer, never a
/// synchronisation.
inline boost::asio::awaitable<void> pause(std::chrono::milliseconds d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  co_await t.async_wait(boost::asio::use_awaitable);
}

namespace helpers_detail {
template <class T, class F>
boost::asio::awaitable<void> await_into(boost::asio::awaitable<T> op, F done) {
  T result = co_await std::move(op);
  done(std::move(result));
}
}  // namespace helpers_detail

/// Awaits `op` (a send's or connect's awaitable: send() has queued the request already) in the
/// background and calls `done` with its result. Emitting on `slot`'s signal cancels it. An
/// exception escaping it fails run_async.
template <class T, class F>
void spawn_await(const boost::asio::any_io_executor& ex, boost::asio::awaitable<T> op, F done,
                 boost::asio::cancellation_slot slot = {}) {
  boost::asio::co_spawn(ex, helpers_detail::await_into<T, F>(std::move(op), std::move(done)),
                        boost::asio::bind_cancellation_slot(slot, [](std::exception_ptr e) {
                          if (e) std::rethrow_exception(e);
                        }));
}

/// Sends `probe` on `conn` again and again, each awaited, until a send is held at the KIP-368
/// re-authentication gate (which opens at 85-95 % of the session lifetime and is checked when
/// a request is submitted), at most `limit` long. The held send is left running: its awaitable
/// is put in `held_send`. `answered` counts the sends answered before. Returns "" on success,
/// else what went wrong.
inline boost::asio::awaitable<std::string> send_until_held(net::connection& conn, net::request_base& probe,
                                                          std::optional<boost::asio::awaitable<net::failure>>& held_send,
                                                          std::size_t& answered, std::chrono::milliseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  for (int attempt = 0; attempt < 1000 && std::chrono::steady_clock::now() < give_up; ++attempt) {
    const std::size_t held_before = conn.held();
    auto sent = conn.send(probe);  // queued, or held, now
    if (conn.held() == held_before + 1) {
      held_send.emplace(std::move(sent));
      co_return "";
    }
    if (net::failure f = co_await std::move(sent)) co_return "a request before the gate failed: " + failure_text(f);
    ++answered;
    co_await pause(std::chrono::milliseconds(2));  // polling interval, not a synchronisation
  }
  co_return "no request was held by a re-authentication";
}

/// Waits until `count` operations have arrived, at most a given time.
class Latch {
 public:
  Latch(const boost::asio::any_io_executor& ex, std::size_t count)
      : timer_(ex, std::chrono::steady_clock::time_point::max()), count_(count) {}
  void arrive() {
    if (count_ > 0 && --count_ == 0) timer_.cancel();
  }
  boost::asio::awaitable<bool> wait(std::chrono::milliseconds limit) {
    if (count_ > 0) {
      timer_.expires_after(limit);
      boost::system::error_code ignored;
      co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    }
    co_return count_ == 0;
  }
  std::size_t remaining() const noexcept { return count_; }

 private:
  boost::asio::steady_timer timer_;
  std::size_t count_;
};

}  // namespace asiokafka::test
