// net::connection: one pipelined connection to one broker. The Asio shell around the sans-I/O
// pieces: frame_reader (response framing), multiplexer (correlation ids, in-flight budgets,
// deadlines, cancellation), api_versions_exchange (KIP-511), sasl::authenticator and the
// KIP-368 reauth_schedule. Failures are values (net::failure), never exceptions.
//
// Threading: a connection lives on the executor given to connect() (use a strand for a
// multi-threaded io_context); every call must be made there. Nothing is locked.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "asiokafka/config.hpp"
#include "asiokafka/detail/request.hpp"
#include "asiokafka/protocol/messages/api_versions.hpp"
#include "asiokafka/sasl.hpp"
#include "asiokafka/version.hpp"
#include "net/sansio/failure.hpp"

namespace asiokafka::net {

using asiokafka::detail::request_base;
using asiokafka::detail::route;
using asiokafka::detail::typed_request;

/// The API's name for messages ("Metadata"), or "API <key>" for a key the codec lacks.
std::string api_name(std::int16_t api_key);

/// What a connection needs to know. Built from ClientConfig (from()), whose values are the
/// defaults here too: there is one set of defaults in the library.
struct connection_options {
  std::string client_id = ClientConfig{}.client_id;
  /// Bound on each request from send() until its response, unless the request carries its own
  /// (request_options::timeout). A request already written when it runs out closes the
  /// connection (see multiplexer.hpp).
  std::chrono::milliseconds request_timeout = ClientConfig{}.request_timeout;
  /// Bound on connect(): resolve, TCP, TLS, ApiVersions and SASL together; also bounds an
  /// awaitable OAUTHBEARER token provider.
  std::chrono::milliseconds connect_timeout = ClientConfig{}.connect_timeout;
  /// Set: TLS with this context. The connection adds SNI (host names only) and, with
  /// ssl_check_hostname, peer verification plus a check that the certificate names the host.
  std::shared_ptr<boost::asio::ssl::context> ssl_context;
  bool ssl_check_hostname = ClientConfig{}.ssl_check_hostname;
  /// Set: SASL authentication after ApiVersions.
  std::optional<SaslConfig> sasl;
  std::size_t max_in_flight_requests = ClientConfig{}.max_in_flight_requests_per_connection;
  std::size_t max_in_flight_bytes = 64 * 1024 * 1024;
  /// Larger response frames fail the connection with client_errc::frame_too_large.
  std::size_t max_response_bytes = ClientConfig{}.max_response_bytes;
  /// Sent in ApiVersions v3+ (KIP-511).
  std::string software_name = asiokafka::software_name;
  std::string software_version = asiokafka::version_string;

  /// The options ClientConfig implies (TLS for ssl/sasl_ssl, SASL for sasl_*). A TLS protocol
  /// without ssl_context gets a context trusting the system's default CAs.
  static connection_options from(const ClientConfig& config);
};

/// Per request. Trivially destructible on purpose (see docs/design.md, "GCC 12").
struct request_options {
  /// Overrides the connection's request_timeout for this request: a long-polling Fetch or a
  /// JoinGroup waits at the broker longer than an ordinary request may take.
  std::optional<std::chrono::milliseconds> timeout;
};

namespace impl {
class connection_state;
}

/// An established broker connection: a movable handle over a shared state.
class connection {
 public:
  connection() = default;
  explicit connection(std::shared_ptr<impl::connection_state> state) noexcept : state_(std::move(state)) {}
  connection(connection&&) noexcept = default;
  connection& operator=(connection&& o) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  /// Without close(): fails pending requests with client_errc::connection_closed and closes
  /// the socket at once; the loops end on their next turn of the executor.
  ~connection();

  /// Sends `request` in the highest version both sides implement and decodes the answer into
  /// it. The request is queued when send() is *called*, not when the returned awaitable is
  /// first resumed: requests sent in order on one connection are written in that order, also
  /// across a re-authentication (KIP-368) that holds them back. `request` must outlive the
  /// awaitable. Destroying the awaitable before it completes cancels the request.
  ///
  /// Completes with an empty failure, or: client_errc::unsupported_version (no common
  /// version), an encoding error, client_errc::timeout, the connection's error when it fails
  /// meanwhile, the decode error of an undecodable answer (the connection is then closed), or
  /// std::errc::operation_canceled when the caller cancels (the connection and other requests
  /// go on; a written request's answer is read and dropped). failure::sent tells whether the
  /// request may have reached the broker. acks=0 Produce completes once written.
  boost::asio::awaitable<failure> send(request_base& request, request_options options = {});

  /// The typed form: the decoded response, or the failure.
  template <class Request>
  boost::asio::awaitable<outcome<response<typename Request::response_type>>> send(const Request& request,
                                                                                 request_options options = {});

  /// The version send() would use for `api_key` within [min_version, max_version], or -1.
  std::int16_t version_for(std::int16_t api_key, std::int16_t min_version, std::int16_t max_version) const noexcept;
  /// The broker's ApiVersions list.
  std::span<const protocol::messages::ApiVersionsResponse::ApiVersion> broker_apis() const noexcept;
  /// The broker's SASL session lifetime (KIP-368) from the latest (re-)authentication, 0
  /// without SASL or expiry.
  std::int64_t session_lifetime_ms() const noexcept;
  /// Completed KIP-368 re-authentications.
  std::uint64_t reauthentications() const noexcept;
  /// "host:port" as given to connect().
  const std::string& address() const noexcept;
  /// False once closed or failed.
  bool is_open() const noexcept;
  /// Why the connection closed (empty while open).
  failure close_reason() const;
  /// Requests submitted and not completed.
  std::size_t pending() const noexcept;
  /// Requests handed to the socket and not answered (the in-flight budget in use).
  std::size_t in_flight() const noexcept;
  /// Requests held behind a running re-authentication.
  std::size_t held() const noexcept;

  /// Fails pending requests with client_errc::connection_closed, stops the loops and waits
  /// until they have ended. Idempotent.
  boost::asio::awaitable<void> close();

 private:
  template <class Request>
  static boost::asio::awaitable<outcome<response<typename Request::response_type>>> typed_wait(
      std::unique_ptr<typed_request<Request>> request, boost::asio::awaitable<failure> sent);

  std::shared_ptr<impl::connection_state> state_;
};

/// Connects to host:port: resolves and tries every address (IPv6 too), TCP_NODELAY, TLS,
/// ApiVersions (KIP-511 fallback), SASL; all bounded by connect_timeout. Fails with
/// client_errc::connection_failed naming every address tried, the TLS error (OpenSSL's reason
/// and the certificate verification result), the SASL failure with the broker's message,
/// client_errc::timeout naming the step, or operation_canceled. Never sent (not_sent).
boost::asio::awaitable<outcome<connection>> connect(boost::asio::any_io_executor executor, std::string host,
                                                    std::uint16_t port, connection_options options);

template <class Request>
boost::asio::awaitable<outcome<response<typename Request::response_type>>> connection::send(const Request& request,
                                                                                          request_options options) {
  // Not a coroutine: the request is copied and queued now, so a temporary argument is safe.
  auto typed = std::make_unique<typed_request<Request>>(request);
  auto sent = send(*typed, options);
  return typed_wait<Request>(std::move(typed), std::move(sent));
}

template <class Request>
boost::asio::awaitable<outcome<response<typename Request::response_type>>> connection::typed_wait(
    std::unique_ptr<typed_request<Request>> request, boost::asio::awaitable<failure> sent) {
  failure f = co_await std::move(sent);
  if (f) co_return f;
  co_return request->take();
}

}  // namespace asiokafka::net
