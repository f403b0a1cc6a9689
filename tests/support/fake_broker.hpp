// FakeBroker: a scripted Kafka broker on 127.0.0.1 for tests of what a real broker never does
// (unknown correlation ids, responses out of order, truncated or oversize frames, bodies that
// do not decode, garbage, silence, a close in the middle of a handshake).
//
// It runs on the test's own executor (no thread): an acceptor on an ephemeral port, and per
// accepted connection a reader that parses request frames and a writer that sends what the
// handler queued, in order. Every request goes to one handler, called on the executor:
//
//   FakeBroker broker(co_await asio::this_coro::executor);
//   broker.on_request([](FakeSession& s, const FakeRequest& r) {
//     if (r.api_key == 18) return s.answer_api_versions(r);        // so net::connect succeeds
//     s.respond_with_correlation(r, r.correlation_id + 7, {});       // then misbehave
//   });
//   auto c = co_await net::connect(ex, broker.host(), broker.port(), options);  // an outcome
//
// script({step0, step1, ...}, then) is the common form: ApiVersions is answered for you, the
// n-th other request of each connection goes to step n, later ones to `then` (none: silence).
// Handlers are plain functions (no coroutines): they queue writes and may keep a FakeRequest to
// answer later (out of order), or answer slowly through FakeSession::later(). stop() (also the
// destructor) closes the listener and every connection and drops the handler; nothing is
// called after it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace asiokafka::test {

/// One request as the fake broker read it.
struct FakeRequest {
  std::size_t connection = 0;  ///< 0-based, in accept order
  std::size_t index = 0;       ///< 0-based position among the requests of its connection
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  std::int32_t correlation_id = 0;
  std::optional<std::string> client_id;
  std::vector<std::uint8_t> body;  ///< after the request header
};

/// One accepted connection. Writes are queued and go out in order; all calls are non-blocking.
class FakeSession {
 public:
  ~FakeSession();
  FakeSession(const FakeSession&) = delete;
  FakeSession& operator=(const FakeSession&) = delete;

  /// 0-based, in accept order (FakeRequest::connection).
  std::size_t id() const noexcept { return id_; }

  /// A well-formed response to `r`: size prefix, response header in the version the API and
  /// version call for (v0 for ApiVersions), then `body`.
  void respond(const FakeRequest& r, std::span<const std::uint8_t> body);
  /// A generated response message, encoded in the request's version.
  template <class Message>
    requires requires(const Message& m, std::vector<std::uint8_t>& out) { m.encode(out, std::int16_t{}); }
  void respond(const FakeRequest& r, const Message& message) {
    std::vector<std::uint8_t> body;
    if (const auto ec = message.encode(body, r.api_version)) throw std::system_error(ec, "FakeSession::respond");
    respond(r, body);
  }
  /// Like respond(), with any correlation id.
  void respond_with_correlation(const FakeRequest& r, std::int32_t correlation_id, std::span<const std::uint8_t> body);
  /// Raw bytes, no framing (garbage, a bad size prefix, half a frame).
  void write(std::vector<std::uint8_t> bytes);
  /// Closes the connection once the queued bytes are written.
  void close();
  /// Answers ApiVersions in the request's version with every API and version the codec implements.
  void answer_api_versions(const FakeRequest& r);
  /// Answers Metadata for a one-broker cluster: node 0 at 127.0.0.1:`port` is the only broker
  /// and leads partitions 0..`partitions`-1 of `topic` at `leader_epoch`.
  void answer_single_broker_metadata(const FakeRequest& r, std::uint16_t port, const std::string& topic,
                                     std::int32_t partitions = 1, std::int32_t leader_epoch = 0);
  /// Whether close() was called or the connection ended.
  bool closed() const noexcept;
  /// Calls `action` with this session after `delay` (a slow broker), unless the session has
  /// ended or close() was called by then. Runs on the broker's executor, like the handler.
  void later(std::chrono::milliseconds delay, std::function<void(FakeSession&)> action);

 private:
  friend class FakeBroker;
  struct Io;
  FakeSession(std::size_t id, std::unique_ptr<Io> io);
  std::size_t id_;
  std::unique_ptr<Io> io_;
  std::weak_ptr<FakeSession> self_;  // for later()
};

class FakeBroker {
 public:
  using Handler = std::function<void(FakeSession&, const FakeRequest&)>;

  /// Listens on 127.0.0.1 (an ephemeral port) on `executor`; accepting starts at once.
  /// Until a handler is set, ApiVersions is answered and everything else is ignored.
  explicit FakeBroker(boost::asio::any_io_executor executor);
  ~FakeBroker();
  FakeBroker(const FakeBroker&) = delete;
  FakeBroker& operator=(const FakeBroker&) = delete;

  /// Every request of every connection goes to `handler`.
  void on_request(Handler handler);
  /// ApiVersions is answered automatically; the n-th other request of each connection goes to
  /// steps[n], later ones to `then` (empty: never answered).
  void script(std::vector<Handler> steps, Handler then = {});

  std::string host() const { return "127.0.0.1"; }
  std::uint16_t port() const noexcept;
  /// Connections accepted so far.
  std::size_t accepted() const noexcept;
  /// Every request received so far, in arrival order.
  const std::vector<FakeRequest>& requests() const noexcept;
  /// Stops listening, closes every connection and drops the handler. Idempotent.
  void stop();

 private:
  struct Core;
  static boost::asio::awaitable<void> accept_loop(std::shared_ptr<Core> core);
  static boost::asio::awaitable<void> read_loop(std::shared_ptr<Core> core, std::shared_ptr<FakeSession> session);
  static boost::asio::awaitable<void> write_loop(std::shared_ptr<FakeSession> session);
  std::shared_ptr<Core> core_;
};

}  // namespace asiokafka::test
