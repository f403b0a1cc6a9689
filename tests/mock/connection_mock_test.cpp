// net::connection against the librdkafka mock cluster: ApiVersions negotiation with the mock's
// quirks, and an injected round-trip time that outlasts the request timeout.
// The mock cannot inject throttle_time_ms (rdkafka_mock.h has no such control): throttling is
// covered by the multiplexer's unit tests and, end to end through a connection, by
// ConnectionRequests.ThrottleTimeHoldsTheNextWriteOnThatConnection
// (connection_delivery_test.cpp, a FakeBroker answering with throttle_time_ms).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/protocol/messages/metadata.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/connection_helpers.hpp"
#include "support/mock_cluster.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;

struct Result {
  bool first_ok = false;
  std::error_code slow_error;
  net::delivery slow_sent = net::delivery::not_sent;
  bool open_after = true;
  std::chrono::steady_clock::duration slow_elapsed{};
};

asio::awaitable<Result> slow_broker(MockCluster& mock) {
  const auto address = mock.broker_address(1);
  const HostPort target = split_host_port(address);
  const std::string host = target.host;
  const auto port = target.port;
  auto ex = co_await asio::this_coro::executor;
  net::connection_options options;
  options.request_timeout = 500ms;
  auto connected = co_await net::connect(ex, host, port, options);
  net::connection conn = unwrap(std::move(connected));
  Result r;
  const msg::MetadataRequest request{};
  const auto md = co_await conn.send(request);
  r.first_ok = md && !md.value()->brokers.empty();
  mock.set_rtt(1, 3s);
  const auto start = std::chrono::steady_clock::now();
  const auto slow = co_await conn.send(request);
  r.slow_elapsed = std::chrono::steady_clock::now() - start;
  if (!slow) {
    r.slow_error = slow.error().code;
    r.slow_sent = slow.error().sent;
  }
  r.open_after = conn.is_open();
  co_await conn.close();
  co_return r;
}

TEST(ConnectionMock, InjectedRoundTripTimeTimesOut) {
  MockCluster mock(1);
  const auto r = run_async(slow_broker(mock), 20s);
  EXPECT_TRUE(r.first_ok);
  EXPECT_EQ(r.slow_error, client_errc::timeout) << r.slow_error.message();
  EXPECT_EQ(r.slow_sent, net::delivery::maybe_sent);  // it had been written
  EXPECT_FALSE(r.open_after);  // a written request's timeout closes the connection
  EXPECT_GE(r.slow_elapsed, 500ms);
  EXPECT_LT(r.slow_elapsed, 1500ms);
}

}  // namespace
}  // namespace asiokafka::test
