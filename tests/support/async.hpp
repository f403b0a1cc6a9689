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

/// Runs `make(executor)`'s awaitable and returns its result or rethrows its exception.
/// Throws std::runtime_error when it has not finished after `limit` (a hung test fails).
template <class T>
T run_async(boost::asio::awaitable<T> task, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  boost::asio::io_context io;
  std::optional<T> result;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    done = true;
    if (e) error = e; else result.emplace(std::move(value));
  });
  io.run_for(limit);
  if (!done) throw std::runtime_error("coroutine did not finish within the test's time limit");
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

}  // namespace asiokafka::test
