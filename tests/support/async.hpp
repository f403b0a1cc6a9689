// Runs a coroutine to completion on a private io_context, bounded in time.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace asiokafka::test {

/// Runs `task` and returns its result or rethrows its exception. Throws std::runtime_error
/// when it has not finished after `limit` (a hung test fails). T need not be default
/// constructible (net::outcome is not).
template <class T>
T run_async(boost::asio::awaitable<T> task, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  boost::asio::io_context io;
  std::optional<T> result;
  std::exception_ptr error;
  bool done = false;
  auto store = [](boost::asio::awaitable<T> t, std::optional<T>& out) -> boost::asio::awaitable<void> {
    out.emplace(co_await std::move(t));
  };
  boost::asio::co_spawn(io, store(std::move(task), result), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  io.run_for(limit);
  if (!done) throw std::runtime_error("coroutine did not finish within the test's time limit");
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

}  // namespace asiokafka::test
