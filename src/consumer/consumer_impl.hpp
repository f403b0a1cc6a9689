// The Consumer's Asio shell: the state behind asiokafka::Consumer over the sans-I/O
// subscription, fetch_planner and fetch_session. Everything runs on the consumer's executor.
//
// Tasks (docs/consumer.md, "Design"):
// - fetch_loop: plans fetches (fetch_planner) whenever something changed (an answer, records
//   taken, an assignment, a seek, a resume, metadata) or consumer_timeout passed, and spawns
//   one fetch_request per broker with partitions to fetch (at most one per broker at a time).
// - fetch_request: builds the broker's request through its fetch_session, sends it on the
//   fetch connection with a bound of request_timeout + fetch_max_wait, decodes each
//   partition (partition_records) into the subscription and wakes the getters.
// - positions_task: finds a position for partitions without one: the group's committed
//   offset (with a group_id), else auto_offset_reset through ListOffsets.
// - auto_commit_loop: with group_id and enable_auto_commit, commits every interval.
// - group_loop (group.cpp): with a subscription and a group_id, drives one classic_member:
//   sends its requests to the coordinator (one task each), runs the leader's assignor and the
//   rebalance listener, and applies assignments. One loop per member; unsubscribe() lets the
//   old one finish its leave while a new subscription starts another.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "asiokafka/consumer.hpp"
#include "consumer/sansio/classic_member.hpp"
#include "consumer/sansio/consumer_member.hpp"
#include "consumer/sansio/fetch_planner.hpp"
#include "consumer/sansio/fetch_session.hpp"
#include "consumer/sansio/subscription.hpp"
#include "net/cluster.hpp"
#include "net/notifier.hpp"

namespace asiokafka::detail {

class consumer_impl : public std::enable_shared_from_this<consumer_impl> {
 public:
  consumer_impl(boost::asio::any_io_executor ex, ConsumerConfig config);
  ~consumer_impl();

  /// stopping: stop() is committing and leaving the group; get*() fail, commits still work.
  enum class state { created, running, stopping, stopped };

  boost::asio::awaitable<op_error> start();
  boost::asio::awaitable<op_error> stop();
  /// The Consumer object went away: cancel everything without waiting.
  void abandon() noexcept;

  void assign(std::vector<TopicPartition> partitions);
  std::set<TopicPartition> assignment() const;
  /// `server_regex`: KIP-848's broker-side pattern (sub_mode::server_pattern).
  void subscribe(std::vector<std::string> topics, std::optional<std::regex> pattern,
                 std::shared_ptr<ConsumerRebalanceListener> listener,
                 std::optional<std::string> server_regex = std::nullopt);
  void unsubscribe();
  std::set<std::string> subscription() const;
  GroupStatus group_status() const;
  void seek(const TopicPartition& tp, std::int64_t offset);
  void set_paused(std::span<const TopicPartition> tps, bool pause);
  std::set<TopicPartition> paused() const;
  std::size_t buffered_bytes() const noexcept { return sub_.buffered_bytes(); }
  std::vector<ConnectionInfo> connections() const { return cluster_->pool().connections(); }
  std::optional<std::int64_t> partition_field(const TopicPartition& tp, int field) const;

  boost::asio::awaitable<op_error> getmany(std::vector<TopicPartition> only, std::chrono::milliseconds timeout,
                                           std::size_t max_records, RecordBatches& out);
  boost::asio::awaitable<op_error> getone(std::vector<TopicPartition> only, ConsumerRecord& out);
  boost::asio::awaitable<op_error> next(std::optional<ConsumerRecord>& out);
  boost::asio::awaitable<op_error> position(TopicPartition tp, std::int64_t& out);
  boost::asio::awaitable<op_error> committed(std::vector<TopicPartition> tps,
                                             std::map<TopicPartition, OffsetAndMetadata>& out);
  boost::asio::awaitable<op_error> commit(std::optional<std::map<TopicPartition, OffsetAndMetadata>> offsets);
  boost::asio::awaitable<op_error> seek_to(std::vector<TopicPartition> tps, int policy);
  boost::asio::awaitable<op_error> list_offsets(std::map<TopicPartition, std::int64_t> times,
                                                std::map<TopicPartition, std::optional<OffsetAndTimestamp>>& out);
  boost::asio::awaitable<op_error> topics(std::set<std::string>& out);
  boost::asio::awaitable<op_error> partitions_for(std::string topic, std::set<std::int32_t>& out);

  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  const ConsumerConfig& config() const noexcept { return config_; }

 private:
  /// Starts a background task. An exception escaping one is a bug: rather than leave the
  /// task silently dead (a partition never fetched again), every later get*() fails with it.
  void spawn(boost::asio::awaitable<void> task, const char* what);
  boost::asio::awaitable<void> guarded(boost::asio::awaitable<void> task, const char* what);
  /// Wakes the fetch loop (something that may make a partition fetchable changed).
  void wake_fetcher() noexcept;
  boost::asio::awaitable<void> fetch_loop();
  boost::asio::awaitable<void> fetch_request(consumer::node_fetch nf);
  /// Acts on one partition's answer; true when records were kept.
  bool on_partition(const consumer::fetch_want& want, const protocol::messages::FetchResponse::PartitionData& data,
                    const frame& storage, std::int32_t node, net::time_point now);
  boost::asio::awaitable<void> positions_task();
  boost::asio::awaitable<void> auto_commit_loop();
  /// ListOffsets for `times` (by leader, retried within `deadline`).
  boost::asio::awaitable<op_error> list_offsets_until(std::map<TopicPartition, std::int64_t> times,
                                                      net::time_point deadline,
                                                      std::map<TopicPartition, std::optional<OffsetAndTimestamp>>& out);
  /// OffsetFetch of the group for `tps`, within `deadline`.
  boost::asio::awaitable<op_error> fetch_committed(std::vector<TopicPartition> tps, net::time_point deadline,
                                                   std::map<TopicPartition, OffsetAndMetadata>& out);
  /// Commits are serialised (one OffsetCommit of this consumer at a time, retries included), so
  /// a late retry can never move an offset behind a later commit; `make` computes the offsets
  /// once it is this commit's turn (consumed positions are read then, not before).
  boost::asio::awaitable<op_error> commit_in_turn(std::function<std::map<TopicPartition, OffsetAndMetadata>()> make,
                                                  net::time_point deadline);
  boost::asio::awaitable<op_error> commit_offsets(std::map<TopicPartition, OffsetAndMetadata> offsets,
                                                  net::time_point deadline);
  /// The consumed positions that differ from what was last committed.
  std::map<TopicPartition, OffsetAndMetadata> consumed_offsets(bool only_changed) const;
  /// The checks of a get*(): running, the partitions assigned.
  op_error check_get(const std::vector<TopicPartition>& only) const;
  std::shared_ptr<const std::string> topic_name(const std::string& topic);
  consumer::reset_policy default_policy() const noexcept;
  /// running, or stopping (commits and offset lookups still work, e.g. from the listener).
  bool usable() const noexcept { return state_ == state::running || state_ == state::stopping; }
  op_error not_usable(const char* what) const;

  // ---- group membership (group.cpp) ----
  /// server_pattern: the group coordinator matches server_regex_ (KIP-848).
  enum class sub_mode : std::uint8_t { none, manual, topics, pattern, server_pattern };
  bool subscribed() const noexcept {
    return mode_ == sub_mode::topics || mode_ == sub_mode::pattern || mode_ == sub_mode::server_pattern;
  }
  /// What a KIP-848 member subscribes with: the names wanted now, or the broker-side regex.
  consumer::group_subscription modern_subscription() const;
  struct member_slot;  // one member and its loop
  /// The topics to consume: the subscribed ones, or the pattern's matches in the metadata.
  std::vector<std::string> wanted_topics() const;
  void track_topics(const std::vector<std::string>& before, const std::vector<std::string>& after);
  void on_metadata_change(const net::metadata_change& change);
  void start_member();
  void start_modern_member();
  /// The subscription (topics, or the pattern's matches) changed: tell the member.
  void member_subscription_changed(net::time_point now);
  void leave_member();
  /// Without group_id: assigns every partition of the wanted topics (aiokafka's no-group mode).
  void assign_all_wanted();
  void polled() noexcept;
  /// A member (of the current subscription) is active: commits carry its generation.
  bool in_group() const noexcept;
  /// The generation and member id offsets are committed with.
  std::pair<std::int32_t, std::string> commit_identity() const;
  boost::asio::awaitable<void> group_loop(std::shared_ptr<member_slot> m);
  boost::asio::awaitable<void> modern_loop(std::shared_ptr<member_slot> m);
  /// What both loops do with the actions their members share: wait until a time, idle until
  /// an input, or report the membership's failure and idle: `next` when it handled the action,
  /// `dispatch` for any other action (the loop's own), `end` once the loop must end.
  enum class loop_step { next, dispatch, end };
  boost::asio::awaitable<loop_step> shared_step(const std::shared_ptr<member_slot>& m, const consumer::wait_until* wait,
                                                bool idle, const consumer::failed* failure);
  boost::asio::awaitable<void> consumer_heartbeat_task(std::shared_ptr<member_slot> m,
                                                       consumer::send_consumer_heartbeat a);
  boost::asio::awaitable<void> resolve_task(std::shared_ptr<member_slot> m, std::vector<protocol::uuid> ids);
  boost::asio::awaitable<void> join_task(std::shared_ptr<member_slot> m, consumer::send_join a);
  boost::asio::awaitable<void> sync_task(std::shared_ptr<member_slot> m, consumer::send_sync a);
  boost::asio::awaitable<void> heartbeat_task(std::shared_ptr<member_slot> m, consumer::send_heartbeat a);
  boost::asio::awaitable<void> leave_task(std::shared_ptr<member_slot> m, consumer::send_leave a);
  boost::asio::awaitable<void> assignment_task(std::shared_ptr<member_slot> m, consumer::run_assignment a);
  boost::asio::awaitable<void> revoke_task(std::shared_ptr<member_slot> m, consumer::revoke a);
  boost::asio::awaitable<void> assign_task(std::shared_ptr<member_slot> m, consumer::assign a);
  /// Calls the listener (`which`: 0 revoked, 1 assigned, 2 lost); an exception is recorded.
  boost::asio::awaitable<void> call_listener(std::shared_ptr<ConsumerRebalanceListener> l, int which,
                                             std::vector<TopicPartition> parts);
  /// Sends a group request to the coordinator on `purpose`, within `timeout`.
  boost::asio::awaitable<net::failure> to_coordinator(request_base& request, ConnectionPurpose purpose,
                                                      std::chrono::milliseconds timeout);
  std::int16_t isolation() const noexcept { return static_cast<std::int16_t>(config_.isolation_level); }

  boost::asio::any_io_executor executor_;
  ConsumerConfig config_;
  std::shared_ptr<net::cluster> cluster_;
  consumer::subscription sub_;
  consumer::fetch_planner planner_;
  std::map<std::int32_t, consumer::fetch_session> sessions_;
  std::map<std::int32_t, net::time_point> node_backoff_;  ///< no fetch to the node before
  std::map<std::string, std::shared_ptr<const std::string>> topic_names_;
  std::map<TopicPartition, std::int64_t> last_committed_;  ///< what this consumer committed
  net::event_source<net::metadata_change>::subscription on_metadata_;
  net::notifier fetch_wake_;
  net::notifier records_ready_;   ///< records or an error buffered, or stopped
  net::notifier positions_done_;  ///< the positions task ended a round
  bool fetch_dirty_ = false;
  bool positions_running_ = false;
  std::optional<op_error> broken_;  ///< a background task died of an exception (see spawn())
  sub_mode mode_ = sub_mode::none;
  std::vector<std::string> sub_topics_;  ///< sorted, unique (topics mode)
  std::optional<std::regex> pattern_;
  std::string server_regex_;  ///< sub_mode::server_pattern
  std::vector<std::string> matched_;  ///< the wanted topics now (tracked in the metadata)
  std::shared_ptr<ConsumerRebalanceListener> listener_;
  std::shared_ptr<member_slot> member_;  ///< the current member (group mode)
  std::vector<std::unique_ptr<consumer::assignor>> assignors_;
  std::size_t group_loops_ = 0;  ///< loops running, old members' leaves included
  net::notifier group_wake_;     ///< an input for a member arrived
  net::notifier group_done_;     ///< a group loop ended
  std::optional<op_error> group_error_;  ///< a member's fatal error, raised by get*()
  std::string last_group_error_;         ///< its message, for group_status()
  std::int32_t coordinator_node_ = -1;
  std::string kip1082_member_id_;  ///< the consumer protocol's member id, made once
  bool committing_ = false;      ///< a commit holds the turn (commit_in_turn)
  net::notifier commit_turn_;    ///< the turn was given back
  net::task_group tasks_;
  state state_ = state::created;
};

}  // namespace asiokafka::detail
