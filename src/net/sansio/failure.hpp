// How things fail inside net: an error code, a message naming what failed, and (for a request)
// whether it may have reached the broker. Converted to exceptions only at the public edge
// (asiokafka::error); see docs/design.md, "Errors".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace asiokafka::net {

/// How far a failed request got. A request that surely never left the client may be sent
/// again without risk; one that may have been written must be resent only when the operation
/// is safe to repeat (an idempotent produce, a lookup), never blindly.
enum class delivery : std::uint8_t {
  not_sent,    ///< Never written: failed in a queue, before or while connecting, at a gate.
  maybe_sent,  ///< Written or being written: the broker may have acted on it.
};

/// A failure: code, message, delivery. The default value is "no failure".
struct failure {
  std::error_code code;
  /// What failed, for people: names the broker, the API, the topic... Never credentials.
  std::string message;
  delivery sent = delivery::not_sent;

  failure() = default;
  failure(std::error_code c, std::string m, delivery d = delivery::not_sent)
      : code(c), message(std::move(m)), sent(d) {}

  explicit operator bool() const noexcept { return static_cast<bool>(code); }
  bool maybe_sent() const noexcept { return sent == delivery::maybe_sent; }
  /// The message prefixed with `context` ("context: message").
  failure& prefix(const std::string& context) {
    message = message.empty() ? context : context + ": " + message;
    return *this;
  }
};

/// A value or the failure that prevented it.
template <class T>
class outcome {
 public:
  outcome(T value) : value_(std::move(value)) {}  // NOLINT: implicit, as a return value
  outcome(failure f) : failure_(std::move(f)) {}  // NOLINT
  outcome(std::error_code ec, std::string message, delivery d = delivery::not_sent)
      : failure_(ec, std::move(message), d) {}

  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  const failure& error() const noexcept { return failure_; }
  failure& error() noexcept { return failure_; }

 private:
  std::optional<T> value_;
  failure failure_;
};

}  // namespace asiokafka::net
