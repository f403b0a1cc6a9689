#include "net/sansio/sasl/authenticator.hpp"

#include <algorithm>

#include <openssl/crypto.h>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages/sasl_authenticate.hpp"
#include "asiokafka/protocol/messages/sasl_handshake.hpp"

namespace asiokafka::sasl {
namespace {

namespace msg = protocol::messages;

// Highest version both sides speak, or -1.
std::int16_t pick(std::span<const authenticator::broker_api> apis, std::int16_t key, std::int16_t ours_min,
                  std::int16_t ours_max) {
  const auto it = std::find_if(apis.begin(), apis.end(), [key](const auto& a) { return a.api_key == key; });
  if (it == apis.end()) return -1;
  const auto v = std::min(it->max_version, ours_max);
  return v >= std::max(it->min_version, ours_min) ? v : std::int16_t{-1};
}

}  // namespace

authenticator::authenticator(std::unique_ptr<mechanism> mechanism, std::span<const broker_api> broker_apis)
    : mechanism_(std::move(mechanism)) {
  // SaslHandshake v0 means raw SASL tokens after the handshake (pre KIP-152); we only speak v1.
  handshake_version_ = pick(broker_apis, msg::SaslHandshakeRequest::api_key, 1, msg::SaslHandshakeRequest::max_version);
  authenticate_version_ = pick(broker_apis, msg::SaslAuthenticateRequest::api_key, 0,
                               msg::SaslAuthenticateRequest::max_version);
}

next_action authenticator::fail(std::error_code ec, std::string message) {
  state_ = phase::finished;
  next_action a;
  a.kind = next_action::kind_t::fail;
  a.failure = {ec, std::move(message)};
  return a;
}

next_action authenticator::start() {
  if (state_ != phase::initial) return fail(sasl_errc::illegal_state, "SASL: start() called twice");
  if (!mechanism_) return fail(sasl_errc::invalid_config, "SASL: no mechanism");
  if (handshake_version_ < 0 || authenticate_version_ < 0) {
    return fail(client_errc::unsupported_version,
                "SASL: the broker does not support SaslHandshake v1 and SaslAuthenticate (KIP-152)");
  }
  next_action a;
  a.kind = next_action::kind_t::write;
  a.api_key = msg::SaslHandshakeRequest::api_key;
  a.api_version = handshake_version_;
  msg::SaslHandshakeRequest handshake;
  handshake.mechanism = std::string(mechanism_->name());
  if (const auto ec = handshake.encode(a.body, a.api_version)) {
    return fail(ec, "SASL: encoding SaslHandshake");
  }
  state_ = phase::handshake_sent;
  return a;
}

next_action authenticator::on_response(std::span<const std::uint8_t> body) {
  switch (state_) {
    case phase::handshake_sent: return on_handshake(body);
    case phase::authenticate_sent: return on_authenticate(body);
    default: return fail(sasl_errc::illegal_state, "SASL: no request outstanding");
  }
}

next_action authenticator::authenticate_request(bytes auth_bytes) {
  if (++round_trips_ > max_round_trips) {
    return fail(sasl_errc::illegal_state, "SASL: " + std::string(mechanism_->name()) + " did not finish within " +
                                              std::to_string(max_round_trips) + " round trips");
  }
  next_action a;
  a.kind = next_action::kind_t::write;
  a.api_key = msg::SaslAuthenticateRequest::api_key;
  a.api_version = authenticate_version_;
  msg::SaslAuthenticateRequest req;
  req.auth_bytes = std::move(auth_bytes);
  const auto ec = req.encode(a.body, a.api_version);
  OPENSSL_cleanse(req.auth_bytes.data(), req.auth_bytes.size());  // PLAIN carries the password
  if (ec) return fail(ec, "SASL: encoding SaslAuthenticate");
  state_ = phase::authenticate_sent;
  return a;
}

next_action authenticator::on_handshake(std::span<const std::uint8_t> body) {
  msg::SaslHandshakeResponse resp;
  if (const auto ec = resp.decode(body, handshake_version_)) {
    return fail(ec, "SASL: malformed SaslHandshake v" + std::to_string(handshake_version_) + " response");
  }
  const auto name = mechanism_->name();
  const bool offered = std::find(resp.mechanisms.begin(), resp.mechanisms.end(), name) != resp.mechanisms.end();
  if (resp.error_code == static_cast<std::int16_t>(kafka_errc::unsupported_sasl_mechanism) ||
      (resp.error_code == 0 && !offered)) {
    std::string list;
    for (const auto& m : resp.mechanisms) list += (list.empty() ? "" : ", ") + m;
    return fail(sasl_errc::mechanism_not_enabled, "SASL: mechanism " + std::string(name) +
                                                      " is not enabled on the broker; it offers: " +
                                                      (list.empty() ? "none" : list));
  }
  if (resp.error_code != 0) {
    const auto ec = make_kafka_error(resp.error_code);
    return fail(ec, "SASL: SaslHandshake failed: " + ec.message());
  }
  auto first = mechanism_->start();
  switch (first.kind) {
    case next_step::kind_t::send: return authenticate_request(std::move(first.data));
    case next_step::kind_t::fail: return fail(first.failure.code, std::move(first.failure.message));
    case next_step::kind_t::done: break;
  }
  return fail(sasl_errc::illegal_state, "SASL: " + std::string(name) + " ended before sending anything");
}

next_action authenticator::on_authenticate(std::span<const std::uint8_t> body) {
  msg::SaslAuthenticateResponse resp;
  if (const auto ec = resp.decode(body, authenticate_version_)) {
    return fail(ec, "SASL: malformed SaslAuthenticate v" + std::to_string(authenticate_version_) + " response");
  }
  const auto name = std::string(mechanism_->name());
  if (resp.error_code != 0) {
    const auto ec = make_kafka_error(resp.error_code);
    std::string text = "SASL " + name + " authentication failed: " +
                       (resp.error_message && !resp.error_message->empty() ? *resp.error_message : ec.message());
    if (const auto detail = mechanism_->diagnostic(); !detail.empty()) text += " (server challenge: " + detail + ")";
    return fail(ec, std::move(text));
  }
  auto next = mechanism_->step(resp.auth_bytes);
  switch (next.kind) {
    case next_step::kind_t::send: return authenticate_request(std::move(next.data));
    case next_step::kind_t::fail: return fail(next.failure.code, std::move(next.failure.message));
    case next_step::kind_t::done: break;
  }
  state_ = phase::finished;
  next_action a;
  a.kind = next_action::kind_t::done;
  a.session_lifetime_ms = std::max<std::int64_t>(resp.session_lifetime_ms, 0);
  return a;
}

}  // namespace asiokafka::sasl
