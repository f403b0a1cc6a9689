// Group, transaction and share coordinators found with FindCoordinator (v0-v6; v4+ batches
// several keys in one request), cached per (key type, key), sans-I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "asiokafka/metadata.hpp"
#include "asiokafka/protocol/messages/find_coordinator.hpp"

namespace asiokafka::net {

struct coordinator_result {
  std::string key;
  /// Empty when found (and now cached); otherwise the broker's error for this key.
  std::error_code ec;
  std::optional<BrokerMetadata> coordinator;
};

/// What an error from a coordinator (or from FindCoordinator) asks the caller to do.
enum class coordinator_action {
  none,        ///< No error.
  retry,       ///< Same coordinator, after retry_backoff (coordinator_load_in_progress, ...).
  rediscover,  ///< Forget the coordinator and FindCoordinator again, after retry_backoff.
  fail,        ///< Not retriable (authorization, invalid request, ...).
};

/// From the classification table (protocol/error_class.hpp): not_coordinator,
/// coordinator_not_available and transport failures (never connected, lost, timed out):
/// rediscover, as the Java client marks the coordinator unknown on all of these.
/// coordinator_load_in_progress and other retriable errors: retry. Anything else: fail.
/// Whether the request itself may be sent again is the caller's decision (net::failure::sent).
coordinator_action classify_coordinator_error(std::error_code ec) noexcept;

class coordinator_cache {
 public:
  /// The cached coordinator; valid until the entry changes.
  const BrokerMetadata* find(CoordinatorType type, std::string_view key) const;

  /// The request for `keys`: v4+ lists them in coordinator_keys; earlier versions take one
  /// key (the first; the caller sends one request per key below v4).
  static protocol::messages::FindCoordinatorRequest make_request(
      CoordinatorType type, std::span<const std::string> keys, std::int16_t version);

  /// Applies the response to make_request(type, keys, version): one result per asked key,
  /// in the order asked. A found coordinator is cached; not_coordinator and
  /// coordinator_not_available, and final errors, drop the entry; coordinator_load_in_progress
  /// leaves it as it was. A v4+ response that omits an asked key yields
  /// coordinator_not_available for it.
  std::vector<coordinator_result> apply(CoordinatorType type, std::span<const std::string> keys,
                                        const protocol::messages::FindCoordinatorResponse& r,
                                        std::int16_t version);

  /// An error from a request sent to the coordinator of (type, key). Drops the entry when the
  /// action is rediscover; returns the action.
  coordinator_action on_error(CoordinatorType type, std::string_view key, std::error_code ec);
  bool invalidate(CoordinatorType type, std::string_view key);
  /// The connection to a broker was lost: forget every coordinator it hosts. Returns their
  /// (type, key)s.
  std::vector<std::pair<CoordinatorType, std::string>> invalidate_node(std::int32_t node_id);
  std::size_t size() const noexcept;

 private:
  using map = std::map<std::string, BrokerMetadata, std::less<>>;
  map& entries(CoordinatorType type) { return maps_.at(static_cast<std::size_t>(type)); }
  const map& entries(CoordinatorType type) const {
    return maps_.at(static_cast<std::size_t>(type));
  }
  coordinator_result settle(CoordinatorType type, std::string key, std::int16_t error_code,
                            std::int32_t node_id, const std::string& host, std::int32_t port);

  std::array<map, 3> maps_;
};

}  // namespace asiokafka::net
