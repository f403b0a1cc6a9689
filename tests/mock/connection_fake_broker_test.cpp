// net::connection against a FakeBroker (tests/support/fake_broker.hpp) that does what a real
// broker never does: an unknown correlation id, responses out of order, a truncated frame and a
// close, a body that does not decode, negative and oversize frame lengths, garbage, silence, and
// the same faults during the handshake. Each time the misbehaving connection closes, every
// pending request fails with a typed error within a bound, and a second connection on the same
// io_context goes on working. Also: the awaitable OAUTHBEARER token provider and KIP-368
// re-authentication against a fake SASL broker that enforces session expiry. Request order,
// delivery (not_sent / maybe_sent), per-request timeouts and throttling are in
// connection_requests_test.cpp.
// (No structured bindings, and no class-type temporaries inside co_await: GCC 12 bugs.)
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/kafka_error.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/connection_helpers.hpp"
#include "support/fake_broker.hpp"
#include "support/fake_sasl_broker.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using asio::use_awaitable;
using clock_type = std::chrono::steady_clock;
using bytes = std::vector<std::uint8_t>;
using Handler = FakeBroker::Handler;

struct SendResult {
  bool done = false;
  bool ok = false;
  std::error_code ec;
  std::string what;
  net::delivery sent = net::delivery::not_sent;
};

void record_failure(const net::failure& f, SendResult& out) {
  out.ec = f.code;
  out.what = f.message;
  out.sent = f.sent;
}

/// Starts a Metadata request on `conn` (queued now); `out` and `latch` must outlive its
/// completion.
void spawn_metadata(const asio::any_io_executor& ex, net::connection& conn, SendResult& out, Latch& latch) {
  const msg::MetadataRequest request{};
  spawn_await(ex, conn.send(request), [&out, &latch](net::outcome<response<msg::MetadataResponse>> r) {
    out.done = true;
    if (r) {
      out.ok = r.value()->cluster_id == std::optional<std::string>("fake-cluster");
    } else {
      record_failure(r.error(), out);
    }
    latch.arrive();
  });
}

bytes be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

bytes concat(bytes a, const bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bytes metadata_body(std::int16_t version) {
  msg::MetadataResponse md;
  md.cluster_id = "fake-cluster";
  bytes body;
  EXPECT_FALSE(md.encode(body, version));
  return body;
}

// ---- faults after a successful connect ---------------------------------------------------

struct Outcome {
  std::vector<SendResult> sends;
  bool all_done = false;
  bool bad_open = true;
  net::failure close_reason;  // of the bad connection
  SendResult later;           // a request on the bad connection after it closed
  bool good_ok = false;
  std::string good_error;
  clock_type::duration took{};
  std::size_t accepted = 0;
};

// Connection 0 misbehaves (`bad` handles its requests after ApiVersions), connection 1 on the
// same broker and io_context answers Metadata. `pipelined` Metadata requests run concurrently
// on connection 0; then connection 1 must still work.
asio::awaitable<Outcome> misbehave_after_connect(Handler bad, std::size_t pipelined, net::connection_options options) {
  auto ex = co_await asio::this_coro::executor;
  FakeBroker broker(ex);
  broker.on_request([bad](FakeSession& s, const FakeRequest& r) {
    if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
    if (r.connection == 0) return bad(s, r);
    answer_metadata(s, r);
  });
  const std::string host = broker.host();
  auto bad_connected = co_await net::connect(ex, host, broker.port(), options);
  net::connection bad_conn = unwrap(std::move(bad_connected));
  auto good_connected = co_await net::connect(ex, host, broker.port(), options);
  net::connection good_conn = unwrap(std::move(good_connected));

  Outcome out;
  out.sends.resize(pipelined);
  Latch latch(ex, pipelined);
  const auto start = clock_type::now();
  for (auto& r : out.sends) spawn_metadata(ex, bad_conn, r, latch);
  out.all_done = co_await latch.wait(10s);
  out.took = clock_type::now() - start;
  out.bad_open = bad_conn.is_open();
  out.close_reason = bad_conn.close_reason();
  const msg::MetadataRequest request{};
  if (out.all_done) {
    // A closed connection does not reconnect: a later request fails at once, never written.
    const auto later = co_await bad_conn.send(request);
    out.later.done = true;
    out.later.ok = later.has_value();
    if (!later) record_failure(later.error(), out.later);
  }
  const auto md = co_await good_conn.send(request);
  if (md) {
    out.good_ok = md.value()->cluster_id == std::optional<std::string>("fake-cluster");
  } else {
    out.good_error = failure_text(md.error());
  }
  out.accepted = broker.accepted();
  co_await good_conn.close();
  co_await bad_conn.close();
  (void)co_await latch.wait(5s);  // the completions reference `out` and `latch`
  co_return out;
}

Outcome run_fault(Handler bad, std::size_t pipelined = 3, std::chrono::milliseconds request_timeout = 5s,
                  std::size_t max_response_bytes = 100 * 1024 * 1024) {
  net::connection_options options;
  options.request_timeout = request_timeout;
  options.connect_timeout = 5s;
  options.max_response_bytes = max_response_bytes;
  return run_async(misbehave_after_connect(std::move(bad), pipelined, std::move(options)), 30s);
}

/// Every pending request failed with `code` (each had been written: maybe_sent), the bad
/// connection closed with `code`, quickly, a later request on it failed with `code` without
/// being written, and the other connection still works.
void expect_failed_with(const Outcome& o, std::error_code code, std::chrono::milliseconds bound,
                        const std::string& in_message = {}) {
  ASSERT_TRUE(o.all_done) << "a request never completed";
  for (const auto& s : o.sends) {
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.ec, code) << s.ec.message() << ": " << s.what;
    EXPECT_EQ(s.sent, net::delivery::maybe_sent) << s.what;
    if (!in_message.empty()) {
      EXPECT_NE(s.what.find(in_message), std::string::npos) << s.what;
    }
    EXPECT_NE(s.what.find("127.0.0.1:"), std::string::npos) << s.what;  // names the broker
  }
  EXPECT_FALSE(o.bad_open);
  EXPECT_EQ(o.close_reason.code, code) << o.close_reason.message;
  EXPECT_TRUE(o.later.done);
  EXPECT_FALSE(o.later.ok);
  EXPECT_EQ(o.later.ec, code) << o.later.what;
  EXPECT_EQ(o.later.sent, net::delivery::not_sent) << o.later.what;
  EXPECT_LT(o.took, bound);
  EXPECT_TRUE(o.good_ok) << o.good_error;
  EXPECT_EQ(o.accepted, 2u);
}

TEST(ConnectionFakeBroker, UnknownCorrelationIdFailsEveryPendingRequest) {
  const auto o = run_fault([](FakeSession& s, const FakeRequest& r) {
    s.respond_with_correlation(r, r.correlation_id + 1000, metadata_body(r.api_version));
  });
  expect_failed_with(o, client_errc::correlation_mismatch, 2s, "does not match");
}

TEST(ConnectionFakeBroker, ResponsesOutOfOrderFailTheConnection) {
  auto held = std::make_shared<std::optional<FakeRequest>>();
  const auto o = run_fault(
      [held](FakeSession& s, const FakeRequest& r) {
        if (!*held) {
          *held = r;  // answered after the next one
          return;
        }
        answer_metadata(s, r);
        answer_metadata(s, **held);
      },
      2);
  expect_failed_with(o, client_errc::correlation_mismatch, 2s);
}

TEST(ConnectionFakeBroker, TruncatedFrameThenCloseIsConnectionLost) {
  const auto o = run_fault([](FakeSession& s, const FakeRequest& r) {
    // Announces 100 bytes, sends the correlation id and two more, then closes.
    s.write(concat(concat(be32(100), be32(static_cast<std::uint32_t>(r.correlation_id))), bytes{1, 2}));
    s.close();
  });
  expect_failed_with(o, client_errc::connection_lost, 2s, "in the middle of a response frame");
}

TEST(ConnectionFakeBroker, CloseWithoutAnswerIsConnectionLost) {
  const auto o = run_fault([](FakeSession& s, const FakeRequest&) { s.close(); });
  expect_failed_with(o, client_errc::connection_lost, 2s, "closed the connection");
}

TEST(ConnectionFakeBroker, BodyThatDoesNotDecodeFailsTheConnection) {
  // Each malformed Metadata v12 body fails with its own code: the codec's classification
  // (truncated: the bytes end early; malformed: a value the protocol forbids) reaches the
  // caller unchanged, and the connection is closed with it.
  struct Case {
    const char* name;
    bytes body;
    client_errc expected;
  };
  const Case cases[] = {
      {"one byte: throttle_time_ms cut short", bytes{0xff}, client_errc::truncated},
      {"a null broker array", bytes{0, 0, 0, 0, 0x00}, client_errc::malformed},
      {"an array length varint over 32 bits", bytes{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x7f}, client_errc::malformed},
      {"a broker array longer than the body", bytes{0, 0, 0, 0, 0x10}, client_errc::truncated},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto answered = std::make_shared<bool>(false);
    auto versions = std::make_shared<std::vector<std::int16_t>>();
    const bytes body = c.body;
    const auto o = run_fault([answered, versions, body](FakeSession& s, const FakeRequest& r) {
      versions->push_back(r.api_version);
      if (*answered) return;  // the others stay unanswered: the connection must fail them
      *answered = true;
      s.respond(r, body);
    });
    ASSERT_TRUE(o.all_done);
    ASSERT_EQ(o.sends.size(), 3u);
    ASSERT_FALSE(versions->empty());
    EXPECT_EQ(versions->front(), 12);  // the bodies above are laid out for Metadata v12
    EXPECT_EQ(o.sends[0].ec, c.expected) << o.sends[0].ec.message() << ": " << o.sends[0].what;
    EXPECT_NE(o.sends[0].what.find("does not decode"), std::string::npos) << o.sends[0].what;
    expect_failed_with(o, c.expected, 2s);
  }
}

TEST(ConnectionFakeBroker, BadFrameLengths) {
  struct Case {
    const char* name;
    std::uint32_t size;
    client_errc expected;
  };
  for (const Case c : {Case{"negative", 0xfffffff0u, client_errc::malformed},
                       Case{"minus one", 0xffffffffu, client_errc::malformed}, Case{"zero", 0, client_errc::malformed},
                       Case{"below a correlation id", 3, client_errc::malformed},
                       Case{"INT32_MAX", 0x7fffffffu, client_errc::frame_too_large},
                       Case{"one above max_response_bytes", 4097, client_errc::frame_too_large}}) {
    SCOPED_TRACE(c.name);
    const auto o = run_fault([c](FakeSession& s, const FakeRequest&) { s.write(be32(c.size)); }, 3, 5s, 4096);
    expect_failed_with(o, c.expected, 2s, "bad response frame");
  }
}

TEST(ConnectionFakeBroker, FrameAtMaxResponseBytesIsAccepted) {
  // The bound is inclusive: a 4096-byte frame passes the reader (and then fails to decode).
  const auto o = run_fault(
      [](FakeSession& s, const FakeRequest& r) {
        s.respond(r, bytes(4096 - 4 - (r.api_version >= 9 ? 1 : 0), 0));
      },
      1, 5s, 4096);
  ASSERT_TRUE(o.all_done);
  EXPECT_NE(o.sends[0].ec, client_errc::frame_too_large) << o.sends[0].what;
  EXPECT_NE(o.sends[0].what.find("does not decode"), std::string::npos) << o.sends[0].what;
}

TEST(ConnectionFakeBroker, GarbageBytes) {
  const std::string http = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  const auto as_http = run_fault([http](FakeSession& s, const FakeRequest&) {
    s.write(bytes(http.begin(), http.end()));
  });
  expect_failed_with(as_http, client_errc::frame_too_large, 2s);  // "HTTP" read as a size

  const auto small = run_fault([](FakeSession& s, const FakeRequest&) {
    s.write(bytes{0, 0, 0, 6, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01});  // a frame with a negative id
  });
  expect_failed_with(small, client_errc::correlation_mismatch, 2s);

  // A plausible size followed by too few bytes and silence: only the request timeout ends it.
  const auto stalled = run_fault([](FakeSession& s, const FakeRequest&) { s.write(bytes{0, 0, 1, 0, 7, 7, 7}); }, 3,
                                 400ms);
  expect_failed_with(stalled, client_errc::timeout, 3s, "no response within 400 ms");
  EXPECT_GE(stalled.took, 400ms);
}

TEST(ConnectionFakeBroker, SilenceTimesOutAndClosesTheConnection) {
  const auto o = run_fault([](FakeSession&, const FakeRequest&) {}, 3, 300ms);
  expect_failed_with(o, client_errc::timeout, 3s, "300 ms");
  EXPECT_GE(o.took, 300ms);
}

// An acks=0 Produce has no response; a broker that answers it anyway desynchronises the
// stream, and the next response does not match the oldest request awaiting one.
asio::awaitable<std::string> answer_to_acks_zero() {
  auto ex = co_await asio::this_coro::executor;
  FakeBroker broker(ex);
  broker.script({[](FakeSession& s, const FakeRequest& r) {
                   if (r.api_key != msg::ProduceRequest::api_key) throw std::logic_error("expected Produce");
                   msg::ProduceResponse response;
                   s.respond(r, response);  // must not exist
                 },
                 answer_metadata});
  net::connection_options options;
  const std::string host = broker.host();
  auto connected = co_await net::connect(ex, host, broker.port(), options);
  net::connection conn = unwrap(std::move(connected));
  std::string log;
  msg::ProduceRequest produce;
  produce.acks = 0;
  produce.timeout_ms = 1000;
  const auto written = co_await conn.send(produce);
  if (!written) {
    log += "acks=0 failed: " + failure_text(written.error()) + "; ";
  } else if (!written.value().storage.empty()) {
    log += "acks=0 produced a response body; ";
  }
  const msg::MetadataRequest request{};
  const auto md = co_await conn.send(request);
  if (md) {
    log += "Metadata succeeded; ";
  } else if (md.error().code != client_errc::correlation_mismatch || !md.error().maybe_sent()) {
    log += "unexpected error: " + failure_text(md.error()) + "; ";
  }
  if (conn.is_open()) log += "connection still open; ";
  co_await conn.close();
  co_return log;
}

TEST(ConnectionFakeBroker, AResponseToAcksZeroProduceIsACorrelationMismatch) {
  EXPECT_EQ(run_async(answer_to_acks_zero(), 10s), "");
}

// A flexible response header (v1) whose tagged fields run past the frame: the frame boundary is
// intact, so only that request fails (docs/design.md, multiplexer); the connection goes on.
asio::awaitable<std::string> broken_header_tail() {
  auto ex = co_await asio::this_coro::executor;
  FakeBroker broker(ex);
  broker.script({[](FakeSession& s, const FakeRequest& r) {
                   // correlation id, then "5 tagged fields" and nothing else
                   s.write(concat(concat(be32(5), be32(static_cast<std::uint32_t>(r.correlation_id))), bytes{5}));
                 }},
                answer_metadata);
  net::connection_options options;
  const std::string host = broker.host();
  auto connected = co_await net::connect(ex, host, broker.port(), options);
  net::connection conn = unwrap(std::move(connected));
  std::string log;
  const msg::MetadataRequest request{};
  const auto broken = co_await conn.send(request);
  if (broken) {
    log += "the broken response was accepted; ";
  } else if (broken.error().code != client_errc::truncated || !broken.error().maybe_sent()) {
    log += "unexpected error: " + failure_text(broken.error()) + "; ";
  }
  const auto md = co_await conn.send(request);
  if (!md) {
    log += "next Metadata failed: " + failure_text(md.error()) + "; ";
  } else if (md.value()->cluster_id != std::optional<std::string>("fake-cluster")) {
    log += "next Metadata wrong; ";
  }
  if (!conn.is_open()) log += "connection closed; ";
  co_await conn.close();
  co_return log;
}

TEST(ConnectionFakeBroker, BrokenResponseHeaderTailFailsOnlyThatRequest) {
  EXPECT_EQ(run_async(broken_header_tail(), 10s), "");
}

// ---- faults during the handshake ---------------------------------------------------------

struct ConnectOutcome {
  bool connected = false;
  std::error_code ec;
  std::string what;
  clock_type::duration took{};
};

asio::awaitable<ConnectOutcome> connect_to(Handler handler, net::connection_options options) {
  auto ex = co_await asio::this_coro::executor;
  FakeBroker broker(ex);
  broker.on_request(std::move(handler));
  ConnectOutcome out;
  const std::string host = broker.host();
  const auto start = clock_type::now();
  auto conn = co_await net::connect(ex, host, broker.port(), options);
  if (conn) {
    out.connected = true;
    co_await conn.value().close();
  } else {
    out.ec = conn.error().code;
    out.what = conn.error().message;
  }
  out.took = clock_type::now() - start;
  co_return out;
}

ConnectOutcome run_connect(Handler handler, std::chrono::milliseconds connect_timeout = 3s,
                           std::optional<SaslConfig> sasl = std::nullopt) {
  net::connection_options options;
  options.connect_timeout = connect_timeout;
  options.request_timeout = 10s;
  options.sasl = std::move(sasl);
  return run_async(connect_to(std::move(handler), std::move(options)), 30s);
}

void expect_connect_error(const ConnectOutcome& o, std::error_code code, std::chrono::milliseconds bound,
                          const std::string& in_message = {}) {
  EXPECT_FALSE(o.connected);
  EXPECT_EQ(o.ec, code) << o.ec.message() << ": " << o.what;
  if (!in_message.empty()) {
    EXPECT_NE(o.what.find(in_message), std::string::npos) << o.what;
  }
  EXPECT_LT(o.took, bound);
}

TEST(ConnectionFakeBroker, HandshakeGarbageApiVersionsBody) {
  // No error, then an api_keys length varint whose bytes all say "more follows": the body ends
  // inside it.
  const auto o = run_connect([](FakeSession& s, const FakeRequest& r) { s.respond(r, bytes{0, 0, 0xff, 0xff, 0xff}); });
  expect_connect_error(o, client_errc::truncated, 2s, "ApiVersions");
}

TEST(ConnectionFakeBroker, HandshakeWrongCorrelationId) {
  const auto o = run_connect([](FakeSession& s, const FakeRequest& r) {
    msg::ApiVersionsResponse response;
    bytes body;
    ASSERT_FALSE(response.encode(body, r.api_version));
    s.respond_with_correlation(r, r.correlation_id + 1, body);
  });
  expect_connect_error(o, client_errc::correlation_mismatch, 2s, "ApiVersions");
}

TEST(ConnectionFakeBroker, HandshakeCloseBeforeTheAnswer) {
  expect_connect_error(run_connect([](FakeSession& s, const FakeRequest&) { s.close(); }), client_errc::connection_lost,
                       2s, "closed the connection");
}

TEST(ConnectionFakeBroker, HandshakeTruncatedAnswerThenClose) {
  const auto o = run_connect([](FakeSession& s, const FakeRequest& r) {
    s.write(concat(concat(be32(64), be32(static_cast<std::uint32_t>(r.correlation_id))), bytes{0, 0}));
    s.close();
  });
  expect_connect_error(o, client_errc::connection_lost, 2s, "in the middle of a response frame");
}

TEST(ConnectionFakeBroker, HandshakeSilenceIsBoundedByTheConnectTimeout) {
  const auto o = run_connect([](FakeSession&, const FakeRequest&) {}, 400ms);
  expect_connect_error(o, client_errc::timeout, 2s, "(ApiVersions)");
  EXPECT_GE(o.took, 400ms);
}

TEST(ConnectionFakeBroker, HandshakeGarbageBeforeAnything) {
  const auto o = run_connect([](FakeSession& s, const FakeRequest&) {
    const std::string http = "HTTP/1.1 400 Bad Request\r\n\r\n";
    s.write(bytes(http.begin(), http.end()));
  });
  expect_connect_error(o, client_errc::frame_too_large, 2s);
}

TEST(ConnectionFakeBroker, HandshakeUnsupportedVersionTwiceGivesUp) {
  auto calls = std::make_shared<int>(0);
  const auto o = run_connect([calls](FakeSession& s, const FakeRequest& r) {
    ++*calls;
    s.respond(r, bytes{0, 35, 0, 0, 0, 0});  // error 35 and an empty list, in the v0 layout (KIP-511)
  });
  expect_connect_error(o, client_errc::unsupported_version, 2s);
  EXPECT_EQ(*calls, 2);  // one fallback, then it gives up
}

TEST(ConnectionFakeBroker, HandshakeFallbackIgnoresANegativeListedVersion) {
  // KIP-511 rejection listing ApiVersions with max version -1 (found by the handshake fuzz
  // target): the retry goes out in v0, not in version -1.
  auto versions = std::make_shared<std::vector<std::int16_t>>();
  const auto o = run_connect([versions](FakeSession& s, const FakeRequest& r) {
    if (r.api_key != msg::ApiVersionsRequest::api_key) return;
    versions->push_back(r.api_version);
    if (versions->size() == 1) {
      // v0 layout: error 35, one entry {key 18, min 0, max -1}
      return s.respond(r, bytes{0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0xff, 0xff});
    }
    s.answer_api_versions(r);
  });
  EXPECT_TRUE(o.connected) << o.what;
  EXPECT_EQ(*versions, (std::vector<std::int16_t>{msg::ApiVersionsRequest::max_version, 0}));
}

TEST(ConnectionFakeBroker, SaslHandshakeGarbageAndSilence) {
  const auto garbage = run_connect(
      [](FakeSession& s, const FakeRequest& r) {
        if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
        s.respond(r, bytes{0, 0, 0, 0, 0, 9});  // a mechanism list of 9 entries with no bytes
      },
      3s, plain_sasl());
  expect_connect_error(garbage, client_errc::truncated, 2s, "SaslHandshake");

  const auto silent = run_connect(
      [](FakeSession& s, const FakeRequest& r) {
        if (r.api_key == msg::ApiVersionsRequest::api_key) s.answer_api_versions(r);
      },
      400ms, plain_sasl());
  expect_connect_error(silent, client_errc::timeout, 2s, "(SASL)");
}

// ---- SASL: awaitable token provider and KIP-368 re-authentication --------------------------

struct ReauthOutcome {
  std::size_t ok = 0;
  std::size_t failed = 0;
  std::error_code first_error;
  std::string first_what;
  net::delivery first_sent = net::delivery::not_sent;
  std::uint64_t reauthentications = 0;
  std::int64_t session_lifetime_ms = -1;
  bool open = false;
  bool connect_failed = false;
};

// Sends `rounds` rounds of `per_round` concurrent Metadata requests, `gap` apart.
asio::awaitable<ReauthOutcome> serve_for_a_while(std::shared_ptr<SaslBrokerState> st, SaslConfig sasl, int rounds,
                                                 std::size_t per_round, std::chrono::milliseconds gap,
                                                 std::chrono::milliseconds connect_timeout) {
  auto ex = co_await asio::this_coro::executor;
  FakeBroker broker(ex);
  broker.on_request(sasl_broker(st));
  net::connection_options options;
  options.sasl = std::move(sasl);
  options.connect_timeout = connect_timeout;
  options.request_timeout = 3s;
  const std::string host = broker.host();
  ReauthOutcome out;
  auto connected = co_await net::connect(ex, host, broker.port(), options);
  if (!connected) {
    out.connect_failed = true;
    out.first_error = connected.error().code;
    out.first_what = connected.error().message;
    out.first_sent = connected.error().sent;
    co_return out;
  }
  std::optional<net::connection> conn;
  conn.emplace(std::move(connected).value());
  for (int round = 0; round < rounds && conn->is_open(); ++round) {
    std::vector<SendResult> results(per_round);
    Latch latch(ex, per_round);
    for (auto& r : results) spawn_metadata(ex, *conn, r, latch);
    const bool all = co_await latch.wait(10s);
    if (!all) co_await conn->close();
    (void)co_await latch.wait(5s);
    for (const auto& r : results) {
      if (r.ok) {
        ++out.ok;
      } else if (out.failed++ == 0) {
        out.first_error = r.ec;
        out.first_what = r.what;
        out.first_sent = r.sent;
      }
    }
    co_await pause(gap);  // pacing, not synchronisation
  }
  out.reauthentications = conn->reauthentications();
  out.session_lifetime_ms = conn->session_lifetime_ms();
  out.open = conn->is_open();
  co_await conn->close();
  co_return out;
}

ReauthOutcome run_reauth(std::shared_ptr<SaslBrokerState> st, SaslConfig sasl, int rounds, std::size_t per_round,
                         std::chrono::milliseconds gap, std::chrono::milliseconds connect_timeout = 3s) {
  return run_async(serve_for_a_while(std::move(st), std::move(sasl), rounds, per_round, gap, connect_timeout), 60s);
}

/// A token provider that counts its calls and returns "token-<n>" after a short wait.
std::function<asio::awaitable<std::string>()> counting_provider(std::shared_ptr<int> calls) {
  return [calls]() -> asio::awaitable<std::string> {
    const int n = ++*calls;
    co_await pause(5ms);  // really asynchronous
    co_return "token-" + std::to_string(n);
  };
}

SaslConfig async_oauth(std::function<asio::awaitable<std::string>()> provider) {
  SaslConfig sasl{.mechanism = SaslConfig::Mechanism::oauthbearer};
  sasl.oauth_token_provider_async = std::move(provider);
  return sasl;
}

TEST(ConnectionFakeBroker, AsyncTokenProviderIsAwaitedBeforeAuthenticating) {
  auto st = std::make_shared<SaslBrokerState>();
  auto calls = std::make_shared<int>(0);
  const auto o = run_reauth(st, async_oauth(counting_provider(calls)), 1, 1, 0ms);
  EXPECT_FALSE(o.connect_failed) << o.first_what;
  EXPECT_EQ(o.ok, 1u) << o.first_what;
  EXPECT_EQ(*calls, 1);
  EXPECT_EQ(st->tokens, std::vector<std::string>{"token-1"});
  EXPECT_EQ(o.reauthentications, 0u);  // lifetime 0: never
  EXPECT_EQ(st->violations, "");
}

TEST(ConnectionFakeBroker, AsyncTokenProviderThatThrows) {
  auto st = std::make_shared<SaslBrokerState>();
  const auto o = run_reauth(st, async_oauth([]() -> asio::awaitable<std::string> {
                              co_await pause(1ms);
                              throw std::runtime_error("identity provider unreachable");
                            }),
                            1, 1, 0ms);
  ASSERT_TRUE(o.connect_failed);
  EXPECT_EQ(o.first_error, sasl_errc::token_provider_failed) << o.first_what;
  EXPECT_NE(o.first_what.find("identity provider unreachable"), std::string::npos) << o.first_what;
  EXPECT_TRUE(st->tokens.empty());
}

TEST(ConnectionFakeBroker, AsyncTokenProviderThatThrowsBeforeItsFirstAwait) {
  auto st = std::make_shared<SaslBrokerState>();
  const auto o = run_reauth(st, async_oauth([]() -> asio::awaitable<std::string> {
                              throw std::runtime_error("no credentials configured");
                            }),
                            1, 1, 0ms);
  ASSERT_TRUE(o.connect_failed);
  EXPECT_EQ(o.first_error, sasl_errc::token_provider_failed) << o.first_what;
  EXPECT_NE(o.first_what.find("no credentials configured"), std::string::npos) << o.first_what;
}

TEST(ConnectionFakeBroker, AsyncTokenProviderThatNeverAnswersIsCancelledAtTheConnectTimeout) {
  auto st = std::make_shared<SaslBrokerState>();
  auto cancelled = std::make_shared<bool>(false);
  const auto start = clock_type::now();
  const auto o = run_reauth(st, async_oauth([cancelled]() -> asio::awaitable<std::string> {
                              try {
                                co_await pause(std::chrono::hours(1));
                              } catch (const boost::system::system_error&) {
                                *cancelled = true;
                                throw;
                              }
                              co_return "never";
                            }),
                            1, 1, 0ms, 400ms);
  ASSERT_TRUE(o.connect_failed);
  EXPECT_EQ(o.first_error, client_errc::timeout) << o.first_what;
  EXPECT_NE(o.first_what.find("OAUTHBEARER token provider"), std::string::npos) << o.first_what;
  EXPECT_LT(clock_type::now() - start, 3s);
  EXPECT_TRUE(*cancelled);
}

TEST(ConnectionFakeBroker, ReauthenticatesInBandBeforeTheSessionExpires) {
  auto st = std::make_shared<SaslBrokerState>();
  st->lifetime_ms = 300;
  auto calls = std::make_shared<int>(0);
  // ~1.5 s of traffic: 30 rounds of 4 concurrent requests, 50 ms apart.
  const auto o = run_reauth(st, async_oauth(counting_provider(calls)), 30, 4, 50ms);
  EXPECT_FALSE(o.connect_failed) << o.first_what;
  EXPECT_EQ(o.failed, 0u) << o.first_error.message() << ": " << o.first_what;
  EXPECT_EQ(o.ok, 120u);
  EXPECT_TRUE(o.open);
  EXPECT_GE(o.reauthentications, 3u);
  EXPECT_EQ(st->expired_requests, 0u);  // never used an expired session
  EXPECT_EQ(st->violations, "");        // nothing between SaslHandshake and SaslAuthenticate
  EXPECT_EQ(static_cast<std::uint64_t>(*calls), o.reauthentications + 1);  // a fresh token each time
  ASSERT_EQ(st->tokens.size(), static_cast<std::size_t>(*calls));
  EXPECT_EQ(st->tokens.back(), "token-" + std::to_string(*calls));
  EXPECT_EQ(o.session_lifetime_ms, 300);
}

// A send waiting at the re-authentication gate can be cancelled by its caller: it completes at
// once with operation_canceled and not_sent, is never written, and the re-authentication and the
// connection go on.
asio::awaitable<std::string> cancel_at_the_gate() {
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<SaslBrokerState>();
  st->lifetime_ms = 100;
  FakeSession* held_session = nullptr;
  std::optional<FakeRequest> held;  // the second SaslHandshake, answered by the test
  const Handler inner = sasl_broker(st);
  FakeBroker broker(ex);
  broker.on_request([&](FakeSession& s, const FakeRequest& r) {
    if (r.api_key == msg::SaslHandshakeRequest::api_key && st->authentications == 1 && !held) {
      held_session = &s;
      held = r;
      return;
    }
    inner(s, r);
  });
  net::connection_options options;
  options.sasl = plain_sasl();
  const std::string host = broker.host();
  auto connected = co_await net::connect(ex, host, broker.port(), options);
  net::connection conn = unwrap(std::move(connected));
  std::string log;

  net::typed_request<msg::MetadataRequest> gated(msg::MetadataRequest{});
  std::optional<asio::awaitable<net::failure>> gated_send;
  std::size_t answered = 0;
  log += co_await send_until_held(conn, gated, gated_send, answered, 5s);
  if (!gated_send) co_return log;
  bool done = false;
  net::failure result;
  asio::cancellation_signal cancel;
  spawn_await(
      ex, std::move(*gated_send),
      [&](net::failure f) {
        done = true;
        result = std::move(f);
      },
      cancel.slot());
  // The re-authentication is under way once the broker has read its SaslHandshake; the broker
  // holds that answer, so the gate stays closed.
  if (!co_await eventually_async([&] { return held.has_value(); }, 3s)) log += "no re-authentication started; ";
  if (done) log += "the held request completed before the re-authentication: " + failure_text(result) + "; ";
  const std::size_t served_before = st->served;
  cancel.emit(asio::cancellation_type::terminal);
  if (!co_await eventually_async([&] { return done; }, 2s)) log += "the cancelled request did not complete; ";
  if (result.code != std::errc::operation_canceled) log += "cancelled with " + failure_text(result) + "; ";
  if (result.sent != net::delivery::not_sent) log += "a request cancelled at the gate says maybe_sent; ";
  if (conn.held() != 0) log += "held " + std::to_string(conn.held()) + " after the cancel; ";
  if (!conn.is_open()) log += "closed by the cancel; ";
  if (held && held_session != nullptr) {
    const FakeRequest r = *held;
    inner(*held_session, r);  // let the re-authentication finish
  }
  const msg::MetadataRequest request{};
  const auto md = co_await conn.send(request);
  if (!md) {
    log += "Metadata after the cancel failed: " + failure_text(md.error()) + "; ";
  } else if (md.value()->cluster_id != std::optional<std::string>("fake-cluster")) {
    log += "Metadata after the cancel is wrong; ";
  }
  if (conn.reauthentications() != 1) log += "reauthentications " + std::to_string(conn.reauthentications()) + "; ";
  // The cancelled request was never written: only the one after it reached the broker.
  if (st->served != served_before + 1 || served_before != answered) {
    log += "served " + std::to_string(st->served) + " after " + std::to_string(answered) + " answered (the cancelled one must not be sent); ";
  }
  if (!st->violations.empty()) log += st->violations;
  co_await conn.close();
  broker.stop();
  co_return log;
}

TEST(ConnectionFakeBroker, CancellingASendHeldByReauthentication) {
  EXPECT_EQ(run_async(cancel_at_the_gate(), 10s), "");
}

TEST(ConnectionFakeBroker, ReauthenticatesWithPlainToo) {
  auto st = std::make_shared<SaslBrokerState>();
  st->lifetime_ms = 200;
  const auto o = run_reauth(st, plain_sasl(), 20, 2, 40ms);
  EXPECT_EQ(o.failed, 0u) << o.first_what;
  EXPECT_GE(o.reauthentications, 2u);
  EXPECT_EQ(st->expired_requests, 0u);
  EXPECT_EQ(st->violations, "");
}

TEST(ConnectionFakeBroker, FailedReauthenticationFailsTheConnectionWithTheAuthError) {
  auto st = std::make_shared<SaslBrokerState>();
  st->lifetime_ms = 200;
  st->fail_from_authentication = 1;  // the first re-authentication is refused
  const auto o = run_reauth(st, plain_sasl(), 20, 3, 40ms);
  EXPECT_GE(o.ok, 3u);
  EXPECT_GE(o.failed, 1u);
  EXPECT_EQ(o.first_error, kafka_errc::sasl_authentication_failed) << o.first_what;
  EXPECT_EQ(o.first_sent, net::delivery::not_sent) << o.first_what;  // held at the gate, never written
  EXPECT_NE(o.first_what.find("re-authentication"), std::string::npos) << o.first_what;
  EXPECT_NE(o.first_what.find("credentials revoked"), std::string::npos) << o.first_what;
  EXPECT_FALSE(o.open);
  EXPECT_EQ(o.reauthentications, 0u);
  EXPECT_EQ(st->expired_requests, 0u);
}

TEST(ConnectionFakeBroker, ReauthTokenProviderFailureFailsTheConnection) {
  auto st = std::make_shared<SaslBrokerState>();
  st->lifetime_ms = 200;
  auto calls = std::make_shared<int>(0);
  const auto o = run_reauth(st, async_oauth([calls]() -> asio::awaitable<std::string> {
                              if (++*calls > 1) throw std::runtime_error("token refresh failed");
                              co_await pause(1ms);
                              co_return std::string("token-1");
                            }),
                            20, 2, 40ms);
  EXPECT_GE(o.ok, 2u);
  EXPECT_EQ(o.first_error, sasl_errc::token_provider_failed) << o.first_what;
  EXPECT_EQ(o.first_sent, net::delivery::not_sent) << o.first_what;  // held at the gate, never written
  EXPECT_NE(o.first_what.find("token refresh failed"), std::string::npos) << o.first_what;
  EXPECT_FALSE(o.open);
}

TEST(ConnectionFakeBroker, ReauthTokenProviderIgnoringCancellationIsStillBounded) {
  auto st = std::make_shared<SaslBrokerState>();
  st->lifetime_ms = 200;
  auto calls = std::make_shared<int>(0);
  const auto start = clock_type::now();
  const auto o = run_reauth(st, async_oauth([calls]() -> asio::awaitable<std::string> {
                              if (++*calls > 1) {
                                // Deaf to cancellation: an empty slot detaches the wait from it.
                                asio::steady_timer t(co_await asio::this_coro::executor, 1500ms);
                                co_await t.async_wait(asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
                              }
                              co_return std::string("token-") + std::to_string(*calls);
                            }),
                            20, 1, 40ms, 300ms);
  EXPECT_EQ(o.first_error, sasl_errc::token_provider_failed) << o.first_what;
  EXPECT_EQ(o.first_sent, net::delivery::not_sent) << o.first_what;  // held at the gate, never written
  EXPECT_NE(o.first_what.find("did not return within 300 ms"), std::string::npos) << o.first_what;
  EXPECT_FALSE(o.open);
  EXPECT_LT(clock_type::now() - start, 5s);
}

}  // namespace
}  // namespace asiokafka::test
