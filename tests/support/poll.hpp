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

/// The same inside a coroutine: waits on the executor between checks (other work goes on).
template <class F>
boost::asio::awaitable<bool> eventually_async(F check, std::chrono::milliseconds limit,
                                              std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  while (true) {
    if (check()) co_return true;
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    timer.expires_after(interval);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace asiokafka::test
