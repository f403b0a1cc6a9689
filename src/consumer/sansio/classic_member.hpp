// The classic consumer group member (JoinGroup / SyncGroup / Heartbeat / LeaveGroup), sans-I/O.
// It sends nothing and reads no clock: next(now) says what to do next, the on_*() inputs digest
// what came back. A thin task on the group connection runs it (classic_member_requests.hpp
// turns the send_* actions into requests).
//
// Driving it: call next(now) until it returns wait_until (or idle / failed); a send_*, revoke,
// assign or run_assignment action counts as started when returned, so the following next()
// gives the next thing to do (a heartbeat may go out while the listener runs). wait_until{t}:
// nothing to do before t or before an input arrives (t = time_point::max(): only an input).
// Every request returned must be answered by its on_*_response() or by on_request_failed().
//
// States (member_state; health view in status()):
//   stopped -start-> unjoined -send_join-> joining -> leader_assigning (leader only, the shell
//   runs the assignor) -> syncing -> stable. Listener phases: revoking (on_partitions_revoked or
//   _lost running), assigning (on_partitions_assigned running). left_poll_timeout: left for
//   max_poll_interval, rejoins on the next polled(). stopping: leave() in progress. fatal.
// Rebalance:
//   eager: before each JoinGroup revoke everything (once per rebalance; an owned set that is
//     already empty is not revoked again), after SyncGroup assign the whole new assignment.
//   cooperative (KIP-429): join with the owned partitions; after SyncGroup revoke owned - new
//     (not lost), assign new - owned; a non-empty revoke is followed by a second JoinGroup.
//   Partitions held when the generation is lost (errors below, session expiry, poll timeout)
//     go through revoke{lost = true} before the next JoinGroup, eager and cooperative alike.
// Heartbeats: every heartbeat_interval from the last one sent, while the phase is stable or a
//   listener runs with a valid generation (the application's slowness does not expel us),
//   never while a JoinGroup or SyncGroup is pending; one request of each kind in flight.
//   No successful heartbeat (or SyncGroup) for session_timeout: we assume we were expelled:
//   generation reset (member id kept), partitions lost, rejoin.
// max_poll_interval: no polled() for that long while stable: LeaveGroup (reason "consumer
//   poll timeout has expired"; static members too, with their instance id), generation and
//   member id reset, partitions lost, left_poll_timeout until the next polled(); the poll
//   clock only runs while stable with no listener.
// leave(): waits for a running listener, aborts a pending join/sync (its answer is dropped),
//   revokes what is owned (lost if the generation is gone), sends LeaveGroup once if dynamic
//   with a member id (static members just stop, KIP-345), then stopped.
//
// Error table (join = JoinGroup, sync = SyncGroup, hb = Heartbeat, from a response or from
// on_request_failed; "rejoin now" is immediate the first time in a row, then backs off):
//   MEMBER_ID_REQUIRED (join, KIP-394)      take the response's member id, rejoin at once
//   REBALANCE_IN_PROGRESS (join/sync/hb)    rejoin now (eager: revoke first; cooperative keeps)
//   UNKNOWN_MEMBER_ID (join/sync/hb)        reset member id and generation, lost, rejoin now
//   ILLEGAL_GENERATION (join/sync/hb)       reset generation, lost, rejoin now
//   FENCED_INSTANCE_ID, GROUP_AUTHORIZATION_FAILED, INVALID_SESSION_TIMEOUT, INVALID_GROUP_ID,
//   UNSUPPORTED_VERSION (kafka or client), INCONSISTENT_GROUP_PROTOCOL, GROUP_MAX_SIZE_REACHED,
//   authentication failures                 fatal: failed{error} until leave()
//   anything else (coordinator moved or loading, timeouts, connection lost, unexpected codes):
//     join/sync: JoinGroup again after backoff (generation and member id kept);
//     hb: heartbeat again after backoff (the session clock keeps running);
//     LeaveGroup: any answer or failure ends the leave (never retried).
//   Backoff: retry_backoff * 2^(n-1) capped at retry_backoff_max for the n-th failure in a row,
//   no jitter; a successful SyncGroup / heartbeat resets it.
//   Heartbeat answers sent under an older generation, or arriving while a JoinGroup/SyncGroup
//   is pending, are ignored.
//
// Deviations from the Java classic consumer:
// - Java does not send LeaveGroup for a static member on poll timeout (it stops heartbeating
//   and lets the session expire); we do, as Java's KIP-848 consumer does, to hand its
//   partitions over at once.
// - On session expiry Java only marks the coordinator unknown and waits for the heartbeat's
//   verdict; we give the partitions up as lost at once (another member may have them).
// - Java retries JoinGroup at once after REBALANCE_IN_PROGRESS / UNKNOWN_MEMBER_ID /
//   ILLEGAL_GENERATION forever; we do so once, then back off, so a broker that keeps answering
//   so cannot make us spin. Unexpected error codes are retried with backoff, not thrown.
// - A SyncGroup assignment that does not decode triggers a rejoin after backoff (Java throws
//   from poll()); a member whose JoinGroup metadata does not decode is given to the assignor
//   with no topics (Java's leader throws).
// - Owned partitions are sent with the generation they were assigned in (Java: the current).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "asiokafka/metadata.hpp"
#include "asiokafka/protocol/messages/heartbeat.hpp"
#include "asiokafka/protocol/messages/join_group.hpp"
#include "asiokafka/protocol/messages/leave_group.hpp"
#include "asiokafka/protocol/messages/sync_group.hpp"
#include "consumer/sansio/assignors.hpp"
#include "consumer/sansio/group_protocol.hpp"
#include "net/sansio/time.hpp"

namespace asiokafka::consumer {

struct classic_member_config {
  std::string group_id;
  std::optional<std::string> group_instance_id;  ///< Static membership (KIP-345).
  std::chrono::milliseconds session_timeout{45'000};
  /// How long the coordinator waits for members to rejoin; unset: max_poll_interval (Java).
  std::optional<std::chrono::milliseconds> rebalance_timeout;
  std::chrono::milliseconds heartbeat_interval{3'000};
  std::chrono::milliseconds max_poll_interval{300'000};
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds retry_backoff_max{1'000};
  /// Cooperative only if every configured assignor is (the shell decides, as Java).
  rebalance_protocol protocol = rebalance_protocol::eager;
};

/// The request kinds, for on_request_failed().
enum class group_request : std::uint8_t { join, sync, heartbeat, leave };

/// Send JoinGroup. The shell adds the protocols: for each assignor its name and the encoded
/// subscription with owned_partitions and owned_generation (encode_join_protocols()).
struct send_join {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::int32_t session_timeout_ms = 0;
  std::int32_t rebalance_timeout_ms = 0;
  std::string reason;
  std::vector<TopicPartition> owned_partitions;
  std::int32_t owned_generation = -1;
};
/// The leader runs the assignor named protocol_name over these members, then calls
/// on_assignment_computed().
struct run_assignment {
  std::string protocol_name;
  std::vector<member_subscription> members;
};
struct send_sync {
  std::int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string protocol_type;
  std::string protocol_name;
  /// Member id -> encoded assignment (leader only; empty for followers).
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> assignments;
};
struct send_heartbeat {
  std::int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};
struct send_leave {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string reason;
};
/// Run on_partitions_revoked (lost = false; commit first if auto-commit) or on_partitions_lost
/// (no commit), stop fetching them, then call revocation_done().
struct revoke {
  std::vector<TopicPartition> partitions;
  bool lost = false;
};
/// Make `assignment` the consumer's assignment, run on_partitions_assigned(added), then call
/// assignment_done().
struct assign {
  std::vector<TopicPartition> added;
  std::vector<TopicPartition> assignment;
};
struct wait_until {
  net::time_point when;
};
/// Not a member and nothing to do (before start(), after leave()).
struct idle {};
/// A fatal error: the member stays here until leave().
struct failed {
  std::error_code error;
};

using member_action = std::variant<send_join, run_assignment, send_sync, send_heartbeat, send_leave, revoke,
                                   assign, wait_until, idle, failed>;

enum class member_state : std::uint8_t {
  unjoined,
  joining,
  leader_assigning,
  syncing,
  stable,
  revoking,
  assigning,
  left_poll_timeout,
  stopping,
  stopped,
  fatal
};

/// The public health view (aiokafka #1154: make a stuck member visible).
struct classic_member_status {
  member_state state = member_state::stopped;
  std::int32_t generation = -1;
  std::string member_id;
  bool leader = false;
  std::vector<TopicPartition> assignment;
  std::optional<net::time_point> last_heartbeat;  ///< Last successful heartbeat.
  std::error_code last_error;
};

class classic_member {
 public:
  explicit classic_member(classic_member_config cfg);

  member_action next(net::time_point now);

  /// Subscribed (again): join. Ignored unless stopped (and not stopping).
  void start(net::time_point now);
  /// Stop or unsubscribe.
  void leave(net::time_point now);
  /// The application called get*(): resets the max_poll_interval clock; rejoins after a poll
  /// timeout.
  void polled(net::time_point now);
  /// This member's subscription (topics or pattern matches) changed: rejoin.
  void subscription_changed(net::time_point now);
  /// The leader's view of the group's topics (group_topics()) changed: rejoin if leader.
  void group_metadata_changed(net::time_point now);
  /// The coordinator is unknown (lookup failing): hold requests back for a backoff.
  void coordinator_unknown(net::time_point now);

  void on_join_response(const protocol::messages::JoinGroupResponse& resp, net::time_point now);
  void on_assignment_computed(const std::map<std::string, member_assignment>& assignments, net::time_point now);
  void on_sync_response(const protocol::messages::SyncGroupResponse& resp, net::time_point now);
  void on_heartbeat_response(const protocol::messages::HeartbeatResponse& resp, net::time_point now);
  void on_leave_response(const protocol::messages::LeaveGroupResponse& resp, net::time_point now);
  /// A request got no answer (timeout, connection lost, no coordinator) or was not sent.
  void on_request_failed(group_request which, std::error_code ec, net::time_point now);
  void revocation_done(net::time_point now);
  void assignment_done(net::time_point now);

  member_state state() const noexcept;
  classic_member_status status() const;
  std::int32_t generation() const noexcept { return generation_; }
  const std::string& member_id() const noexcept { return member_id_; }
  bool is_leader() const noexcept { return leader_; }
  /// Partitions the application holds (after the listener calls issued so far).
  const std::vector<TopicPartition>& assignment() const noexcept { return assignment_; }
  /// Leader: every member's topics at the last assignment (sorted), for metadata watching.
  const std::vector<std::string>& group_topics() const noexcept { return group_topics_; }
  const classic_member_config& config() const noexcept { return cfg_; }

 private:
  enum class phase : std::uint8_t { stopped, unjoined, joining, leader_assigning, syncing, stable, left_poll_timeout, fatal };
  enum class listener : std::uint8_t { none, revoking, assigning };

  member_action next_join(net::time_point now);
  member_action next_stable(net::time_point now);
  member_action next_stopping(net::time_point now);
  member_action heartbeat_or_wait(net::time_point now);
  member_action issue_revoke(std::vector<TopicPartition> parts, bool lost);
  bool may_heartbeat() const noexcept;
  void check_session(net::time_point now);
  void request_rejoin(std::string reason);
  void reset_generation(bool reset_member_id);
  void join_round_failed(std::error_code ec, net::time_point now);
  void heartbeat_failed(std::error_code ec, net::time_point now);
  void leave_finished(std::error_code ec);
  void make_fatal(std::error_code ec);
  net::clock::duration backoff(std::uint32_t failures) const;

  classic_member_config cfg_;
  phase phase_ = phase::stopped;
  listener listener_ = listener::none;
  bool stopping_ = false;

  std::int32_t generation_ = -1;
  std::string member_id_;
  bool leader_ = false;
  std::string protocol_name_;
  std::vector<std::string> group_topics_;

  std::vector<TopicPartition> assignment_;  ///< Sorted.
  std::int32_t assignment_generation_ = -1;
  std::vector<TopicPartition> revoking_;  ///< What the running revoke listener gives up.
  std::optional<std::vector<TopicPartition>> pending_revoke_;
  std::optional<assign> pending_assign_;
  bool lost_pending_ = false;
  bool need_rejoin_ = false;
  std::string rejoin_reason_;

  std::optional<run_assignment> assignment_to_run_;
  std::optional<send_sync> sync_to_send_;
  std::optional<send_leave> leave_to_send_;

  bool join_inflight_ = false;
  bool sync_inflight_ = false;
  bool heartbeat_inflight_ = false;
  bool leave_inflight_ = false;
  std::int32_t heartbeat_generation_ = -1;
  net::time_point heartbeat_sent_at_{};

  std::uint32_t join_failures_ = 0;
  std::uint32_t heartbeat_failures_ = 0;
  net::time_point join_retry_at_{};
  net::time_point next_heartbeat_at_{};
  net::time_point session_start_{};
  std::optional<net::time_point> last_heartbeat_ok_;
  net::time_point last_poll_{};
  std::error_code last_error_;
  std::error_code fatal_error_;
};

}  // namespace asiokafka::consumer
