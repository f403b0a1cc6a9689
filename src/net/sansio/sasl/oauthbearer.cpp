// OAUTHBEARER (RFC 7628 as used by Kafka, KIP-255) with SASL extensions (KIP-342).
//
//   client   n,,\x01auth=Bearer <token>\x01[<key>=<value>\x01]...\x01
//   server   empty on success, or an error JSON such as {"status":"invalid_token"}
//   client   \x01 (RFC 7628 §3.2.3: the client must answer an error with a lone kvsep);
//            the broker then fails the SaslAuthenticate with error 58.
#include <openssl/crypto.h>

#include <algorithm>
#include <exception>

#include "net/sansio/sasl/mechanism.hpp"

namespace asiokafka::sasl {
namespace {

constexpr char kvsep = '\x01';
constexpr std::size_t max_quoted = 512;

// KIP-342: extension names are one or more ASCII letters; "auth" is the token's own key.
bool valid_extension_key(std::string_view key) noexcept {
  if (key.empty() || key == "auth") return false;
  for (const char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

// RFC 7628 value = *(VCHAR / SP / HTAB / CR / LF); KIP-342 requires at least one character.
bool valid_extension_value(std::string_view value) noexcept {
  if (value.empty()) return false;
  for (const char c : value) {
    if (!((c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t' || c == '\r' || c == '\n')) return false;
  }
  return true;
}

// A bearer token is a b64token (RFC 6750 §2.1); a JWT is one. Visible ASCII at least, so
// that nothing can break the message's framing.
bool valid_token(std::string_view token) noexcept {
  if (token.empty()) return false;
  for (const char c : token) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

class oauthbearer_mechanism final : public mechanism {
 public:
  oauthbearer_mechanism(token_provider token, std::map<std::string, std::string> extensions)
      : token_(std::move(token)), extensions_(std::move(extensions)) {}

  std::string_view name() const noexcept override { return "OAUTHBEARER"; }

  next_step start() override {
    if (state_ != State::initial) return fail(sasl_errc::illegal_state, "start() called twice");
    state_ = State::finished;
    for (const auto& [key, value] : extensions_) {
      // The key is configuration, not a secret; the value may be, so it is never quoted.
      if (!valid_extension_key(key)) {
        return fail(sasl_errc::invalid_config,
                    "invalid extension name '" + key + "' (ASCII letters only, not \"auth\")");
      }
      if (!valid_extension_value(value)) {
        return fail(sasl_errc::invalid_config, "invalid value for extension '" + key + "'");
      }
    }
    if (!token_) return fail(sasl_errc::invalid_config, "no token provider configured");
    std::string token;
    try {
      token = token_();
    } catch (const std::exception& e) {
      return fail(sasl_errc::token_provider_failed, std::string("the token provider threw: ") + e.what());
    } catch (...) {
      return fail(sasl_errc::token_provider_failed, "the token provider threw");
    }
    if (token.empty()) return fail(sasl_errc::token_provider_failed, "the token provider returned an empty token");
    if (!valid_token(token)) {
      OPENSSL_cleanse(token.data(), token.size());
      return fail(sasl_errc::invalid_config, "the token contains characters outside visible ASCII");
    }
    std::string msg = "n,,";
    msg += kvsep;
    msg += "auth=Bearer " + token;
    msg += kvsep;
    for (const auto& [key, value] : extensions_) {
      msg += key + "=" + value;
      msg += kvsep;
    }
    msg += kvsep;
    OPENSSL_cleanse(token.data(), token.size());
    bytes out(msg.begin(), msg.end());
    OPENSSL_cleanse(msg.data(), msg.size());
    state_ = State::sent;
    return next_step::send(std::move(out));
  }

  next_step step(std::span<const std::uint8_t> challenge) override {
    switch (state_) {
      case State::sent:
        if (challenge.empty()) {
          state_ = State::finished;
          return next_step::done();
        }
        // An error challenge: remember it for the final error, then acknowledge it.
        error_json_.clear();
        for (const auto b : challenge.first(std::min(challenge.size(), max_quoted))) {
          error_json_ += (b >= 0x20 && b <= 0x7e) ? static_cast<char>(b) : '?';
        }
        if (challenge.size() > max_quoted) error_json_ += "...";
        state_ = State::error_acknowledged;
        return next_step::send(bytes{static_cast<std::uint8_t>(kvsep)});
      case State::error_acknowledged:
        // The broker should have failed the exchange itself after our kvsep.
        state_ = State::finished;
        return fail(sasl_errc::authentication_failed, "the server rejected the token: " + error_json_);
      default:
        return fail(sasl_errc::illegal_state, "no exchange in progress");
    }
  }

  std::string diagnostic() const override { return error_json_; }

 private:
  enum class State { initial, sent, error_acknowledged, finished };
  next_step fail(sasl_errc e, std::string_view what) const {
    return next_step::fail(e, "OAUTHBEARER: " + std::string(what));
  }

  token_provider token_;
  std::map<std::string, std::string> extensions_;
  State state_ = State::initial;
  std::string error_json_;
};

}  // namespace

std::unique_ptr<mechanism> make_oauthbearer(token_provider token, std::map<std::string, std::string> extensions) {
  return std::make_unique<oauthbearer_mechanism>(std::move(token), std::move(extensions));
}

}  // namespace asiokafka::sasl
