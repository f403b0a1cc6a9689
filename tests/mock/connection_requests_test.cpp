// net::connection's request order against a FakeBroker: requests are written in the order send()
// was called, also across a KIP-368 re-authentication that holds them back, and a deadline that
// passes at the re-authentication gate. Delivery, per-request timeouts and throttling are in
// connection_delivery_test.cpp; the marked requests in support/marked_requests.hpp.
// (No structured bindings, and no class-type temporaries inside co_await: GCC 12 bugs.)
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/this_coro.hpp>

#include "asiokafka/protocol/messages.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/connection_helpers.hpp"
#include "support/fake_broker.hpp"
#include "support/fake_sasl_broker.hpp"
#include "support/marked_requests.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// ---- call order is write order ----------------------------------------------------------

asio::awaitable<std::string> written_in_call_order() {
  auto ex = co_await asio::this_coro::executor;
  FakeBroker broker(ex);
  broker.script({}, echo);
  const net::connection_options options;
  const std::string host = broker.host();
  auto connected = co_await net::connect(ex, host, broker.port(), options);
  net::connection conn = unwrap(std::move(connected));
  std::string log;

  constexpr std::size_t n = 12;
  std::vector<tracked> sends;
  sends.reserve(n);  // completions refer to the elements
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < n; ++i) {
    sends.push_back(make_tracked(api_of(i), "order-" + std::to_string(i)));
    expected.push_back(sends.back().marker);
    send_tracked(ex, conn, sends.back());  // no co_await between the calls
  }
  // Queued by the calls themselves, before anything was awaited.
  if (conn.pending() != n) log += "pending " + std::to_string(conn.pending()) + " after the calls; ";
  if (!co_await eventually_async([&] { return all_done(sends); }, 5s)) log += "requests still pending; ";
  for (const auto& t : sends) log += expect_answered(t);
  const auto written = written_from(broker, 0);
  if (written != expected) log += "written as " + join(written) + "; ";
  co_await conn.close();
  (void)co_await eventually_async([&] { return all_done(sends); }, 5s);  // completions use `sends`
  co_return log;
}

TEST(ConnectionRequests, RequestsOfDifferentApisAreWrittenInCallOrder) {
  EXPECT_EQ(run_async(written_in_call_order(), 20s), "");
}

// Connects with SASL to `broker`, whose re-authentication `sasl` holds, and sends `probe`
// until the connection starts re-authenticating (the probe is held at the gate; `answered`
// counts the requests answered before). Returns what went wrong ("" when nothing).
asio::awaitable<std::string> hold_at_the_gate(FakeBroker& broker, held_reauth& sasl,
                                              std::optional<net::connection>& conn, tracked& probe,
                                              std::size_t& answered) {
  auto ex = co_await asio::this_coro::executor;
  broker.on_request(sasl.handler(echo));
  net::connection_options options;
  options.sasl = plain_sasl();
  const std::string host = broker.host();
  auto connected = co_await net::connect(ex, host, broker.port(), options);
  conn.emplace(unwrap(std::move(connected)));
  std::string log;
  std::optional<asio::awaitable<net::failure>> probe_send;
  log += co_await send_until_held(*conn, *probe.request, probe_send, answered, 5s);
  if (probe_send) {
    spawn_await(ex, std::move(*probe_send), [&probe](net::failure f) {
      probe.done = true;
      probe.result = std::move(f);
    });
  }
  if (!co_await eventually_async([&] { return sasl.handshake.has_value(); }, 3s)) log += "no re-authentication; ";
  co_return log;
}

// Requests submitted while a re-authentication runs are held (held() counts them) and then
// written in call order, after the re-authentication and never inside it.
asio::awaitable<std::string> held_then_written_in_call_order() {
  auto ex = co_await asio::this_coro::executor;
  held_reauth sasl;
  FakeBroker broker(ex);
  std::optional<net::connection> connection;
  tracked probe = make_tracked(marked_api::metadata, "probe");
  std::size_t answered = 0;
  std::string log = co_await hold_at_the_gate(broker, sasl, connection, probe, answered);
  net::connection& conn = *connection;
  const std::size_t mark = broker.requests().size() - 1;  // the re-authentication's SaslHandshake

  constexpr std::size_t n = 8;
  std::vector<tracked> sends;
  sends.reserve(n);
  std::vector<std::string> expected{"<SaslHandshake>", "<SaslAuthenticate>", "probe"};
  std::size_t most_held = conn.held();
  for (std::size_t i = 0; i < n; ++i) {
    sends.push_back(make_tracked(api_of(i + 1), "reauth-" + std::to_string(i)));
    expected.push_back(sends.back().marker);
    send_tracked(ex, conn, sends.back());
    most_held = std::max(most_held, conn.held());
  }
  if (most_held != n + 1) log += "held() reached " + std::to_string(most_held) + ", not " + std::to_string(n + 1) + "; ";
  sasl.release();
  if (!co_await eventually_async([&] { return probe.done && all_done(sends); }, 5s)) log += "requests still pending; ";
  log += expect_answered(probe);
  for (const auto& t : sends) log += expect_answered(t);
  const auto written = written_from(broker, mark);
  if (written != expected) log += "written as " + join(written) + "; ";
  if (conn.reauthentications() != 1) log += "reauthentications " + std::to_string(conn.reauthentications()) + "; ";
  if (sasl.state->served != answered + 1 + n) log += "served " + std::to_string(sasl.state->served) + "; ";
  if (sasl.state->expired_requests != 0) log += "a request used an expired session; ";
  log += sasl.state->violations;
  co_await conn.close();
  (void)co_await eventually_async([&] { return probe.done && all_done(sends); }, 5s);
  co_return log;
}

TEST(ConnectionRequests, RequestsHeldByReauthenticationAreWrittenInCallOrder) {
  EXPECT_EQ(run_async(held_then_written_in_call_order(), 20s), "");
}

// A request whose own deadline passes while it is held at the gate fails with timeout and
// not_sent when the gate opens, and is never written; the others go on.
asio::awaitable<std::string> deadline_at_the_gate() {
  auto ex = co_await asio::this_coro::executor;
  held_reauth sasl;
  FakeBroker broker(ex);
  std::optional<net::connection> connection;
  tracked probe = make_tracked(marked_api::metadata, "probe");
  std::size_t answered = 0;
  std::string log = co_await hold_at_the_gate(broker, sasl, connection, probe, answered);
  net::connection& conn = *connection;
  const std::size_t mark = broker.requests().size() - 1;

  tracked late = make_tracked(marked_api::describe_groups, "late");
  net::request_options short_deadline;
  short_deadline.timeout = 50ms;
  send_tracked(ex, conn, late, short_deadline);
  if (conn.held() != 2) log += "held " + std::to_string(conn.held()) + ", not 2; ";
  co_await pause(150ms);  // its 50 ms deadline passes while it is held: time itself is under test
  sasl.release();
  if (!co_await eventually_async([&] { return late.done && probe.done; }, 5s)) log += "not completed; ";
  log += expect_failed(late, client_errc::timeout, net::delivery::not_sent);
  if (late.result.message.find("re-authentication") == std::string::npos) {
    log += "the timeout does not name the re-authentication: " + late.result.message + "; ";
  }
  log += expect_answered(probe);
  tracked after = make_tracked(marked_api::list_offsets, "after");
  send_tracked(ex, conn, after);
  (void)co_await eventually_async([&] { return after.done; }, 5s);
  log += expect_answered(after);
  const std::vector<std::string> expected{"<SaslHandshake>", "<SaslAuthenticate>", "probe", "after"};
  const auto written = written_from(broker, mark);
  if (written != expected) log += "written as " + join(written) + "; ";
  if (!conn.is_open()) log += "connection closed; ";
  log += sasl.state->violations;
  co_await conn.close();
  (void)co_await eventually_async([&] { return probe.done && late.done && after.done; }, 5s);
  co_return log;
}

TEST(ConnectionRequests, DeadlinePassingAtTheReauthenticationGateIsNotSent) {
  EXPECT_EQ(run_async(deadline_at_the_gate(), 20s), "");
}

}  // namespace
}  // namespace asiokafka::test
