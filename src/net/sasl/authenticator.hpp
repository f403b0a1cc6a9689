// SASL authentication of one connection as a sans-I/O algorithm (KIP-43, KIP-152):
//
//   SaslHandshake v1 {mechanism}          -> the broker lists its enabled mechanisms
//   SaslAuthenticate {mechanism bytes}... -> until the mechanism is done or the broker fails it
//
// The caller (the connection) performs the actions: it frames each request body with a
// request header and correlation id, and feeds back the body of the matching response (the
// response header already stripped). done carries session_lifetime_ms for KIP-368
// re-authentication; a re-authentication runs a fresh Authenticator on the same connection.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "asiokafka/protocol/messages/api_versions.hpp"
#include "net/sasl/mechanism.hpp"

namespace asiokafka::sasl {

/// The next thing the connection must do.
struct Action {
  enum class Kind { write, done, fail };
  Kind kind = Kind::fail;
  std::int16_t api_key = -1;       ///< write: SaslHandshake (17) or SaslAuthenticate (36).
  std::int16_t api_version = -1;   ///< write: the version the body is encoded in.
  bytes body;                      ///< write: the request body, without header.
  /// done: the broker's session lifetime in ms (SaslAuthenticate v1+); 0 when the broker does
  /// not expire sessions (or answered v0). Re-authenticate before it runs out.
  std::int64_t session_lifetime_ms = 0;
  Failure failure;                 ///< fail.
};

class Authenticator {
 public:
  using ApiVersion = protocol::messages::ApiVersionsResponse::ApiVersion;

  /// `broker_apis` is the broker's ApiVersions list, used to pick the request versions.
  Authenticator(std::unique_ptr<Mechanism> mechanism, std::span<const ApiVersion> broker_apis);

  /// The first action: the SaslHandshake request (or a failure when the broker lacks SASL v1).
  Action start();
  /// The body of the response to the last write.
  Action on_response(std::span<const std::uint8_t> body);

  /// Most SaslAuthenticate round trips one authentication may take.
  static constexpr int max_round_trips = 16;

 private:
  enum class State { initial, handshake_sent, authenticate_sent, finished };
  Action fail(std::error_code ec, std::string message);
  Action authenticate_request(bytes auth_bytes);
  Action on_handshake(std::span<const std::uint8_t> body);
  Action on_authenticate(std::span<const std::uint8_t> body);

  std::unique_ptr<Mechanism> mechanism_;
  std::int16_t handshake_version_ = -1;
  std::int16_t authenticate_version_ = -1;
  State state_ = State::initial;
  int round_trips_ = 0;
};

}  // namespace asiokafka::sasl
