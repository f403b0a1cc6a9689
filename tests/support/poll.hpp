// Bounded polling of observable state, for tests that wait on a broker to change.
#pragma once

#include <chrono>
#include <thread>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asiokafka::test {

/// Calls `check` until it returns true or `limit` passes; returns the last result.
/// The pause between checks is a polling interval, not a synchronisation: correctness
/// depends only on `check`.
template <class F>
bool eventually(F&& check, std::chrono::milliseconds limit, std::chrono::milliseconds interval = std::chrono::milliseconds(200)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (check()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

/// eventually() inside a coroutine: the executor keeps running between checks (so the state
/// `check` looks at can change). `check` is taken by value and must stay valid until the end.
template <class F>
boost::asio::awaitable<bool> eventually_async(F check, std::chrono::milliseconds limit,
                                              std::chrono::milliseconds interval = std::chrono::milliseconds(2)) {
  boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (check()) co_return true;
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    pause.expires_after(interval);
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace asiokafka::test
