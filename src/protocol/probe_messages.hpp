// Hand-written ApiVersions (v0-v3) and Metadata (v1-v8) messages used by the broker probe.
// This is the minimal encoding the foundation needs; the generated codec replaces it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "protocol/wire.hpp"

namespace asiokafka::protocol {

inline constexpr std::int16_t api_key_metadata = 3;
inline constexpr std::int16_t api_key_api_versions = 18;
inline constexpr std::int16_t error_unsupported_version = 35;

/// Versions of the two probe APIs this code can encode and decode.
inline constexpr std::int16_t api_versions_max_version = 3;
inline constexpr std::int16_t metadata_min_version = 1;
inline constexpr std::int16_t metadata_max_version = 8;

struct ApiVersionEntry {
  std::int16_t api_key = 0;
  std::int16_t min_version = 0;
  std::int16_t max_version = 0;
  friend bool operator==(const ApiVersionEntry&, const ApiVersionEntry&) = default;
};

struct ApiVersionsResponse {
  std::int16_t error_code = 0;
  std::vector<ApiVersionEntry> api_keys;
  std::int32_t throttle_time_ms = 0;
};

struct MetadataBroker {
  std::int32_t node_id = -1;
  std::string host;
  std::int32_t port = 0;
  std::optional<std::string> rack;
};

struct MetadataResponse {
  std::vector<MetadataBroker> brokers;
  std::optional<std::string> cluster_id;
  std::int32_t controller_id = -1;
};

/// A complete request frame (length prefix included), ready to write to a socket.
bytes encode_api_versions_request(std::int16_t version, std::int32_t correlation_id,
                                  std::string_view client_id, std::string_view software_name,
                                  std::string_view software_version);
bytes encode_metadata_request(std::int16_t version, std::int32_t correlation_id,
                              std::string_view client_id);

/// Splits a response frame body (after the 4-byte length) into its correlation id and the
/// rest; `flexible_header` selects response header v1 (with tagged fields).
std::span<const std::uint8_t> strip_response_header(std::span<const std::uint8_t> frame,
                                                    bool flexible_header,
                                                    std::int32_t& correlation_id,
                                                    std::error_code& ec);

/// Decodes an ApiVersions response body. A broker that does not support `version` answers
/// in v0 with UNSUPPORTED_VERSION (KIP-511); that case is detected and decoded as v0.
ApiVersionsResponse decode_api_versions_response(std::span<const std::uint8_t> body,
                                                 std::int16_t version, std::error_code& ec);
MetadataResponse decode_metadata_response(std::span<const std::uint8_t> body,
                                          std::int16_t version, std::error_code& ec);

}  // namespace asiokafka::protocol
