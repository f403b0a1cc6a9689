// Error codes of the asiokafka client itself (client_errc) and of its SASL layer (sasl_errc),
// the exception thrown by `co_await` on asiokafka operations, and the two public predicates
// over the one error classification table (src/protocol/error_class.hpp).
// Kafka's own error codes are in kafka_error.hpp.
#pragma once

#include <string>
#include <system_error>

namespace asiokafka {

/// Conditions detected by the client (as opposed to error codes returned by a broker).
enum class client_errc {
  truncated = 1,         ///< A message ended before all its fields were read.
  malformed,             ///< A field holds a value the protocol does not allow (e.g. negative length).
  frame_too_large,       ///< A response frame is larger than the configured maximum.
  correlation_mismatch,  ///< A response carried a correlation id no request was waiting for.
  unsupported_version,   ///< No API version is supported by both the client and the broker.
  broker_error,          ///< The broker answered with a non-zero error code.
  timeout,               ///< The operation did not complete within its time limit.
  field_not_in_version,  ///< Encoding a non-default field that the chosen version lacks.
  unknown_api,           ///< An API key or version the codec does not implement.
  crc_mismatch,          ///< A record batch's CRC does not match its bytes.
  corrupt_record,        ///< A record or batch is internally inconsistent.
  unsupported_compression,  ///< A compression type the client does not know.
  decompressed_too_large,   ///< Decompressed data would exceed the allowed bound.
  compression_failed,       ///< The compression library reported an error.
  connection_failed,        ///< No address of a broker accepted a connection.
  connection_lost,          ///< The broker closed the connection or the network failed.
  connection_closed,        ///< The connection was closed by the client (close() or destruction).
  invalid_config,           ///< A configuration option holds a value that is not allowed.
  no_broker_available,      ///< Every known broker is unreachable or in reconnect backoff.
  client_closed,            ///< The client was closed (or not started) when the operation ran.
  invalid_argument,         ///< An argument of a call is not valid (e.g. a partition the topic lacks).
  illegal_state,            ///< A call not allowed in the client's state (e.g. seek on an unassigned partition).
  consumer_stopped,         ///< The consumer was stopped while the call waited (aiokafka's ConsumerStoppedError).
  commit_failed,            ///< The group moved on (new generation, member fenced): offsets not committed (aiokafka's CommitFailedError).
};

/// The category of client_errc values; its name is "asiokafka.client".
const std::error_category& client_category() noexcept;

inline std::error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

/// Failures found by the client during SASL authentication. Errors the broker reports keep
/// their Kafka code (kafka_errc, e.g. sasl_authentication_failed = 58).
enum class sasl_errc {
  authentication_failed = 1,  ///< The server rejected the credentials (SCRAM e=, OAUTHBEARER error JSON).
  mechanism_not_enabled,      ///< The broker does not offer the configured mechanism.
  malformed_server_message,   ///< A server challenge does not follow the mechanism's grammar.
  invalid_server_nonce,       ///< SCRAM: the server nonce does not extend the client nonce.
  iteration_count_out_of_range,  ///< SCRAM: i= below 4096 or above 16384.
  server_signature_mismatch,  ///< SCRAM: the server could not prove it knows the credentials.
  unsupported_extension,      ///< SCRAM: a mandatory extension (m=) the client does not support.
  invalid_config,             ///< Missing or invalid credentials / extensions in SaslConfig.
  token_provider_failed,      ///< OAUTHBEARER: the token provider threw or returned nothing.
  random_failed,              ///< The random generator could not produce a nonce.
  crypto_failed,              ///< An OpenSSL primitive failed.
  gssapi_failed,              ///< Cyrus SASL / GSSAPI reported an error (e.g. no Kerberos ticket).
  illegal_state,              ///< A step was requested after the exchange ended, or too many steps.
};

/// The category of sasl_errc values; its name is "asiokafka.sasl".
const std::error_category& sasl_category() noexcept;

inline std::error_code make_error_code(sasl_errc e) noexcept { return {static_cast<int>(e), sasl_category()}; }

/// Whether `ec` means the credentials were refused or the server could not be authenticated:
/// kafka_errc::sasl_authentication_failed (58) from the broker, sasl_errc::authentication_failed
/// and sasl_errc::server_signature_mismatch. Such failures are not retriable as they are.
bool is_authentication_failure(std::error_code ec) noexcept;

/// What `co_await` on an asiokafka operation throws when it fails: the error code (compare it
/// with client_errc, kafka_errc, sasl_errc or boost::asio::error values) and a message naming
/// what failed (the broker, the API, the topic, ...). The error_code forms of the operations
/// (`as_tuple`, callbacks) give the same code without the message.
class error : public std::system_error {
 public:
  error(std::error_code code, const std::string& what) : std::system_error(code, what) {}
};

}  // namespace asiokafka

template <>
struct std::is_error_code_enum<asiokafka::client_errc> : std::true_type {};
template <>
struct std::is_error_code_enum<asiokafka::sasl_errc> : std::true_type {};
