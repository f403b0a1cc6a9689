// Options shared by every asiokafka client (Client now; Producer, Consumer and Admin build on
// them) and the parsing of broker addresses. No Asio beyond the TLS context type.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "asiokafka/metadata.hpp"
#include "asiokafka/sasl.hpp"

namespace asiokafka {

/// How connections to brokers are secured (Kafka's security.protocol).
enum class SecurityProtocol { plaintext, ssl, sasl_plaintext, sasl_ssl };

/// Options shared by every client (aiokafka's names, Java's defaults where aiokafka has none).
/// Validated when a client is constructed: a bad value throws asiokafka::error with
/// client_errc::invalid_config and a message naming the option. These are the only defaults:
/// the connection layer takes its settings from here.
struct ClientConfig {
  /// "host[:port]" entries separated by commas or spaces; the port defaults to 9092. IPv6
  /// literals in brackets ("[::1]:9092"). A "PLAINTEXT://"-style prefix is ignored.
  std::string bootstrap_servers = "localhost";
  /// Sent with every request; brokers log it and quotas may key on it.
  std::string client_id = "asiokafka";
  /// Bound on each request from send until its response (aiokafka request_timeout_ms).
  /// Operations that wait at the broker on purpose (a long-polling Fetch, JoinGroup) get
  /// their own, longer bound.
  std::chrono::milliseconds request_timeout{40'000};
  /// Bound on one connection attempt: resolve, TCP, TLS, ApiVersions and SASL together.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Metadata is refreshed at least this often (metadata_max_age_ms).
  std::chrono::milliseconds metadata_max_age{300'000};
  /// Least time between two metadata refreshes, and between coordinator lookups
  /// (retry_backoff_ms).
  std::chrono::milliseconds retry_backoff{100};
  /// Wait after a failed connection attempt, doubling (with ±20% jitter) up to the max
  /// (reconnect_backoff_ms, reconnect_backoff_max_ms).
  std::chrono::milliseconds reconnect_backoff{50};
  std::chrono::milliseconds reconnect_backoff_max{1'000};
  /// Connections without traffic for this long are closed (connections_max_idle_ms).
  std::chrono::milliseconds connections_max_idle{540'000};
  SecurityProtocol security_protocol = SecurityProtocol::plaintext;
  /// For ssl and sasl_ssl: the TLS context (create_ssl_context in tls.hpp builds one from
  /// files or PEM). Without one, a context trusting the system's default CAs is made.
  std::shared_ptr<boost::asio::ssl::context> ssl_context;
  /// For ssl and sasl_ssl: check that the broker's certificate names the host connected to.
  /// (The one hostname switch: a TLS context cannot know which host a connection goes to.)
  bool ssl_check_hostname = true;
  /// For sasl_plaintext and sasl_ssl: mechanism and credentials.
  std::optional<SaslConfig> sasl;
  /// Requests written and not answered, per connection.
  std::size_t max_in_flight_requests_per_connection = 5;
  /// Larger response frames fail their connection with client_errc::frame_too_large.
  std::size_t max_response_bytes = 100 * 1024 * 1024;
  /// Metadata requests let the broker auto-create unknown topics (when the broker allows it).
  bool allow_auto_create_topics = true;
};

/// Parses a bootstrap_servers list (duplicates dropped, order kept); throws asiokafka::error
/// with client_errc::invalid_config naming the bad entry.
std::vector<BrokerAddress> parse_bootstrap_servers(std::string_view list);

/// Checks every option; throws asiokafka::error with client_errc::invalid_config naming the
/// first bad one and the accepted values. Credentials never appear in the message.
void validate(const ClientConfig& config);

namespace detail {
/// The ClientConfig inside a facade's flat options (ProducerConfig, ConsumerConfig): they
/// repeat every shared option under the same name, so that designated initializers work.
template <class Config>
ClientConfig shared_client_config(const Config& c) {
  return ClientConfig{
      .bootstrap_servers = c.bootstrap_servers,
      .client_id = c.client_id,
      .request_timeout = c.request_timeout,
      .connect_timeout = c.connect_timeout,
      .metadata_max_age = c.metadata_max_age,
      .retry_backoff = c.retry_backoff,
      .reconnect_backoff = c.reconnect_backoff,
      .reconnect_backoff_max = c.reconnect_backoff_max,
      .connections_max_idle = c.connections_max_idle,
      .security_protocol = c.security_protocol,
      .ssl_context = c.ssl_context,
      .ssl_check_hostname = c.ssl_check_hostname,
      .sasl = c.sasl,
      .max_in_flight_requests_per_connection = c.max_in_flight_requests_per_connection,
      .max_response_bytes = c.max_response_bytes,
      .allow_auto_create_topics = c.allow_auto_create_topics,
  };
}
/// validate(shared), with the options named as the user wrote them: "<config_name>.x"
/// instead of "ClientConfig.x".
void validate_shared_as(const ClientConfig& shared, std::string_view config_name);
}  // namespace detail

}  // namespace asiokafka
