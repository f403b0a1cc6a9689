// net::Connection: one pipelined connection to one broker. The Asio shell around the sans-I/O
// pieces: frame_reader (response framing), multiplexer (correlation ids, in-flight budgets,
// deadlines, cancellation), api_versions_exchange (KIP-511) and sasl::Authenticator.
//
// Threading: a connection lives on the executor given to connect() (use a strand for a
// multi-threaded io_context). connect(), send(), close() and the destructor must run there;
// nothing is locked.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/response.hpp"
#include "asiokafka/sasl.hpp"
#include "asiokafka/version.hpp"
#include "net/frame_reader.hpp"

namespace asiokafka::net {

/// TLS for a connection. The context is the caller's (CA, client certificate, protocols);
/// the connection adds SNI (host names only) and, with verify_hostname, peer verification
/// plus a check that the certificate names the host it connected to.
struct ConnectionTls {
  std::shared_ptr<boost::asio::ssl::context> context;
  bool verify_hostname = true;
};

struct ConnectionOptions {
  std::string client_id = "asiokafka";
  /// Bound on each request, from send() until its response (Kafka's request.timeout.ms). A
  /// request already written when it runs out closes the connection (see multiplexer.hpp).
  std::chrono::milliseconds request_timeout{30'000};
  /// Bound on connect(): resolve, TCP, TLS, ApiVersions and SASL together.
  std::chrono::milliseconds connect_timeout{10'000};
  std::optional<ConnectionTls> tls;
  std::optional<SaslConfig> sasl;
  std::size_t max_in_flight_requests = 5;
  std::size_t max_in_flight_bytes = 64 * 1024 * 1024;
  /// Larger response frames fail the connection with client_errc::frame_too_large.
  std::size_t max_response_bytes = 100 * 1024 * 1024;
  /// Sent in ApiVersions v3+ (KIP-511).
  std::string software_name = asiokafka::software_name;
  std::string software_version = asiokafka::version_string;
};

using asiokafka::response;

namespace detail {
class connection_state;
}

/// The API's name for messages ("Metadata"), or "API <key>" for a key the codec lacks.
std::string api_name(std::int16_t api_key);

/// One established broker connection: a movable handle. Errors are thrown as
/// std::system_error whose message names the broker address.
class Connection {
 public:
  Connection() = default;
  explicit Connection(std::shared_ptr<detail::connection_state> state) noexcept : state_(std::move(state)) {}
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&& o) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  /// Without close(): fails pending requests with client_errc::connection_closed and closes
  /// the socket at once; the background loops then end on their next turn of the executor
  /// (they own the shared state, not this handle, so nothing dangles).
  ~Connection();

  /// Sends a typed request in the highest version both sides implement (at most
  /// `max_version`) and returns the decoded response. Throws client_errc::unsupported_version
  /// when there is no common version, client_errc::timeout after request_timeout, the
  /// connection's error when it fails meanwhile, and std::errc::operation_canceled when the
  /// caller cancels this operation (its response is then read and dropped; the connection and
  /// other requests are unaffected). acks=0 Produce completes once written, with an empty
  /// response. The request is encoded before this returns, so it need not outlive the call.
  template <class Request>
  boost::asio::awaitable<response<typename Request::response_type>> send(const Request& request,
                                                                        std::int16_t max_version = Request::max_version);

  /// Raw form: `body` is encoded in `api_version`; returns the response body (after the
  /// response header), or an empty frame when `expects_response` is false.
  boost::asio::awaitable<frame> send_raw(std::int16_t api_key, std::int16_t api_version, std::vector<std::uint8_t> body,
                                         bool expects_response);

  /// The version send() would use for `api_key` (capped by `max_version`), or -1.
  std::int16_t version_for(std::int16_t api_key, std::int16_t max_version) const noexcept;
  /// The broker's ApiVersions list.
  std::span<const protocol::messages::ApiVersionsResponse::ApiVersion> broker_apis() const noexcept;
  /// The broker's SASL session lifetime (KIP-368) from the latest (re-)authentication, 0
  /// without SASL or expiry.
  std::int64_t session_lifetime_ms() const noexcept;
  /// Completed KIP-368 re-authentications. When the session has a lifetime, send() starts one
  /// in-band once 85-95 % of it has passed (see src/net/reauth.hpp); a failed one fails the
  /// connection with its SASL error.
  std::uint64_t reauthentications() const noexcept;
  /// "host:port" as given to connect().
  const std::string& address() const noexcept;
  /// False once closed or failed.
  bool is_open() const noexcept;
  /// Requests enqueued and not completed.
  std::size_t pending() const noexcept;

  /// For callers of send_raw that decode themselves: a response that did not decode poisons
  /// the stream, so this fails the connection (pending requests get `ec`).
  void report_malformed(std::int16_t api_key, std::int16_t api_version, std::error_code ec);
  /// For callers of send_raw: honours a response's throttle_time_ms (KIP-219).
  void apply_throttle(std::int32_t throttle_time_ms);

  /// Fails pending requests with client_errc::connection_closed, stops the reader, writer and
  /// timer loops and waits until they have ended. Idempotent.
  boost::asio::awaitable<void> close();

 private:
  std::shared_ptr<detail::connection_state> state_;
};

/// Connects to host:port: resolves and tries every address (IPv6 too), TCP_NODELAY, TLS,
/// ApiVersions (KIP-511 fallback), SASL; all bounded by connect_timeout. Throws
/// std::system_error: client_errc::connection_failed naming every address tried, the TLS
/// error (OpenSSL's reason, plus the certificate verification result), the SASL failure
/// with the broker's message, or client_errc::timeout.
boost::asio::awaitable<Connection> connect(boost::asio::any_io_executor executor, std::string host,
                                           std::uint16_t port, ConnectionOptions options);

// ---------------------------------------------------------------------------------------------

namespace detail {

/// Encodes `request` or returns the error (no exception: it travels into the coroutine).
template <class Request>
std::error_code encode_body(const Request& request, std::int16_t version, std::vector<std::uint8_t>& body) {
  if (version < 0) return client_errc::unsupported_version;
  return request.encode(body, version);
}

/// Completes a typed send: awaits the raw call, decodes, applies throttle_time_ms.
template <class Message>
boost::asio::awaitable<response<Message>> typed_call(std::shared_ptr<connection_state> state, std::int16_t api_key,
                                                      std::int16_t version, std::vector<std::uint8_t> body,
                                                      bool expects, std::error_code encode_error);

/// Shared by typed_call for every message type (defined in connection.cpp).
boost::asio::awaitable<frame> raw_call(connection_state& state, std::int16_t api_key, std::int16_t version,
                                       std::vector<std::uint8_t>& body, bool expects);
[[noreturn]] void throw_send_error(connection_state& state, std::int16_t api_key, std::int16_t version,
                                   std::error_code ec, const char* what);
/// A response that does not decode poisons the stream: the connection is closed.
void fail_malformed(connection_state& state, std::int16_t api_key, std::int16_t version, std::error_code ec);
void apply_throttle(connection_state& state, std::int32_t throttle_time_ms);

template <class Message>
boost::asio::awaitable<response<Message>> typed_call(std::shared_ptr<connection_state> state, std::int16_t api_key,
                                                      std::int16_t version, std::vector<std::uint8_t> body,
                                                      bool expects, std::error_code encode_error) {
  if (!state) throw std::system_error(client_errc::connection_closed, "send on an empty Connection handle");
  if (encode_error) throw_send_error(*state, api_key, version, encode_error, "encoding the request");
  response<Message> out;
  out.version = version;
  out.storage = co_await raw_call(*state, api_key, version, body, expects);
  if (!expects) co_return out;
  if (auto ec = out.message.decode(out.storage.bytes(), version)) {
    fail_malformed(*state, api_key, version, ec);
    throw_send_error(*state, api_key, version, ec, "decoding the response");
  }
  if constexpr (requires(const Message& m) { m.throttle_time_ms; }) apply_throttle(*state, out.message.throttle_time_ms);
  co_return out;
}

}  // namespace detail

template <class Request>
boost::asio::awaitable<response<typename Request::response_type>> Connection::send(const Request& request,
                                                                                  std::int16_t max_version) {
  // Not a coroutine: the request is encoded now, so a temporary argument is safe.
  const std::int16_t version = version_for(Request::api_key, max_version);
  std::vector<std::uint8_t> body;
  const std::error_code ec = state_ ? detail::encode_body(request, version, body)
                                    : std::error_code(client_errc::connection_closed);
  return detail::typed_call<typename Request::response_type>(state_, Request::api_key, version, std::move(body),
                                                             asiokafka::detail::expects_response(request), ec);
}

}  // namespace asiokafka::net
