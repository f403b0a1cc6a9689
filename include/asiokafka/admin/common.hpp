// What every Admin operation shares: per-item outcomes and the per-call timeout.
// See docs/admin.md, "Results per item".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

namespace asiokafka {

/// How one item of an admin operation (a topic, a group, an ACL filter, ...) ended. An
/// operation that reached the cluster completes successfully and reports each item's own
/// outcome here, so one item's failure never hides the others' success; the operation itself
/// fails only when it could not be carried out at all (no broker within the timeout, the
/// admin closed, a malformed answer).
struct AdminItemResult {
  /// Empty on success; else a kafka_errc (the broker's answer for this item) or a client_errc
  /// (e.g. client_errc::invalid_argument for an item the client refused to send).
  std::error_code error;
  /// Names the item and, when the broker sent one, carries its message:
  /// "topic 'orders': TOPIC_ALREADY_EXISTS: Topic 'orders' already exists."
  std::string error_message;

  bool ok() const noexcept { return !error; }
  /// Throws asiokafka::error(error, error_message) when the item failed.
  void throw_if_error() const;
};

/// Throws the first failed item's error (asiokafka::error naming the item); does nothing when
/// every item succeeded. Works on any range of results derived from AdminItemResult.
template <class Range>
void throw_if_any_error(const Range& results) {
  for (const AdminItemResult& r : results) r.throw_if_error();
}

/// Every operation's options end with `timeout`: the operation's bound; zero (the default)
/// means AdminConfig::default_api_timeout. Options structs hold only trivially destructible
/// members, so `co_await admin.op(x, {.timeout = 5s})` is safe on GCC 12 (docs/design.md).


/// An authorization operation of Kafka's ACL model (AclOperation), valued as on the wire.
enum class AclOperation : std::int8_t {
  unknown = 0,
  any = 1,  ///< filters only: matches every operation
  all = 2,
  read = 3,
  write = 4,
  create = 5,
  remove = 6,  ///< DELETE
  alter = 7,
  describe = 8,
  cluster_action = 9,
  describe_configs = 10,
  alter_configs = 11,
  idempotent_write = 12,
  create_tokens = 13,
  describe_tokens = 14,
  two_phase_commit = 15,
};

/// The operations a describe call found the caller may perform on a resource
/// (include_authorized_operations, KIP-430): one bit per AclOperation.
struct AuthorizedOperations {
  /// False when the operations were not asked for or the broker did not send them.
  bool known = false;
  std::uint32_t bits = 0;
  bool allows(AclOperation op) const noexcept {
    return known && (bits & (1u << static_cast<unsigned>(op))) != 0;
  }
  /// From the wire's int32 (INT32_MIN: not provided).
  static AuthorizedOperations from_wire(std::int32_t v) noexcept {
    AuthorizedOperations a;
    if (v != INT32_MIN) {
      a.known = true;
      a.bits = static_cast<std::uint32_t>(v);
    }
    return a;
  }
};

}  // namespace asiokafka
