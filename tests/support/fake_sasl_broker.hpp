// A FakeBroker script for SASL (tests/support/fake_broker.hpp): PLAIN and OAUTHBEARER are
// accepted, sessions expire after a lifetime the test chooses (KIP-368), and like Kafka it
// closes a connection that sends anything but SaslHandshake after its session expired. Other
// requests go to an application handler (by default: Metadata answered with cluster id
// "fake-cluster"). Header-only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/sasl.hpp"
#include "support/fake_broker.hpp"

namespace asiokafka::test {

/// Answers a Metadata request with cluster id "fake-cluster".
inline void answer_metadata(FakeSession& s, const FakeRequest& r) {
  protocol::messages::MetadataResponse md;
  md.cluster_id = "fake-cluster";
  s.respond(r, md);
}

inline SaslConfig plain_sasl() {
  return {.mechanism = SaslConfig::Mechanism::plain, .username = "u", .password = "p"};
}

/// What the fake SASL broker saw and how it behaves; shared with the test.
struct SaslBrokerState {
  std::int64_t lifetime_ms = 0;
  std::size_t fail_from_authentication = std::numeric_limits<std::size_t>::max();  // 0-based; later ones fail with 58
  std::vector<std::string> tokens;  // OAUTHBEARER tokens seen, in order
  std::size_t authentications = 0;
  std::size_t served = 0;           // requests given to the application handler
  std::size_t expired_requests = 0;  // requests after the session expired (the connection was closed)
  bool expecting_authenticate = false;
  std::chrono::steady_clock::time_point expires = std::chrono::steady_clock::time_point::max();
  std::string violations;
};

inline FakeBroker::Handler sasl_broker(std::shared_ptr<SaslBrokerState> st, FakeBroker::Handler app = answer_metadata) {
  namespace msg = protocol::messages;
  return [st, app](FakeSession& s, const FakeRequest& r) {
    if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
    if (r.api_key == msg::SaslHandshakeRequest::api_key) {
      if (st->expecting_authenticate) st->violations += "SaslHandshake twice; ";
      msg::SaslHandshakeResponse response;
      response.mechanisms = {"PLAIN", "OAUTHBEARER"};
      s.respond(r, response);
      st->expecting_authenticate = true;
      return;
    }
    if (r.api_key == msg::SaslAuthenticateRequest::api_key) {
      if (!st->expecting_authenticate) st->violations += "SaslAuthenticate without SaslHandshake; ";
      st->expecting_authenticate = false;
      msg::SaslAuthenticateRequest request;
      if (request.decode(r.body, r.api_version)) st->violations += "undecodable SaslAuthenticate; ";
      const std::string auth(request.auth_bytes.begin(), request.auth_bytes.end());
      const auto at = auth.find("auth=Bearer ");
      if (at != std::string::npos) {
        const auto from = at + 12;
        st->tokens.push_back(auth.substr(from, auth.find('\x01', from) - from));
      }
      msg::SaslAuthenticateResponse response;
      if (st->authentications++ >= st->fail_from_authentication) {
        response.error_code = 58;
        response.error_message = "Authentication failed: credentials revoked";
      } else {
        response.session_lifetime_ms = st->lifetime_ms;
        st->expires = st->lifetime_ms > 0
                          ? std::chrono::steady_clock::now() + std::chrono::milliseconds(st->lifetime_ms)
                          : std::chrono::steady_clock::time_point::max();
      }
      s.respond(r, response);
      return;
    }
    if (st->expecting_authenticate) st->violations += "a request between SaslHandshake and SaslAuthenticate; ";
    if (std::chrono::steady_clock::now() > st->expires) {
      ++st->expired_requests;  // what Kafka does with an expired session
      s.close();
      return;
    }
    ++st->served;
    app(s, r);
  };
}

}  // namespace asiokafka::test
