// net::connection against a FakeBroker: what a failure says about delivery (not_sent when the
// request surely never left, maybe_sent once the broker may have read it), per-request timeouts
// (request_options) and KIP-219 throttling of the next write on a connection. The marked
// requests are in support/marked_requests.hpp.
// (No structured bindings, and no class-type temporaries inside co_await: GCC 12 bugs.)
#include <gtest/gtest.h>

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

// ---- delivery: not_sent and maybe_sent ----------------------------------------------------

// With one request in flight, requests behind it wait in the client: cancelled or timed out
// there, they were never written (not_sent). A request the broker has read is maybe_sent when
// cancelled (its answer is then read and dropped) or when the connection drops.
asio::awaitable<std::string> not_sent_and_maybe_sent() {
  auto ex = co_await asio::this_coro::executor;
  FakeBroker broker(ex);
  struct kept_request {
    FakeSession* session;
    FakeRequest request;
  };
  std::vector<kept_request> kept;  // "hold-" requests, answered by the test
  broker.script({}, [&kept](FakeSession& s, const FakeRequest& r) {
    if (marker_of(r).starts_with("hold-")) return kept.push_back(kept_request{&s, r});
    echo(s, r);
  });
  net::connection_options options;
  options.max_in_flight_requests = 1;
  options.request_timeout = 10s;
  const std::string host = broker.host();
  auto connected = co_await net::connect(ex, host, broker.port(), options);
  net::connection conn = unwrap(std::move(connected));
  std::string log;
  std::vector<tracked> t;
  t.reserve(8);
  for (const char* m : {"hold-a", "b", "c", "d", "hold-e", "f", "hold-g", "h"}) {
    t.push_back(make_tracked(api_of(t.size()), m));
  }
  tracked& a = t[0];
  tracked& b = t[1];
  tracked& c = t[2];
  tracked& d = t[3];
  tracked& e = t[4];
  tracked& f = t[5];
  tracked& g = t[6];
  tracked& h = t[7];

  // A is read by the broker and left unanswered: the in-flight budget (1) is used up.
  send_tracked(ex, conn, a);
  if (!co_await eventually_async([&] { return kept.size() == 1; }, 3s)) log += "A not read; ";
  if (conn.in_flight() != 1) log += "in_flight " + std::to_string(conn.in_flight()) + " with A unanswered; ";
  // B (cancelled) and C (its 100 ms run out) wait behind it and leave without being written.
  asio::cancellation_signal cancel_b;
  send_tracked(ex, conn, b, {}, cancel_b.slot());
  net::request_options short_deadline;
  short_deadline.timeout = 100ms;
  send_tracked(ex, conn, c, short_deadline);
  if (conn.pending() != 3) log += "pending " + std::to_string(conn.pending()) + ", not 3; ";
  cancel_b.emit(asio::cancellation_type::terminal);
  (void)co_await eventually_async([&] { return b.done; }, 2s);
  log += expect_failed(b, std::make_error_code(std::errc::operation_canceled), net::delivery::not_sent);
  (void)co_await eventually_async([&] { return c.done; }, 3s);
  log += expect_failed(c, client_errc::timeout, net::delivery::not_sent);
  if (!conn.is_open()) log += "closed by a timeout in the queue; ";
  if (a.done) log += "A completed unanswered: " + failure_text(a.result) + "; ";
  // A's answer, then D: the connection goes on.
  if (!kept.empty()) echo(*kept[0].session, kept[0].request);
  send_tracked(ex, conn, d);
  (void)co_await eventually_async([&] { return a.done && d.done; }, 3s);
  log += expect_answered(a) + expect_answered(d);

  // E is read by the broker, then cancelled: maybe_sent. Its late answer is read and dropped,
  // and F, behind it, gets its own answer.
  asio::cancellation_signal cancel_e;
  send_tracked(ex, conn, e, {}, cancel_e.slot());
  if (!co_await eventually_async([&] { return kept.size() == 2; }, 3s)) log += "E not read; ";
  cancel_e.emit(asio::cancellation_type::terminal);
  (void)co_await eventually_async([&] { return e.done; }, 2s);
  log += expect_failed(e, std::make_error_code(std::errc::operation_canceled), net::delivery::maybe_sent);
  if (!conn.is_open()) log += "closed by cancelling a written request; ";
  send_tracked(ex, conn, f);
  if (kept.size() == 2) echo(*kept[1].session, kept[1].request);
  (void)co_await eventually_async([&] { return f.done; }, 3s);
  log += expect_answered(f);

  // G is read by the broker, which then drops the connection: maybe_sent. H, sent after the
  // connection closed, fails at once: not_sent.
  send_tracked(ex, conn, g);
  if (!co_await eventually_async([&] { return kept.size() == 3; }, 3s)) log += "G not read; ";
  if (kept.size() == 3) kept[2].session->close();
  (void)co_await eventually_async([&] { return g.done; }, 3s);
  log += expect_failed(g, client_errc::connection_lost, net::delivery::maybe_sent);
  send_tracked(ex, conn, h);
  (void)co_await eventually_async([&] { return h.done; }, 2s);
  log += expect_failed(h, client_errc::connection_lost, net::delivery::not_sent);

  const std::vector<std::string> expected{"hold-a", "d", "hold-e", "f", "hold-g"};
  const auto written = written_from(broker, 0);
  if (written != expected) log += "written as " + join(written) + "; ";
  co_await conn.close();
  (void)co_await eventually_async([&] { return all_done(t); }, 5s);  // completions use `t`
  co_return log;
}

TEST(ConnectionRequests, NotSentBeforeTheWriteMaybeSentAfter) {
  EXPECT_EQ(run_async(not_sent_and_maybe_sent(), 20s), "");
}

// ---- per-request timeout ----------------------------------------------------------------

// The broker answers after 600 ms; the connection's request_timeout is 300 ms.
asio::awaitable<std::string> per_request_timeout() {
  auto ex = co_await asio::this_coro::executor;
  FakeBroker broker(ex);
  broker.script({}, [](FakeSession& s, const FakeRequest& r) {
    s.later(600ms, [r](FakeSession& later) { echo(later, r); });
  });
  net::connection_options options;
  options.request_timeout = 300ms;
  const std::string host = broker.host();
  auto connected = co_await net::connect(ex, host, broker.port(), options);
  net::connection conn = unwrap(std::move(connected));
  auto connected2 = co_await net::connect(ex, host, broker.port(), options);
  net::connection conn2 = unwrap(std::move(connected2));
  std::string log;

  // A longer timeout lets the slow answer arrive.
  msg::MetadataRequest slow;
  msg::MetadataRequest::MetadataRequestTopic topic;
  topic.name = "slow";
  slow.topics->push_back(topic);
  net::request_options longer;
  longer.timeout = 3s;
  auto start = clock_type::now();
  const auto answered = co_await conn.send(slow, longer);
  const auto took_long = clock_type::now() - start;
  if (!answered) {
    log += "the longer timeout failed: " + failure_text(answered.error()) + "; ";
  } else if (answered.value()->cluster_id != std::optional<std::string>("slow")) {
    log += "wrong answer; ";
  }
  if (took_long < 600ms) log += "answered before the broker's delay; ";
  if (!conn.is_open()) log += "closed after the slow answer; ";

  // Without one, the connection's request_timeout applies (and closes the connection: the
  // request had been written).
  start = clock_type::now();
  const auto defaulted = co_await conn.send(slow);
  const auto took_default = clock_type::now() - start;
  if (defaulted) log += "the default timeout let the slow answer through; ";
  if (!defaulted && (defaulted.error().code != client_errc::timeout || !defaulted.error().maybe_sent())) {
    log += "default timeout: " + failure_text(defaulted.error()) + "; ";
  }
  if (took_default < 300ms || took_default >= 600ms) {
    log += "the default timeout took " + std::to_string(took_default / 1ms) + " ms; ";
  }

  // A shorter one fails earlier than request_timeout.
  net::request_options shorter;
  shorter.timeout = 100ms;
  start = clock_type::now();
  const auto cut = co_await conn2.send(slow, shorter);
  const auto took_short = clock_type::now() - start;
  if (cut) log += "the shorter timeout let the slow answer through; ";
  if (!cut && (cut.error().code != client_errc::timeout || !cut.error().maybe_sent())) {
    log += "shorter timeout: " + failure_text(cut.error()) + "; ";
  }
  if (took_short < 100ms || took_short >= 300ms) {
    log += "the shorter timeout took " + std::to_string(took_short / 1ms) + " ms; ";
  }
  co_await conn.close();
  co_await conn2.close();
  co_return log;
}

TEST(ConnectionRequests, PerRequestTimeoutOverridesTheConnections) {
  EXPECT_EQ(run_async(per_request_timeout(), 20s), "");
}

// ---- throttling (KIP-219) ---------------------------------------------------------------

// The first ListGroups answer carries throttle_time_ms = 400: the connection writes nothing
// more until it has passed; another connection to the same broker is not held.
asio::awaitable<std::string> throttle_holds_the_next_write() {
  auto ex = co_await asio::this_coro::executor;
  FakeBroker broker(ex);
  struct arrival {
    std::size_t connection;
    clock_type::time_point at;
  };
  std::vector<arrival> arrivals;
  broker.script({}, [&arrivals](FakeSession& s, const FakeRequest& r) {
    if (r.api_key != msg::ListGroupsRequest::api_key) return echo(s, r);
    arrivals.push_back(arrival{r.connection, clock_type::now()});
    msg::ListGroupsResponse response;
    response.throttle_time_ms = arrivals.size() == 1 ? 400 : 0;
    s.respond(r, response);
  });
  const net::connection_options options;
  const std::string host = broker.host();
  auto connected = co_await net::connect(ex, host, broker.port(), options);
  net::connection conn = unwrap(std::move(connected));
  auto connected2 = co_await net::connect(ex, host, broker.port(), options);
  net::connection other = unwrap(std::move(connected2));
  std::string log;

  const msg::ListGroupsRequest list_groups;
  const auto first = co_await conn.send(list_groups);
  if (!first) co_return "first ListGroups failed: " + failure_text(first.error());
  if (first.value()->throttle_time_ms != 400) log += "throttle_time_ms not decoded; ";
  const auto throttle_end = arrivals.front().at + 400ms;  // the client's hold ends later still

  // Two more on the throttled connection, one on the other connection.
  std::vector<tracked> held(2);
  for (auto& t : held) {
    t.request = std::make_unique<net::typed_request<msg::ListGroupsRequest>>(list_groups);
    t.marker = "ListGroups";
    send_tracked(ex, conn, t);
  }
  const auto elsewhere = co_await other.send(list_groups);
  if (!elsewhere) log += "the other connection failed: " + failure_text(elsewhere.error()) + "; ";
  if (arrivals.size() < 2 || arrivals[1].connection != 1 || arrivals[1].at >= throttle_end) {
    log += "the other connection was held too; ";
  }
  if (clock_type::now() < throttle_end) {
    // Still inside the throttle: nothing more was written on the throttled connection.
    if (arrivals.size() != 2) log += "written during the throttle; ";
    if (conn.in_flight() != 0 || conn.pending() != 2) log += "requests in flight during the throttle; ";
  }
  if (!co_await eventually_async([&] { return held[0].done && held[1].done; }, 3s)) log += "held requests lost; ";
  for (const auto& t : held) {
    if (t.result) log += "held request failed: " + failure_text(t.result) + "; ";
  }
  if (arrivals.size() != 4) {
    log += std::to_string(arrivals.size()) + " ListGroups arrived; ";
  } else {
    for (std::size_t i : {std::size_t{2}, std::size_t{3}}) {
      if (arrivals[i].connection != 0) log += "arrival " + std::to_string(i) + " on the wrong connection; ";
      if (arrivals[i].at < throttle_end) log += "arrival " + std::to_string(i) + " before the throttle ended; ";
      if (arrivals[i].at > throttle_end + 2s) log += "arrival " + std::to_string(i) + " long after the throttle; ";
    }
  }
  co_await conn.close();
  co_await other.close();
  (void)co_await eventually_async([&] { return held[0].done && held[1].done; }, 5s);
  co_return log;
}

TEST(ConnectionRequests, ThrottleTimeHoldsTheNextWriteOnThatConnection) {
  EXPECT_EQ(run_async(throttle_holds_the_next_write(), 20s), "");
}

}  // namespace
}  // namespace asiokafka::test
