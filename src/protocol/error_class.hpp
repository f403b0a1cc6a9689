// The one error classification table: what an error code means for whoever decides what to do
// next (retry? reconnect? refresh metadata? find the coordinator again?). Every caller in the
// library asks here instead of keeping its own list; is_retriable and is_authentication_failure
// (public) are two of its columns. Sans-I/O: codes only. Whether a failed request may have
// reached the broker is not a property of the code: see net::failure::sent.
#pragma once

#include <system_error>

namespace asiokafka::protocol {

struct error_class {
  /// Repeating the operation (after a backoff, a metadata refresh or a reconnect) may succeed:
  /// Kafka's RetriableException set, the client's timeouts and transport failures.
  bool retriable = false;
  /// The connection failed or never came up (refused, reset, lost, timed out, no broker):
  /// the broker may be gone, so its metadata and coordinators are suspect.
  bool transport = false;
  /// The bytes from the broker could not be trusted (undecodable response, correlation id out
  /// of order, oversize frame): the connection was closed; asking again on a new one is safe for
  /// idempotent requests.
  bool corrupt_response = false;
  /// The partition's leadership moved or is unknown: forget the cached leader (keep its epoch)
  /// and refresh metadata before routing to it again.
  bool stale_leader = false;
  /// Routing information may be stale: refresh metadata soon (stale_leader, unknown leader
  /// epoch, transport failures).
  bool refresh_metadata = false;
  /// NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE: forget the coordinator and look it up again.
  bool coordinator_moved = false;
  /// COORDINATOR_LOAD_IN_PROGRESS: same coordinator, try again after a backoff.
  bool coordinator_loading = false;
  /// The credentials were refused or the server could not be authenticated.
  bool authentication = false;
};

/// The row of `ec` (client_errc, kafka_errc, sasl_errc, system and Asio network errors).
/// An empty code has no flag set.
error_class classify(std::error_code ec) noexcept;

}  // namespace asiokafka::protocol

namespace asiokafka::detail {
/// The retriable column of the Kafka error table (kafka_error.cpp): whether the Java client
/// maps `code` to a RetriableException. False for codes the table does not list.
bool kafka_retriable(int code) noexcept;
}  // namespace asiokafka::detail
