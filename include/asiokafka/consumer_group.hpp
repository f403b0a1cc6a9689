// Consumer group membership: the rebalance listener and the health view of Consumer::subscribe()
// (docs/consumer_groups.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "asiokafka/consumer_config.hpp"
#include "asiokafka/metadata.hpp"

namespace asiokafka {

/// Told when the group moves partitions to or from this consumer (aiokafka's
/// ConsumerRebalanceListener). The consumer's group task awaits each call before it goes on,
/// on the consumer's executor; meanwhile get*() returns no record of the partitions concerned,
/// heartbeats go on, and the listener may call the consumer (commit(), seek(), position(), ...).
/// A call may take up to ConsumerConfig::rebalance_timeout. An exception escaping a call is
/// recorded in GroupStatus::last_error and the rebalance goes on (as aiokafka).
class ConsumerRebalanceListener {
 public:
  virtual ~ConsumerRebalanceListener() = default;

  /// Before the consumer gives up `revoked` (eager protocol: everything it holds, before every
  /// rebalance; cooperative: only what moves to another member). With enable_auto_commit the
  /// consumed positions are committed before this call; commit yourself here otherwise.
  virtual boost::asio::awaitable<void> on_partitions_revoked(std::vector<TopicPartition> revoked) {
    (void)revoked;
    co_return;
  }
  /// After the consumer got `assigned` (eager: its whole new assignment; cooperative: only
  /// what was added), before any of their records is returned; seek() here to choose where
  /// they start (else: the committed offset, or auto_offset_reset).
  virtual boost::asio::awaitable<void> on_partitions_assigned(std::vector<TopicPartition> assigned) {
    (void)assigned;
    co_return;
  }
  /// The partitions were lost: the consumer's membership ended without a clean revoke (session
  /// expired, fenced, poll timeout), so another member may own them already and committing
  /// their offsets would fail. Default: on_partitions_revoked(lost), as the Java client.
  virtual boost::asio::awaitable<void> on_partitions_lost(std::vector<TopicPartition> lost) {
    co_await on_partitions_revoked(std::move(lost));
  }
};

/// Where the consumer stands in its group (GroupStatus::state).
enum class GroupState {
  none,               ///< no subscription, or no group_id
  unjoined,           ///< about to (re)join
  joining,            ///< JoinGroup sent, waiting for the other members
  leader_assigning,   ///< the leader computes the assignment
  syncing,            ///< SyncGroup sent, waiting for the assignment
  stable,             ///< member with an assignment, heartbeating
  revoking,           ///< on_partitions_revoked / _lost running
  assigning,          ///< on_partitions_assigned running
  left_poll_timeout,  ///< left after max_poll_interval without get*(); rejoins on the next get*()
  stopping,           ///< leaving (stop() or unsubscribe())
  failed,             ///< a fatal error (last_error); get*() raises it
};

/// A snapshot of the consumer's group membership, to see a stuck member (aiokafka #1154).
/// A topic pattern the group coordinator matches (KIP-848's server-side regex), for
/// `consumer.subscribe(SubscriptionPattern{"orders-.*"})`. The broker evaluates it with RE2/J
/// against whole topic names, and re-evaluates it as topics come and go, so every member of
/// the group sees the same topics at the same time. Needs a group_id and group_protocol
/// consumer; a std::regex pattern is matched by the client instead (both protocols).
struct SubscriptionPattern {
  std::string regex;
};

struct GroupStatus {
  GroupState state = GroupState::none;
  /// The membership protocol of the member (ConsumerConfig::group_protocol).
  GroupProtocol protocol = GroupProtocol::classic;
  /// Classic: the group's generation. KIP-848: this member's epoch (each member has its
  /// own). -1: not a member of a generation.
  std::int32_t generation = -1;
  std::string member_id;         ///< empty before the first JoinGroup answer
  bool leader = false;           ///< this member computed the last assignment
  std::set<TopicPartition> assignment;
  /// The last successful heartbeat; unset before one.
  std::optional<std::chrono::system_clock::time_point> last_heartbeat;
  /// The last error of a group request or rebalance listener (empty when none).
  std::error_code last_error;
  std::string last_error_message;
  std::int32_t coordinator = -1;  ///< the coordinator's node id; -1: unknown
};

}  // namespace asiokafka
