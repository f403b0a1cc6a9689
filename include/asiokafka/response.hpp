// The typed response of a request sent through a Client (or a connection), and the
// type-erased request the client's routing code carries until it knows the version to encode.
#pragma once

#include <cstdint>
#include <system_error>
#include <utility>
#include <vector>

#include "asiokafka/buffer.hpp"

namespace asiokafka {

/// A decoded response. Records fields of `message` (e.g. FetchResponse) are views into
/// `storage`, which the response keeps alive; copying a response shares the bytes.
template <class Message>
struct response {
  Message message;
  /// The API version the request was sent (and the response decoded) in.
  std::int16_t version = 0;
  /// The broker that answered (its node id; negative for a bootstrap address).
  std::int32_t node_id = -1;
  frame storage;

  const Message* operator->() const noexcept { return &message; }
  Message* operator->() noexcept { return &message; }
};

namespace detail {

/// A request on its way through the client: the version is chosen per connection, so encoding
/// waits until the connection is known. Implemented by `typed_request` for every message.
class request_base {
 public:
  request_base(std::int16_t key, std::int16_t max, bool expects) noexcept
      : api_key(key), max_version(max), expects_response(expects) {}
  virtual ~request_base() = default;
  request_base(const request_base&) = delete;
  request_base& operator=(const request_base&) = delete;

  /// Encodes the body in `version` (no side effects: a retry encodes again).
  virtual std::error_code encode(std::int16_t version, std::vector<std::uint8_t>& out) const = 0;
  /// Decodes `body` (the response after its header) into the stored response.
  virtual std::error_code decode(frame body, std::int16_t version, std::int32_t node_id) = 0;
  /// The response's top-level error_code, 0 when it has none (routing retries look at it).
  virtual std::int16_t top_level_error() const noexcept = 0;
  /// The response's throttle_time_ms, 0 when it has none.
  virtual std::int32_t throttle_time_ms() const noexcept = 0;

  const std::int16_t api_key;
  const std::int16_t max_version;
  const bool expects_response;
};

template <class Request>
bool expects_response(const Request& request) noexcept {
  if constexpr (requires { request.acks; }) {
    return request.acks != 0;  // ProduceRequest with acks=0 gets no response
  } else {
    (void)request;
    return true;
  }
}

template <class Request>
class typed_request final : public request_base {
 public:
  using message_type = typename Request::response_type;

  typed_request(Request r, std::int16_t max)
      : request_base(Request::api_key, max, detail::expects_response(r)), request_(std::move(r)) {}

  std::error_code encode(std::int16_t version, std::vector<std::uint8_t>& out) const override {
    return request_.encode(out, version);
  }
  std::error_code decode(frame body, std::int16_t version, std::int32_t node_id) override {
    result.message = message_type{};
    result.version = version;
    result.node_id = node_id;
    result.storage = std::move(body);
    if (!expects_response) return {};
    return result.message.decode(result.storage.bytes(), version);
  }
  std::int16_t top_level_error() const noexcept override {
    if constexpr (requires { result.message.error_code; }) {
      return static_cast<std::int16_t>(result.message.error_code);
    } else {
      return 0;
    }
  }
  std::int32_t throttle_time_ms() const noexcept override {
    if constexpr (requires { result.message.throttle_time_ms; }) {
      return result.message.throttle_time_ms;
    } else {
      return 0;
    }
  }

  response<message_type> result;

 private:
  Request request_;
};

}  // namespace detail
}  // namespace asiokafka
