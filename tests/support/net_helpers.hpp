// Small helpers for tests of the connection layer (net::outcome) and of probe_broker.
#pragma once

#include <chrono>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/probe.hpp"
#include "net/sansio/failure.hpp"
#include "support/async.hpp"

namespace asiokafka::test {

/// The value of an outcome the test needs; a failure is thrown as std::system_error with its
/// code and message, which fails the test (run_async rethrows it) saying what went wrong.
template <class T>
T unwrap(net::outcome<T> o) {
  if (!o) throw std::system_error(o.error().code, o.error().message);
  return std::move(o).value();
}

/// probe_broker with the default token on a private io_context: the result, or asiokafka::error
/// (with its message) thrown. `limit` bounds the whole run.
inline BrokerProbe run_probe(const std::string& address, ProbeOptions options = ProbeOptions(),
                             std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto task = [](std::string a, ProbeOptions o) -> boost::asio::awaitable<BrokerProbe> {
    auto ex = co_await boost::asio::this_coro::executor;
    co_return co_await probe_broker(ex, a, std::move(o));
  };
  return run_async(task(address, std::move(options)), limit);
}

/// The same through as_tuple: the code the operation completed with and its result, no throw.
inline std::tuple<error_code, BrokerProbe> run_probe_ec(const std::string& address,
                                                        ProbeOptions options = ProbeOptions(),
                                                        std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto task = [](std::string a, ProbeOptions o) -> boost::asio::awaitable<std::tuple<error_code, BrokerProbe>> {
    auto ex = co_await boost::asio::this_coro::executor;
    co_return co_await probe_broker(ex, a, std::move(o), boost::asio::as_tuple(boost::asio::use_awaitable));
  };
  return run_async(task(address, std::move(options)), limit);
}

}  // namespace asiokafka::test
