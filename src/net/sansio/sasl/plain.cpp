// PLAIN (RFC 4616): one message "authzid NUL authcid NUL passwd", here with an empty authzid.
#include <openssl/crypto.h>

#include "net/sansio/sasl/mechanism.hpp"

namespace asiokafka::sasl {
namespace {

class plain_mechanism final : public mechanism {
 public:
  plain_mechanism(std::string username, std::string password) : username_(std::move(username)), password_(std::move(password)) {}
  ~plain_mechanism() override { OPENSSL_cleanse(password_.data(), password_.size()); }

  std::string_view name() const noexcept override { return "PLAIN"; }

  next_step start() override {
    if (state_ != State::initial) return next_step::fail(sasl_errc::illegal_state, "PLAIN: start() called twice");
    state_ = State::sent;
    if (username_.empty()) {
      state_ = State::finished;
      return next_step::fail(sasl_errc::invalid_config, "PLAIN: the user name is empty");
    }
    // RFC 4616 forbids NUL in either field; it would shift the message's fields.
    if (username_.find('\0') != std::string::npos || password_.find('\0') != std::string::npos) {
      state_ = State::finished;
      return next_step::fail(sasl_errc::invalid_config, "PLAIN: the user name or password contains a NUL character");
    }
    bytes msg;
    msg.reserve(2 + username_.size() + password_.size());
    msg.push_back(0);
    msg.insert(msg.end(), username_.begin(), username_.end());
    msg.push_back(0);
    msg.insert(msg.end(), password_.begin(), password_.end());
    return next_step::send(std::move(msg));
  }

  next_step step(std::span<const std::uint8_t> challenge) override {
    if (state_ != State::sent) return next_step::fail(sasl_errc::illegal_state, "PLAIN: no exchange in progress");
    state_ = State::finished;
    // The server's outcome is the SaslAuthenticate error code; PLAIN defines no server data.
    if (!challenge.empty()) {
      return next_step::fail(sasl_errc::malformed_server_message, "PLAIN: unexpected data from the server");
    }
    return next_step::done();
  }

 private:
  enum class State { initial, sent, finished };
  std::string username_;
  std::string password_;
  State state_ = State::initial;
};

}  // namespace

std::unique_ptr<mechanism> make_plain(std::string username, std::string password) {
  return std::make_unique<plain_mechanism>(std::move(username), std::move(password));
}

}  // namespace asiokafka::sasl
