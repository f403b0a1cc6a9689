// SASL authentication of one connection as a sans-I/O algorithm (KIP-43, KIP-152):
//
//   SaslHandshake v1 {mechanism}          -> the broker lists its enabled mechanisms
//   SaslAuthenticate {mechanism bytes}... -> until the mechanism is done or the broker fails it
//
// The caller (the connection) performs the actions: it frames each request body with a
// request header and correlation id, and feeds back the body of the matching response (the
// response header already stripped). done carries session_lifetime_ms for KIP-368
// re-authentication; a re-authentication runs a fresh authenticator on the same connection.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "asiokafka/protocol/messages/api_versions.hpp"
#include "net/sansio/sasl/mechanism.hpp"

namespace asiokafka::sasl {

/// The next thing the connection must do.
struct next_action {
  enum class kind_t { write, done, fail };
  kind_t kind = kind_t::fail;
  std::int16_t api_key = -1;       ///< write: SaslHandshake (17) or SaslAuthenticate (36).
  std::int16_t api_version = -1;   ///< write: the version the body is encoded in.
  bytes body;                      ///< write: the request body, without header.
  /// done: the broker's session lifetime in ms (SaslAuthenticate v1+); 0 when the broker does
  /// not expire sessions (or answered v0). Re-authenticate before it runs out.
  std::int64_t session_lifetime_ms = 0;
  net::failure failure;                 ///< fail.
};

class authenticator {
 public:
  using broker_api = protocol::messages::ApiVersionsResponse::ApiVersion;

  /// `broker_apis` is the broker's ApiVersions list, used to pick the request versions.
  authenticator(std::unique_ptr<mechanism> mechanism, std::span<const broker_api> broker_apis);

  /// The first action: the SaslHandshake request (or a failure when the broker lacks SASL v1).
  next_action start();
  /// The body of the response to the last write.
  next_action on_response(std::span<const std::uint8_t> body);

  /// Most SaslAuthenticate round trips one authentication may take.
  static constexpr int max_round_trips = 16;

 private:
  enum class phase { initial, handshake_sent, authenticate_sent, finished };
  next_action fail(std::error_code ec, std::string message);
  next_action authenticate_request(bytes auth_bytes);
  next_action on_handshake(std::span<const std::uint8_t> body);
  next_action on_authenticate(std::span<const std::uint8_t> body);

  std::unique_ptr<mechanism> mechanism_;
  std::int16_t handshake_version_ = -1;
  std::int16_t authenticate_version_ = -1;
  phase state_ = phase::initial;
  int round_trips_ = 0;
};

}  // namespace asiokafka::sasl
