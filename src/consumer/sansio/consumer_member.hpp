// The KIP-848 consumer group member ("consumer" group protocol: ConsumerGroupHeartbeat, API 68),
// sans-I/O; the counterpart of classic_member.hpp, driven the same way and sharing its
// vocabulary (revoke, assign, wait_until, idle, failed, member_state, classic_member_status).
// The coordinator assigns; the member reconciles what it owns towards the coordinator's target
// and says what it owns in its heartbeats.
//
// Driving it: call next(now) until it returns wait_until (or idle / failed); a heartbeat,
// resolve_topics, revoke or assign counts as started when returned. Every heartbeat returned
// must be answered by on_heartbeat_response() or on_request_failed() (one is in flight at a
// time); every resolve_topics by topics_resolved() (with what the metadata knows now, maybe
// nothing: the member asks again later). topics_resolved() may also be called unasked.
//
// Identity (KIP-1082): config.member_id is made once per consumer (make_member_id()) and sent
// from the first heartbeat on; it is kept for the member's whole life: across rejoins, fencing,
// UNKNOWN_MEMBER_ID, the poll timeout and stop/start. Member epoch: 0 joins, -1 leaves, -2
// leaves a static member (it will come back with its instance id).
//
// States (member_state; health view in status()):
//   stopped -start-> unjoined -(heartbeat, epoch 0)-> joining -(answer)-> stable, the member
//   heartbeating every heartbeat_interval_ms the broker returned (config.heartbeat_interval
//   until the first answer). revoking / assigning: a listener runs (heartbeats go on).
//   left_poll_timeout: left for max_poll_interval, rejoins on the next polled(). stopping:
//   leave() in progress. fatal: failed{error} until leave().
// Reconciliation (one at a time): the target is the last assignment the coordinator sent (topic
//   ids). Ids without a known name are asked for (resolve_topics) and wait, as in Java; the
//   resolvable part is reconciled meanwhile and the rest once their names arrive. A
//   reconciliation revokes owned - target (revoke, lost = false) then assigns (assign, added =
//   target - owned; always issued, as Java always calls on_partitions_assigned), then the next
//   heartbeat, sent at once, carries the owned partitions as acknowledgement. A target arriving
//   during a reconciliation is reconciled after that acknowledgement went out. A target whose
//   resolvable part is what we already own runs no listener.
// Heartbeat fields: full on the join (epoch 0) and on the first heartbeat after any failed one
//   (as Java, whose fields may have been lost): rebalance timeout, rack, subscribed names ([] for
//   a regex subscription), the regex, server assignor, owned partitions ([] on the join). Other
//   heartbeats carry only what changed since the last one sent (null / -1 otherwise): the
//   subscription (names, or the regex; "" removes a regex) and the owned partitions after each
//   reconciliation. The member id, epoch and instance id are always sent (Java does the latter
//   too: a static member's leave with epoch -2 needs it). Leave heartbeats carry only those three.
// max_poll_interval: no polled() for that long while no listener runs: a leave heartbeat (epoch
//   -1, or -2 for a static member, as Java) whose answer is ignored, partitions lost,
//   left_poll_timeout until the next polled(), then a join with epoch 0.
// leave(): waits for a running listener and the heartbeat in flight, drops the reconciliation,
//   revokes what is owned (lost if no longer a member), sends the leave heartbeat once if the
//   coordinator may know us (a join was sent, even unanswered: KIP-1082), then stopped.
//
// Error table (from an answer or on_request_failed(); "n" = failures in a row, backoff(n) =
//   retry_backoff * 2^(n-1) capped at retry_backoff_max, no jitter; a success resets n):
//   FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID   epoch 0, owned partitions lost (revoke lost = true
//                                            after any running listener), then join with the
//                                            same member id: at once if n = 1, else backoff(n-1)
//   UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID, GROUP_AUTHORIZATION_FAILED, UNSUPPORTED_ASSIGNOR,
//   INVALID_REQUEST, GROUP_MAX_SIZE_REACHED, UNSUPPORTED_VERSION (kafka or client: a regex on
//   v0), INVALID_REGULAR_EXPRESSION, authentication failures, other non-retriable Kafka codes
//                                            fatal (Java: fatal), failed{error} until leave()
//   NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, other retriable
//   codes, transport failures, timeouts      same heartbeat again (full fields) after backoff(n);
//                                            partitions kept until session_timeout after the
//                                            last success, then lost and a join with epoch 0
//   Any answer to a leave heartbeat ends the leave (never retried). While stopping, fencing and
//   fatal codes only cancel the leave heartbeat. Answers sent before a fence, poll timeout or
//   stop are dropped.
//
// Deviations from Java's ConsumerMembershipManager / ConsumerHeartbeatRequestManager:
// - Retries always back off, the first rejoin after fencing excepted: Java retries at once after
//   NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE (once the coordinator is found again) and after
//   every fencing, and heartbeats at once while joining even within a backoff.
// - Java never gives partitions up on its own while the coordinator is unreachable (it waits
//   for the coordinator's fencing answer); we give them up as lost session_timeout (the broker's
//   group.consumer.session.timeout.ms, 45 s by default) after the last successful heartbeat,
//   since another member may have them by then.
// - A subscription change is sent at once (as librdkafka); Java waits for the next interval.
// - A target whose resolvable part equals what we own is not acknowledged at once (Java bumps
//   a local epoch and sends the same owned partitions again); it changes nothing at the broker.
// - A leave waits for the heartbeat in flight (at most a request timeout), so that answers can be
//   matched to requests; Java sends it at once.
// - A member id in an answer that differs from ours is adopted (a v0-era broker may name us);
//   Java 4.0 ignores it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "asiokafka/metadata.hpp"
#include "asiokafka/protocol/message_types.hpp"
#include "asiokafka/protocol/messages/consumer_group_heartbeat.hpp"
#include "consumer/sansio/classic_member.hpp"
#include "net/sansio/time.hpp"

namespace asiokafka::consumer {

/// What the member subscribes to: topic names, or a regular expression the broker resolves
/// (RE2/J syntax; ConsumerGroupHeartbeat v1+).
struct group_subscription {
  std::vector<std::string> topics;
  std::optional<std::string> regex;
  friend bool operator==(const group_subscription&, const group_subscription&) = default;
};

struct consumer_member_config {
  std::string group_id;
  /// KIP-1082: made once per consumer (make_member_id()) and kept for its whole life.
  std::string member_id;
  std::optional<std::string> group_instance_id;  ///< Static membership.
  std::optional<std::string> rack_id;            ///< client.rack; unset or non-empty.
  std::optional<std::string> server_assignor;    ///< group.remote.assignor; unset: the broker's.
  /// How long the coordinator waits for us to revoke; unset: max_poll_interval (Java).
  std::optional<std::chrono::milliseconds> rebalance_timeout;
  /// Until the first answer says otherwise (the broker's default is 5 s).
  std::chrono::milliseconds heartbeat_interval{5'000};
  /// The broker's session timeout, only to give partitions up when heartbeats keep failing.
  std::chrono::milliseconds session_timeout{45'000};
  std::chrono::milliseconds max_poll_interval{300'000};
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds retry_backoff_max{1'000};
};

/// A member id as Java makes one (Uuid.toString(): URL-safe base64 of 16 bytes, 22 characters)
/// from 16 random bytes; version-4 bits are set and a leading '-' is avoided, as Java does.
std::string make_member_id(const protocol::uuid& random_bytes);

struct topic_id_partitions {
  protocol::uuid topic_id{};
  std::vector<std::int32_t> partitions;  ///< Sorted.
  friend bool operator==(const topic_id_partitions&, const topic_id_partitions&) = default;
};

/// Send ConsumerGroupHeartbeat (make_request() builds it). Unset optionals are null on the
/// wire ("unchanged"), rebalance_timeout_ms -1 likewise.
struct send_consumer_heartbeat {
  std::string group_id;
  std::string member_id;
  std::int32_t member_epoch = 0;  ///< 0 join, -1 leave, -2 static leave, else the current one.
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  std::int32_t rebalance_timeout_ms = -1;
  std::optional<std::vector<std::string>> subscribed_topic_names;
  std::optional<std::string> subscribed_topic_regex;  ///< "" removes the regex.
  std::optional<std::string> server_assignor;
  std::optional<std::vector<topic_id_partitions>> topic_partitions;  ///< Owned, by topic id.
  bool full = false;  ///< Every field set (join, or after a failure).
};

/// Look these topic ids up in the metadata (refresh it if some are unknown) and answer with
/// topics_resolved(what is known now).
struct resolve_topics {
  std::vector<protocol::uuid> ids;
};

using consumer_member_action =
    std::variant<send_consumer_heartbeat, resolve_topics, revoke, assign, wait_until, idle, failed>;

class consumer_member {
 public:
  static constexpr std::int32_t join_epoch = 0;
  static constexpr std::int32_t leave_epoch = -1;
  static constexpr std::int32_t static_leave_epoch = -2;

  explicit consumer_member(consumer_member_config cfg);

  consumer_member_action next(net::time_point now);

  /// Subscribed: join. Ignored unless stopped (and not stopping).
  void start(group_subscription sub, net::time_point now);
  /// Stop or unsubscribe.
  void leave(net::time_point now);
  /// The application called get*(): resets the max_poll_interval clock; rejoins after a poll
  /// timeout.
  void polled(net::time_point now);
  /// New topics or regex: sent with the next heartbeat, at once (the coordinator reassigns).
  void subscription_changed(group_subscription sub, net::time_point now);
  /// The coordinator is unknown (lookup failing): hold heartbeats back for a backoff.
  void coordinator_unknown(net::time_point now);

  void on_heartbeat_response(const protocol::messages::ConsumerGroupHeartbeatResponse& resp, net::time_point now);
  /// The heartbeat got no answer (timeout, connection lost, no coordinator) or was not sent
  /// (make_request() refused it: pass its error).
  void on_request_failed(std::error_code ec, net::time_point now);
  /// Names of topic ids (from metadata), answering resolve_topics or unasked (e.g. the
  /// subscribed topics' ids before any assignment); ids left out stay unresolved and are asked
  /// again after a backoff. Names of ids in neither the current nor the target assignment are
  /// dropped when a new target arrives.
  void topics_resolved(const std::map<protocol::uuid, std::string>& names, net::time_point now);
  void revocation_done(net::time_point now);
  void assignment_done(net::time_point now);

  member_state state() const noexcept;
  /// generation is the member epoch; leader is always false.
  classic_member_status status() const;
  std::int32_t member_epoch() const noexcept { return epoch_; }
  /// The member epoch, for commits (OffsetCommit's generation id under KIP-848).
  std::int32_t generation() const noexcept { return epoch_; }
  const std::string& member_id() const noexcept { return member_id_; }
  /// Partitions the application holds (after the listener calls issued so far).
  const std::vector<TopicPartition>& assignment() const noexcept { return owned_; }
  /// Target topic ids whose names are not known yet.
  std::vector<protocol::uuid> unresolved_topics() const;
  const group_subscription& subscription() const noexcept { return sub_; }
  const consumer_member_config& config() const noexcept { return cfg_; }

 private:
  enum class phase : std::uint8_t { stopped, joining, member, stale, fatal };
  enum class listener : std::uint8_t { none, revoking, assigning };
  enum class request : std::uint8_t { none, join, regular, leave };
  using id_assignment = std::map<protocol::uuid, std::vector<std::int32_t>>;

  // What the last heartbeat sent carried (Java's "sent fields"); invalid: send everything.
  struct sent_fields {
    bool valid = false;
    std::vector<std::string> topics;
    std::optional<std::string> regex;
    std::uint64_t owned_version = 0;
  };

  // consumer_member_next.cpp
  consumer_member_action next_join(net::time_point now);
  consumer_member_action next_member(net::time_point now);
  consumer_member_action next_stopping(net::time_point now);
  consumer_member_action heartbeat_or_wait(net::time_point now);
  consumer_member_action wait_for(net::time_point when) const;
  bool resolve_due(net::time_point now) const;
  std::optional<consumer_member_action> reconcile();
  consumer_member_action issue_revoke(std::vector<TopicPartition> parts, bool lost);
  consumer_member_action issue_assign();
  send_consumer_heartbeat make_heartbeat(request kind, net::time_point now);
  void check_session(net::time_point now);
  void check_poll(net::time_point now);

  // consumer_member.cpp
  void heartbeat_succeeded(request kind, const protocol::messages::ConsumerGroupHeartbeatResponse& resp,
                           net::time_point now);
  void heartbeat_failed(std::error_code ec, net::time_point now);
  void set_target(const protocol::messages::ConsumerGroupHeartbeatResponse::Assignment& a, net::time_point now);
  void drop_membership();
  void fence(net::time_point now);
  void make_fatal(std::error_code ec);
  net::clock::duration backoff(std::uint32_t failures) const;

  consumer_member_config cfg_;
  phase phase_ = phase::stopped;
  listener listener_ = listener::none;
  bool stopping_ = false;
  group_subscription sub_;

  std::string member_id_;
  std::int32_t epoch_ = 0;
  bool in_group_ = false;          ///< A join was sent since the last fencing: the broker may know us.
  std::uint64_t incarnation_ = 0;  ///< Bumped when membership is dropped: older answers are stale.

  std::vector<TopicPartition> owned_;  ///< Sorted; what the application holds.
  std::vector<TopicPartition> revoking_;
  id_assignment current_;  ///< The reconciled assignment, as reported to the coordinator.
  bool current_valid_ = false;
  std::uint64_t current_version_ = 1;
  id_assignment target_;
  bool target_valid_ = false;
  std::map<protocol::uuid, std::string> names_;
  bool reconcile_needed_ = false;
  std::optional<assign> pending_assign_;  ///< The reconciliation's step after its revoke.
  id_assignment reconciling_;             ///< What current_ becomes when it completes.
  std::uint64_t reconcile_incarnation_ = 0;
  bool ack_due_ = false;    ///< A reconciliation completed: heartbeat at once.
  bool expedite_ = false;   ///< The subscription changed: heartbeat at once.
  bool lost_pending_ = false;
  bool leave_wanted_ = false;  ///< A leave heartbeat is still to be sent.
  bool regex_at_broker_ = false;  ///< A regex was sent since the join, no removal answered.
  bool removing_regex_ = false;   ///< The heartbeat in flight removes the regex ("").

  request inflight_ = request::none;
  std::uint64_t inflight_incarnation_ = 0;
  net::time_point sent_at_{};
  sent_fields sent_;
  std::chrono::milliseconds interval_;

  std::uint32_t failures_ = 0;
  net::time_point retry_at_{};
  net::time_point session_start_{};
  std::optional<net::time_point> last_heartbeat_ok_;
  net::time_point last_poll_{};

  bool resolve_outstanding_ = false;
  std::uint32_t resolve_failures_ = 0;
  net::time_point resolve_at_{};

  std::error_code last_error_;
  std::error_code fatal_error_;
};

}  // namespace asiokafka::consumer
