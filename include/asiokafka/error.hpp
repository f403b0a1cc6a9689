// Error codes of the asiokafka client itself.
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
};

/// The category of client_errc values; its name is "asiokafka.client".
const std::error_category& client_category() noexcept;

inline std::error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

}  // namespace asiokafka

template <>
struct std::is_error_code_enum<asiokafka::client_errc> : std::true_type {};
