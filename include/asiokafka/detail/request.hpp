// The type-erased request the library routes before it knows the version to encode, shared by
// the public facades' templates (Client::send...) and the connection layer. Not for users.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "asiokafka/metadata.hpp"
#include "asiokafka/protocol/message_types.hpp"
#include "asiokafka/response.hpp"

namespace asiokafka::detail {

/// A request on its way: the version is chosen per connection (the highest both sides
/// implement within [min_version, max_version]), so encoding waits until the connection is
/// known, and a retry encodes again. The connection decodes the answer into it.
class request_base {
 public:
  request_base(std::int16_t key, std::int16_t min, std::int16_t max, bool expects) noexcept
      : api_key(key), min_version(min), max_version(max), expects_response(expects) {}
  virtual ~request_base() = default;
  request_base(const request_base&) = delete;
  request_base& operator=(const request_base&) = delete;

  /// Encodes the body in `version`. No side effects: a retry encodes again.
  virtual std::error_code encode(std::int16_t version, std::vector<std::uint8_t>& out) const = 0;
  /// As encode, but large records fields may be left out of `out` and listed in `gather`
  /// instead, to be written from their own buffers. Only used when `records_owner` is set.
  virtual std::error_code encode_gathered(std::int16_t v, std::vector<std::uint8_t>& out,
                                         protocol::messages::GatheredRecords& gather) const {
    (void)gather;
    return encode(v, out);
  }
  /// Decodes `body` (the response after its header), answered in `version`.
  virtual std::error_code decode(frame body, std::int16_t version) = 0;
  /// The response's top-level error_code, 0 when it has none (routing retries look at it).
  virtual std::int16_t top_level_error() const noexcept = 0;
  /// The response's throttle_time_ms, 0 when it has none (KIP-219).
  virtual std::int32_t throttle_time_ms() const noexcept = 0;
  /// Whether the response carries `code` at the top level or for one of its items (topics,
  /// responses, results): how the client notices NOT_CONTROLLER in CreateTopics, DeleteTopics
  /// or CreatePartitions, whose errors are per topic.
  virtual bool has_error(std::int16_t code) const noexcept { return top_level_error() == code; }

  const std::int16_t api_key;
  const std::int16_t min_version;
  const std::int16_t max_version;
  const bool expects_response;

  /// Where the answer came from, set by the connection layer: the version it was sent in, the
  /// broker, and the generation of the connection that carried it.
  std::int16_t version = -1;
  std::int32_t node_id = -1;
  std::uint64_t connection_generation = 0;

  /// Zero-copy writes: when set, the connection writes large records fields straight from
  /// the memory they view, and holds this owner of that memory until those bytes are written
  /// or the connection is closed (the request itself may be gone by then: a cancelled wait).
  std::shared_ptr<const void> records_owner;
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

/// The request_base of a generated request type; the answer lands in `result`.
template <class Request>
class typed_request final : public request_base {
 public:
  using message_type = typename Request::response_type;

  explicit typed_request(Request r) : typed_request(std::move(r), Request::min_version, Request::max_version) {}
  /// Limits the versions (e.g. Metadata from v1, where an empty topic list means "none").
  typed_request(Request r, std::int16_t min, std::int16_t max)
      : request_base(Request::api_key, min, max, detail::expects_response(r)), request_(std::move(r)) {}

  /// Builds the message for the version the connection chose, from a copy of the request:
  /// fields a version lacks, or an error when the version cannot carry the request (the
  /// request then fails with it).
  using version_hook = std::function<std::error_code(std::int16_t version, Request& message)>;
  void set_version_hook(version_hook hook) { hook_ = std::move(hook); }

  std::error_code encode(std::int16_t v, std::vector<std::uint8_t>& out) const override {
    if (hook_) {
      Request r = request_;
      if (auto ec = hook_(v, r)) return ec;
      return r.encode(out, v);
    }
    return request_.encode(out, v);
  }
  std::error_code encode_gathered(std::int16_t v, std::vector<std::uint8_t>& out,
                                 protocol::messages::GatheredRecords& gather) const override {
    if (hook_) return encode(v, out);
    if constexpr (requires { request_.encode(out, v, gather); }) {
      return request_.encode(out, v, gather);
    } else {
      (void)gather;
      return request_.encode(out, v);
    }
  }
  std::error_code decode(frame body, std::int16_t v) override {
    result_.message = message_type{};
    result_.storage = std::move(body);
    if (!expects_response) return {};
    return result_.message.decode(result_.storage.bytes(), v);
  }
  std::int16_t top_level_error() const noexcept override {
    if constexpr (requires { result_.message.error_code; }) {
      return static_cast<std::int16_t>(result_.message.error_code);
    } else {
      return 0;
    }
  }
  std::int32_t throttle_time_ms() const noexcept override {
    if constexpr (requires { result_.message.throttle_time_ms; }) {
      return result_.message.throttle_time_ms;
    } else {
      return 0;
    }
  }

  bool has_error(std::int16_t code) const noexcept override {
    if (top_level_error() == code) return true;
    const auto& m = result_.message;
    auto any = [code](const auto& items) {
      for (const auto& item : items) {
        if constexpr (requires { item.error_code; }) {
          if (item.error_code == code) return true;
        }
      }
      return false;
    };
    if constexpr (requires { m.topics.begin(); }) {
      if (any(m.topics)) return true;
    }
    if constexpr (requires { m.responses.begin(); }) {
      if (any(m.responses)) return true;
    }
    if constexpr (requires { m.results.begin(); }) {
      if (any(m.results)) return true;
    }
    return false;
  }

  const Request& request() const noexcept { return request_; }
  const message_type& message() const noexcept { return result_.message; }
  /// The answer with where it came from; leaves this object without it.
  response<message_type> take() {
    result_.version = version;
    result_.node_id = node_id;
    result_.connection_generation = connection_generation;
    return std::move(result_);
  }

 private:
  Request request_;
  version_hook hook_;
  response<message_type> result_;
};

/// Where a request goes (see the Client::send* family).
struct route {
  enum class kind { any, node, leader, coordinator, controller };
  kind target = kind::any;
  std::int32_t node_id = -1;
  std::string name;  ///< Topic (leader) or key (coordinator).
  std::int32_t partition = 0;
  CoordinatorType coordinator = CoordinatorType::group;
  /// The connection to use instead of the API's own (purpose_of): a group's offset commits go
  /// on `other`, so they never queue behind a JoinGroup the coordinator holds.
  std::optional<ConnectionPurpose> purpose;
};

}  // namespace asiokafka::detail
