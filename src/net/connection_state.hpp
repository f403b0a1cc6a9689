// The state behind a net::connection handle, shared by connection.cpp (requests and loops) and
// handshake.cpp (TCP, TLS, ApiVersions, SASL, re-authentication). Private to those two files.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/connection.hpp"
#include "net/notifier.hpp"
#include "net/sansio/frame_reader.hpp"
#include "net/sansio/multiplexer.hpp"
#include "net/sansio/reauth.hpp"
#include "net/sansio/time.hpp"

namespace asiokafka::net::impl {

using tcp = boost::asio::ip::tcp;

class connection_state;

/// A request whose body is already encoded in one fixed version: the handshake's own requests.
/// The answer body is kept undecoded (the sans-I/O exchange reads it).
class raw_request final : public request_base {
 public:
  raw_request(std::int16_t key, std::int16_t fixed_version, std::vector<std::uint8_t> body)
      : request_base(key, fixed_version, fixed_version, true), body_(std::move(body)) {}
  std::error_code encode(std::int16_t, std::vector<std::uint8_t>& out) const override {
    out = body_;
    return {};
  }
  std::error_code decode(frame body, std::int16_t) override {
    answer = std::move(body);
    return {};
  }
  std::int16_t top_level_error() const noexcept override { return 0; }
  std::int32_t throttle_time_ms() const noexcept override { return 0; }

  frame answer;

 private:
  std::vector<std::uint8_t> body_;
};

/// One submitted request, from send() until its completion. Owned by the waiting coroutine;
/// the state knows it by pointer while it is held or in the multiplexer, and the destructor
/// takes it back out (a request whose waiter is gone is cancelled).
struct call {
  call(std::shared_ptr<connection_state> s, request_base& r, time_point d);
  ~call();
  call(const call&) = delete;
  call& operator=(const call&) = delete;

  /// Completes before the multiplexer (encode error, closed connection, gate timeout).
  void finish(failure f);

  std::shared_ptr<connection_state> state;
  request_base& request;
  time_point deadline;
  std::chrono::milliseconds timeout{0};  // for messages: what the deadline was
  std::int16_t version = -1;
  std::vector<std::uint8_t> body;  // encoded, until handed to the multiplexer
  protocol::messages::GatheredRecords gathered;  // records left out of body (request.records_owner)
  request_id id = 0;
  bool in_mux = false;
  bool held = false;
  boost::asio::steady_timer signal;  // cancelled when the call completes
  std::optional<completion> result;  // the multiplexer's completion
  std::optional<failure> early;      // or a failure before it
};

/// Everything a connection owns. Shared by the handle, the loops and the calls in progress, so
/// whichever ends last frees it; touched only on `executor`.
class connection_state : public std::enable_shared_from_this<connection_state> {
 public:
  connection_state(boost::asio::any_io_executor ex, std::string host_name, std::uint16_t port_number,
                   connection_options opts);

  /// Encodes and queues `r` now (or holds it behind a running re-authentication, in order).
  std::shared_ptr<call> submit(request_base& r, request_options o);
  /// The same, past the re-authentication gate, in a fixed version: the handshake's own
  /// requests (ApiVersions, SaslHandshake, SaslAuthenticate).
  std::shared_ptr<call> submit_handshake(request_base& r, std::int16_t version, time_point deadline);
  /// Waits for `c`; decodes the answer into its request. Cancellation of the awaiting
  /// operation abandons the request.
  boost::asio::awaitable<failure> wait(std::shared_ptr<call> c);

  /// Hands multiplexer completions to their calls.
  void dispatch();
  /// Fails the connection once: pending requests complete with `ec`, the socket closes and
  /// the loops end. Later calls do nothing.
  void fail(std::error_code ec, std::string reason);
  /// A failure naming this connection, the API and version, and the connection's close reason.
  failure describe(std::error_code ec, std::int16_t api_key, std::int16_t version, const char* what,
                   delivery sent) const;
  void wake_writer() { write_wakeup.cancel(); }
  void start_loops();
  /// Runs a background coroutine (loops, re-authentication) in `loops`; an exception escaping
  /// it fails the connection.
  void spawn_loop(boost::asio::awaitable<void> loop);
  /// Waits for the loops to end after fail(): they end on their next turn, so this is bounded
  /// by connect_timeout + request_timeout only as a backstop.
  boost::asio::awaitable<void> join_loops();

  // The steps of connect(), in handshake.cpp. Each returns a failure, never throws.
  boost::asio::awaitable<failure> connect_tcp();
  boost::asio::awaitable<failure> handshake_tls();
  boost::asio::awaitable<failure> negotiate_api_versions();
  boost::asio::awaitable<failure> authenticate();
  /// KIP-368: holds new requests and runs authenticate() again in-band.
  void start_reauth();
  /// The re-authentication ended: held requests go to the multiplexer in order.
  void release_held();
  /// Hands `c`'s encoded body (and its gathered records, if any) to the multiplexer.
  request_id enqueue(call& c);
  /// Held requests whose deadline passed leave, unwritten, with client_errc::timeout.
  void expire_held(time_point now);

  tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }
  boost::asio::awaitable<std::size_t> write_all(std::span<const boost::asio::const_buffer> buffers,
                                                boost::system::error_code& ec);
  boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer, boost::system::error_code& ec);

  boost::asio::any_io_executor executor;
  std::string host;
  std::uint16_t port;
  std::string address;
  connection_options options;
  tcp::socket socket;
  std::unique_ptr<boost::asio::ssl::stream<tcp::socket>> tls;  // owns the socket once TLS starts
  multiplexer mux;
  frame_reader reader;
  std::unordered_map<request_id, call*> calls;  // in the multiplexer
  std::deque<call*> held_calls;                 // behind a re-authentication, in submit order
  boost::asio::steady_timer write_wakeup;       // the writer sleeps on it; cancel() wakes it
  boost::asio::steady_timer deadline_timer;     // at mux.next_deadline()
  task_group loops;  // reader, writer, timer, and a re-authentication while it runs
  bool closed = false;
  failure close_error;  // why it closed
  const char* phase = "resolving";  // for connect timeouts
  std::vector<protocol::messages::ApiVersionsResponse::ApiVersion> broker_apis;
  std::int64_t session_lifetime_ms = 0;
  reauth_schedule reauth;
  bool reauth_running = false;
  std::uint64_t reauthentications = 0;
  /// An awaitable OAUTHBEARER token provider in progress: cancelled when the connection fails.
  std::function<void()> cancel_token_wait;
};

}  // namespace asiokafka::net::impl
