// Unsecured JWTs for the rig's OAUTHBEARER listener (the broker's unsecured validator).
#pragma once

#include <chrono>
#include <string>

namespace asiokafka::test {

/// A JWT with header {"alg":"none"}, claims sub/iat/exp and an empty signature (RFC 7519 §6),
/// base64url-encoded without padding. `expires_in` may be negative for an expired token.
std::string unsigned_jwt(const std::string& sub, std::chrono::seconds expires_in = std::chrono::hours(1));

}  // namespace asiokafka::test
