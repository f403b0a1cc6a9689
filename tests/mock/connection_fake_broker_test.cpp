// net::Connection against a FakeBroker (tests/support/fake_broker.hpp) that does what a real
// broker never does: an unknown correlation id, responses out of order, a truncated frame and a
// close, a body that does not decode, negative and oversize frame lengths, garbage, silence, and
// the same faults during the handshake. Each time the misbehaving connection closes, every
// pending request fails with a typed error within a bound, and a second connection on the same
// io_context goes on working. Also: the awaitable OAUTHBEARER token provider and KIP-368
// re-authentication against a fake SASL broker that enforces session expiry.
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
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/kafka_error.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/fake_broker.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using asio::use_awaitable;
using clock_type = std::chrono::steady_clock;
using bytes = std::vector<std::uint8_t>;
using Handler = FakeBroker::Handler;

/// Waits until `count` operations have arrived, at most a given time.
class Latch {
 public:
  Latch(const asio::any_io_executor& ex, std::size_t count) : timer_(ex, clock_type::time_point::max()), count_(count) {}
  void arrive() {
    if (count_ > 0 && --count_ == 0) timer_.cancel();
  }
  asio::awaitable<bool> wait(std::chrono::milliseconds limit) {
    if (count_ > 0) {
      timer_.expires_after(limit);
      boost::system::error_code ignored;
      co_await timer_.async_wait(asio::redirect_error(use_awaitable, ignored));
    }
    co_return count_ == 0;
  }
  std::size_t remaining() const noexcept { return count_; }

 private:
  asio::steady_timer timer_;
  std::size_t count_;
};

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_awaitable);
}

struct SendResult {
  bool done = false;
  bool ok = false;
  std::error_code ec;
  std::string what;
};

void record_error(std::exception_ptr e, SendResult& out) {
  try {
    std::rethrow_exception(e);
  } catch (const std::system_error& x) {
    out.ec = x.code();
    out.what = x.what();
  } catch (const std::exception& x) {
    out.ec = std::make_error_code(std::errc::io_error);
    out.what = std::string("unexpected exception type: ") + x.what();
  }
}

/// Starts a Metadata request on `conn`; `out` and `latch` must outlive its completion.
void spawn_metadata(const asio::any_io_executor& ex, net::Connection& conn, SendResult& out, Latch& latch) {
  const msg::MetadataRequest request{};
  asio::co_spawn(ex, conn.send(request),
                 [&out, &latch](std::exception_ptr e, net::response<msg::MetadataResponse> r) {
                   out.done = true;
                   if (e) {
                     record_error(e, out);
                   } else {
                     out.ok = r->cluster_id == std::optional<std::string>("fake-cluster");
                   }
                   latch.arrive();
                 });
}

void answer_metadata(FakeSession& s, const FakeRequest& r) {
  msg::MetadataResponse md;
  md.cluster_id = "fake-cluster";
  s.respond(r, md);
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
  bool good_ok = false;
  std::string good_error;
  clock_type::duration took{};
  std::size_t accepted = 0;
};

// Connection 0 misbehaves (`bad` handles its requests after ApiVersions), connection 1 on the
// same broker and io_context answers Metadata. `pipelined` Metadata requests run concurrently
// on connection 0; then connection 1 must still work.
asio::awaitable<Outcome> misbehave_after_connect(Handler bad, std::size_t pipelined, net::ConnectionOptions options) {
  auto ex = co_await asio::this_coro::executor;
  FakeBroker broker(ex);
  broker.on_request([bad](FakeSession& s, const FakeRequest& r) {
    if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
    if (r.connection == 0) return bad(s, r);
    answer_metadata(s, r);
  });
  const std::string host = broker.host();
  net::Connection bad_conn = co_await net::connect(ex, host, broker.port(), options);
  net::Connection good_conn = co_await net::connect(ex, host, broker.port(), options);

  Outcome out;
  out.sends.resize(pipelined);
  Latch latch(ex, pipelined);
  const auto start = clock_type::now();
  for (auto& r : out.sends) spawn_metadata(ex, bad_conn, r, latch);
  out.all_done = co_await latch.wait(10s);
  out.took = clock_type::now() - start;
  out.bad_open = bad_conn.is_open();
  try {
    const msg::MetadataRequest request{};
    const auto md = co_await good_conn.send(request);
    out.good_ok = md->cluster_id == std::optional<std::string>("fake-cluster");
  } catch (const std::exception& e) {
    out.good_error = e.what();
  }
  out.accepted = broker.accepted();
  co_await good_conn.close();
  co_await bad_conn.close();
  (void)co_await latch.wait(5s);  // the completions reference `out` and `latch`
  co_return out;
}

Outcome run_fault(Handler bad, std::size_t pipelined = 3, std::chrono::milliseconds request_timeout = 5s,
                  std::size_t max_response_bytes = 100 * 1024 * 1024) {
  net::ConnectionOptions options;
  options.request_timeout = request_timeout;
  options.connect_timeout = 5s;
  options.max_response_bytes = max_response_bytes;
  return run_async(misbehave_after_connect(std::move(bad), pipelined, std::move(options)), 30s);
}

/// Every pending request failed with `code`, the bad connection closed, quickly, and the other
/// connection still works.
void expect_failed_with(const Outcome& o, std::error_code code, std::chrono::milliseconds bound,
                        const std::string& in_message = {}) {
  ASSERT_TRUE(o.all_done) << "a request never completed";
  for (const auto& s : o.sends) {
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.ec, code) << s.ec.message() << ": " << s.what;
    if (!in_message.empty()) {
      EXPECT_NE(s.what.find(in_message), std::string::npos) << s.what;
    }
    EXPECT_NE(s.what.find("127.0.0.1:"), std::string::npos) << s.what;  // names the broker
  }
  EXPECT_FALSE(o.bad_open);
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
  auto answered = std::make_shared<bool>(false);
  const auto o = run_fault([answered](FakeSession& s, const FakeRequest& r) {
    if (*answered) return;  // the others stay unanswered: the connection must fail them
    *answered = true;
    s.respond(r, bytes{0xff});  // a Metadata body of one byte
  });
  ASSERT_TRUE(o.all_done);
  ASSERT_EQ(o.sends.size(), 3u);
  const auto code = o.sends[0].ec;
  EXPECT_TRUE(code == client_errc::truncated || code == client_errc::malformed) << code.message();
  EXPECT_NE(o.sends[0].what.find("does not decode"), std::string::npos) << o.sends[0].what;
  expect_failed_with(o, code, 2s);
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
  net::ConnectionOptions options;
  const std::string host = broker.host();
  net::Connection conn = co_await net::connect(ex, host, broker.port(), options);
  std::string log;
  msg::ProduceRequest produce;
  produce.acks = 0;
  produce.timeout_ms = 1000;
  const auto written = co_await conn.send(produce);
  if (!written.storage.empty()) log += "acks=0 produced a response body; ";
  try {
    const msg::MetadataRequest request{};
    (void)co_await conn.send(request);
    log += "Metadata succeeded; ";
  } catch (const std::system_error& e) {
    if (e.code() != client_errc::correlation_mismatch) log += std::string("unexpected error: ") + e.what() + "; ";
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
  net::ConnectionOptions options;
  const std::string host = broker.host();
  net::Connection conn = co_await net::connect(ex, host, broker.port(), options);
  std::string log;
  const msg::MetadataRequest request{};
  try {
    (void)co_await conn.send(request);
    log += "the broken response was accepted; ";
  } catch (const std::system_error& e) {
    if (e.code() != client_errc::truncated) log += std::string("unexpected error: ") + e.what() + "; ";
  }
  const auto md = co_await conn.send(request);
  if (md->cluster_id != std::optional<std::string>("fake-cluster")) log += "next Metadata wrong; ";
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

asio::awaitable<ConnectOutcome> connect_to(Handler handler, net::ConnectionOptions options) {
  auto ex = co_await asio::this_coro::executor;
  FakeBroker broker(ex);
  broker.on_request(std::move(handler));
  ConnectOutcome out;
  const std::string host = broker.host();
  const auto start = clock_type::now();
  try {
    net::Connection conn = co_await net::connect(ex, host, broker.port(), options);
    out.connected = true;
    co_await conn.close();
  } catch (const std::system_error& e) {
    out.ec = e.code();
    out.what = e.what();
  }
  out.took = clock_type::now() - start;
  co_return out;
}

ConnectOutcome run_connect(Handler handler, std::chrono::milliseconds connect_timeout = 3s,
                           std::optional<SaslConfig> sasl = std::nullopt) {
  net::ConnectionOptions options;
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
  const auto o = run_connect([](FakeSession& s, const FakeRequest& r) { s.respond(r, bytes{0, 0, 0xff, 0xff, 0xff}); });
  EXPECT_FALSE(o.connected);
  EXPECT_TRUE(o.ec == client_errc::truncated || o.ec == client_errc::malformed) << o.ec.message() << ": " << o.what;
  EXPECT_NE(o.what.find("ApiVersions"), std::string::npos) << o.what;
  EXPECT_LT(o.took, 2s);
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

SaslConfig plain_sasl() {
  return {.mechanism = SaslConfig::Mechanism::plain, .username = "u", .password = "p"};
}

TEST(ConnectionFakeBroker, SaslHandshakeGarbageAndSilence) {
  const auto garbage = run_connect(
      [](FakeSession& s, const FakeRequest& r) {
        if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
        s.respond(r, bytes{0, 0, 0, 0, 0, 9});  // a mechanism list of 9 entries with no bytes
      },
      3s, plain_sasl());
  EXPECT_FALSE(garbage.connected);
  EXPECT_TRUE(garbage.ec == client_errc::truncated || garbage.ec == client_errc::malformed)
      << garbage.ec.message() << ": " << garbage.what;
  EXPECT_NE(garbage.what.find("SaslHandshake"), std::string::npos) << garbage.what;

  const auto silent = run_connect(
      [](FakeSession& s, const FakeRequest& r) {
        if (r.api_key == msg::ApiVersionsRequest::api_key) s.answer_api_versions(r);
      },
      400ms, plain_sasl());
  expect_connect_error(silent, client_errc::timeout, 2s, "(SASL)");
}

// ---- SASL: awaitable token provider and KIP-368 re-authentication --------------------------

/// A fake SASL broker: PLAIN and OAUTHBEARER are accepted, sessions expire after
/// `lifetime_ms`, and like Kafka it closes a connection that sends anything but SaslHandshake
/// after its session expired.
struct SaslBrokerState {
  std::int64_t lifetime_ms = 0;
  std::size_t fail_from_authentication = SIZE_MAX;  // 0-based; later ones fail with error 58
  std::vector<std::string> tokens;                  // OAUTHBEARER tokens seen, in order
  std::size_t authentications = 0;
  std::size_t served = 0;
  std::size_t expired_requests = 0;
  bool expecting_authenticate = false;
  clock_type::time_point expires = clock_type::time_point::max();
  std::string violations;
};

Handler sasl_broker(std::shared_ptr<SaslBrokerState> st) {
  return [st](FakeSession& s, const FakeRequest& r) {
    if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
    if (r.api_key == msg::SaslHandshakeRequest::api_key) {
      if (st->expecting_authenticate) st->violations += "SaslHandshake twice; ";
      msg::SaslHandshakeResponse response;
      response.mechanisms = {"PLAIN", "OAUTHBEARER"};
      s.respond(r, response);
      st->expecting_authenticate = true;
      return;
    }
    if (r.api_key == msg::SaslAuthenticateRequest::api_key) {
      if (!st->expecting_authenticate) st->violations += "SaslAuthenticate without SaslHandshake; ";
      st->expecting_authenticate = false;
      msg::SaslAuthenticateRequest request;
      if (request.decode(r.body, r.api_version)) st->violations += "undecodable SaslAuthenticate; ";
      const std::string auth(request.auth_bytes.begin(), request.auth_bytes.end());
      const auto at = auth.find("auth=Bearer ");
      if (at != std::string::npos) {
        const auto from = at + 12;
        st->tokens.push_back(auth.substr(from, auth.find('\x01', from) - from));
      }
      msg::SaslAuthenticateResponse response;
      if (st->authentications++ >= st->fail_from_authentication) {
        response.error_code = 58;
        response.error_message = "Authentication failed: credentials revoked";
      } else {
        response.session_lifetime_ms = st->lifetime_ms;
        st->expires = st->lifetime_ms > 0 ? clock_type::now() + std::chrono::milliseconds(st->lifetime_ms)
                                          : clock_type::time_point::max();
      }
      s.respond(r, response);
      return;
    }
    if (st->expecting_authenticate) st->violations += "a request between SaslHandshake and SaslAuthenticate; ";
    if (clock_type::now() > st->expires) {
      ++st->expired_requests;  // what Kafka does with an expired session
      s.close();
      return;
    }
    ++st->served;
    answer_metadata(s, r);
  };
}

struct ReauthOutcome {
  std::size_t ok = 0;
  std::size_t failed = 0;
  std::error_code first_error;
  std::string first_what;
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
  net::ConnectionOptions options;
  options.sasl = std::move(sasl);
  options.connect_timeout = connect_timeout;
  options.request_timeout = 3s;
  const std::string host = broker.host();
  ReauthOutcome out;
  std::optional<net::Connection> conn;
  try {
    conn.emplace(co_await net::connect(ex, host, broker.port(), options));
  } catch (const std::system_error& e) {
    out.connect_failed = true;
    out.first_error = e.code();
    out.first_what = e.what();
    co_return out;
  }
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

// A send waiting at the re-authentication gate can be cancelled by its caller; the
// re-authentication and the connection go on.
asio::awaitable<std::string> cancel_at_the_gate() {
  using namespace asio::experimental::awaitable_operators;
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
  net::ConnectionOptions options;
  options.sasl = plain_sasl();
  const std::string host = broker.host();
  net::Connection conn = co_await net::connect(ex, host, broker.port(), options);
  co_await pause(150ms);  // past the re-authentication point
  std::string log;
  const msg::MetadataRequest request{};
  asio::steady_timer limit(ex, 200ms);
  try {
    auto winner = co_await (conn.send(request) || limit.async_wait(use_awaitable));
    if (winner.index() == 0) log += "answered while the re-authentication was held; ";
  } catch (const std::system_error& e) {
    log += std::string("cancel threw ") + e.what() + "; ";
  }
  if (!held) log += "no re-authentication started; ";
  if (!conn.is_open()) log += "closed by the cancel; ";
  if (held && held_session != nullptr) {
    const FakeRequest r = *held;
    inner(*held_session, r);  // let the re-authentication finish
  }
  const auto md = co_await conn.send(request);
  if (md->cluster_id != std::optional<std::string>("fake-cluster")) log += "Metadata after the cancel failed; ";
  if (conn.reauthentications() != 1) log += "reauthentications " + std::to_string(conn.reauthentications()) + "; ";
  if (st->served != 1) log += "served " + std::to_string(st->served) + " (the cancelled one must not be sent); ";
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
  EXPECT_NE(o.first_what.find("did not return within 300 ms"), std::string::npos) << o.first_what;
  EXPECT_FALSE(o.open);
  EXPECT_LT(clock_type::now() - start, 5s);
}

}  // namespace
}  // namespace asiokafka::test
