// The Admin client's options: the shared client options (as ClientConfig, same names and
// defaults) and the admin's own. docs/admin.md explains them beside aiokafka's.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "asiokafka/config.hpp"
#include "asiokafka/sasl.hpp"

namespace asiokafka {

/// Options of an Admin client. A flat aggregate, so designated initializers work:
/// `AdminConfig{.bootstrap_servers = "localhost:9092", .default_api_timeout = 30s}`.
/// Validated when an Admin is constructed.
struct AdminConfig {
  // ---- shared with every client (ClientConfig) ----

  /// As ClientConfig::bootstrap_servers: "host[:port]" entries separated by commas or spaces.
  std::string bootstrap_servers = "localhost";
  /// As ClientConfig::client_id: sent with every request.
  std::string client_id = "asiokafka-admin";
  /// As ClientConfig::request_timeout (request_timeout_ms): bound on one request; an
  /// operation may send several within its own timeout (default_api_timeout).
  std::chrono::milliseconds request_timeout{30'000};
  /// As ClientConfig::connect_timeout: bound on one connection attempt.
  std::chrono::milliseconds connect_timeout{10'000};
  /// As ClientConfig::metadata_max_age (metadata_max_age_ms).
  std::chrono::milliseconds metadata_max_age{300'000};
  /// As ClientConfig::retry_backoff (retry_backoff_ms): the wait before a retriable failure
  /// is retried, within the operation's timeout.
  std::chrono::milliseconds retry_backoff{100};
  /// As ClientConfig::reconnect_backoff and reconnect_backoff_max.
  std::chrono::milliseconds reconnect_backoff{50};
  std::chrono::milliseconds reconnect_backoff_max{1'000};
  /// As ClientConfig::connections_max_idle (connections_max_idle_ms).
  std::chrono::milliseconds connections_max_idle{540'000};
  /// As ClientConfig::security_protocol.
  SecurityProtocol security_protocol = SecurityProtocol::plaintext;
  /// As ClientConfig::ssl_context: the TLS context for ssl and sasl_ssl.
  std::shared_ptr<boost::asio::ssl::context> ssl_context;
  /// As ClientConfig::ssl_check_hostname.
  bool ssl_check_hostname = true;
  /// As ClientConfig::sasl: mechanism and credentials for sasl_plaintext and sasl_ssl.
  std::optional<SaslConfig> sasl;
  /// As ClientConfig::max_in_flight_requests_per_connection.
  std::size_t max_in_flight_requests_per_connection = 5;
  /// As ClientConfig::max_response_bytes.
  std::size_t max_response_bytes = 100 * 1024 * 1024;
  /// As ClientConfig::allow_auto_create_topics. Off for an admin: describing a topic must
  /// never create it.
  bool allow_auto_create_topics = false;

  // ---- the admin's own ----

  /// The timeout of an operation whose options give none (the Java client's
  /// default.api.timeout.ms): retriable failures (a moved controller or coordinator, a lost
  /// connection, a partition without leader) are retried, retry_backoff apart, until it
  /// passes; then the operation fails with client_errc::timeout naming what it waited for.
  std::chrono::milliseconds default_api_timeout{60'000};
};

/// The ClientConfig inside an AdminConfig.
ClientConfig client_config_of(const AdminConfig& config);

/// Throws asiokafka::error(client_errc::invalid_config) naming the first invalid option.
void validate(const AdminConfig& config);

}  // namespace asiokafka
