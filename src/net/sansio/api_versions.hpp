// ApiVersions negotiation (KIP-511) as a sans-I/O step function, shared by probe_broker and
// net::connection: the caller sends request_body() in version(), feeds back the response body
// (after the response header) and repeats while on_response() asks for a retry.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "asiokafka/protocol/messages/api_versions.hpp"

namespace asiokafka::net {

class api_versions_exchange {
 public:
  using ApiVersion = protocol::messages::ApiVersionsResponse::ApiVersion;

  api_versions_exchange(std::string software_name, std::string software_version);

  /// The version to send the next request in (starts at our highest).
  std::int16_t version() const noexcept { return version_; }
  /// The request body in version() (software name and version from v3 on).
  std::vector<std::uint8_t> request_body() const;

  enum class step { done, retry, failed };
  /// Feeds the body of the response to the last request. done: response() holds the broker's
  /// list. retry: send again in version() (the broker rejected ours, KIP-511; at most once).
  /// failed: `ec` and `what` tell why (undecodable, broker error, no common version).
  step on_response(std::span<const std::uint8_t> body, std::error_code& ec, std::string& what);

  const protocol::messages::ApiVersionsResponse& response() const noexcept { return response_; }

 private:
  std::string software_name_;
  std::string software_version_;
  std::int16_t version_;
  int attempts_ = 0;
  protocol::messages::ApiVersionsResponse response_;
};

/// The highest version of `api_key` both our codec and the broker (`broker`, its ApiVersions
/// list) implement, at least `lowest` and at most `cap`; -1 when there is none.
std::int16_t common_version(std::span<const api_versions_exchange::ApiVersion> broker, std::int16_t api_key,
                            std::int16_t lowest, std::int16_t cap) noexcept;

}  // namespace asiokafka::net
