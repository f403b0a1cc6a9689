// The client's view of the cluster, sans-I/O: brokers, controller, cluster id, topics and
// partitions, merged from Metadata responses. No sockets, no clocks: time is an argument.
// The refresh policy (when to send a Metadata request, for which topics, who waits for it)
// lives in net/refresh_scheduler.hpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "asiokafka/metadata.hpp"
#include "asiokafka/protocol/message_types.hpp"
#include "asiokafka/protocol/messages/metadata.hpp"
#include "net/sansio/time.hpp"

namespace asiokafka::net {


/// Why leader_for() has no broker to offer.
enum class leader_status {
  ok,
  unknown_topic,      ///< Not in the cache (never fetched, or deleted): ask for metadata.
  topic_error,        ///< The topic is cached with an error (see `ec`).
  unknown_partition,  ///< The topic has no such partition (yet).
  no_leader,          ///< Leader -1, invalidated, or not in the broker list: refresh.
};

struct leader_lookup {
  leader_status status = leader_status::unknown_topic;
  /// The leader; valid until the next apply() or invalidate(). Null unless status is ok.
  const BrokerMetadata* broker = nullptr;
  std::int32_t leader_epoch = -1;
  /// ok: empty. Otherwise a kafka_errc: unknown_topic_or_partition, leader_not_available,
  /// or the topic's own error for topic_error.
  std::error_code ec;
};

/// Which topics a Metadata request asked for: it decides what an absent topic means.
struct metadata_scope {
  bool all_topics = false;          ///< The request had null topics (every topic).
  std::vector<std::string> topics;  ///< Otherwise, the topics asked for.
};

/// What apply() changed: the metadata change event the producer and consumer react to (move
/// batches to a new leader, grow the partition list, drop a deleted topic, restart positions
/// of a re-created one).
struct apply_result {
  /// Topics cached now that were not before (usable or with a retriable error).
  std::vector<std::string> added_topics;
  /// Topics gone: deleted, unknown to the broker, or absent from an all-topics answer.
  std::vector<std::string> removed_topics;
  /// Same name, new topic id: the old partitions (and their epochs) were dropped.
  std::vector<std::string> recreated_topics;
  /// Topics whose partition count changed (partitions added, or a re-created topic).
  std::vector<std::string> partition_count_changed;
  std::vector<TopicPartition> leader_changed;  ///< Leader id or epoch differs from before.
  std::vector<TopicPartition> stale_ignored;   ///< Older epoch than cached: kept ours.
  bool brokers_changed = false;                ///< A broker joined, left or moved.
  bool controller_changed = false;
  bool cluster_id_changed = false;

  /// Whether anything a client routes by changed (stale_ignored alone is not a change).
  bool changed() const noexcept {
    return !added_topics.empty() || !removed_topics.empty() || !recreated_topics.empty() ||
           !partition_count_changed.empty() || !leader_changed.empty() || brokers_changed ||
           controller_changed || cluster_id_changed;
  }
};

/// How a broker is loaded, as the caller (the connection pool) knows it.
struct node_load {
  bool usable = true;     ///< False while in reconnect backoff or otherwise not eligible.
  bool connected = false;
  std::size_t in_flight = 0;
};

struct metadata_cache_config {
  /// Kafka's metadata.max.age.ms: refresh at least this often even without errors.
  std::chrono::milliseconds metadata_max_age{300'000};
};

class metadata_cache {
 public:
  explicit metadata_cache(const metadata_cache_config& cfg = {});

  /// Merges a response to a request for `scope`. Brokers, controller and cluster id are
  /// replaced; topics are merged per their error code (see docs/design.md, "Cluster
  /// metadata"); a partition whose leader epoch is older than the cached one keeps the
  /// cached entry (KIP-320), unless the topic id changed (the topic was re-created).
  apply_result apply(const protocol::messages::MetadataResponse& r, time_point now,
                     const metadata_scope& scope = {});

  /// The leader of a partition, or why there is none.
  leader_lookup leader_for(std::string_view topic, std::int32_t partition) const;
  const BrokerMetadata* broker(std::int32_t id) const;
  const TopicMetadata* topic(std::string_view name) const;
  /// Cached topics, sorted by name.
  std::vector<std::string> topic_names() const;
  std::span<const BrokerMetadata> brokers() const noexcept { return brokers_; }
  std::int32_t controller_id() const noexcept { return controller_id_; }
  const std::optional<std::string>& cluster_id() const noexcept { return cluster_id_; }

  /// The broker with the fewest in-flight requests among usable ones, preferring connected
  /// brokers (an unconnected one would first need a connection), as Java's leastLoadedNode.
  /// Ties go to the first one from `rotation` (mod broker count) so callers spread load.
  /// Null when no broker is usable.
  const BrokerMetadata* any_broker(const std::function<node_load(std::int32_t)>& load,
                                std::size_t rotation = 0) const;

  /// A routing error for a partition. Leadership errors (not_leader_or_follower,
  /// leader_not_available, fenced_leader_epoch, unknown_topic_or_partition, unknown_topic_id,
  /// kafka_storage_error, replica_not_available, broker_not_available) forget the
  /// partition's leader but keep its epoch, so a stale response cannot bring an older leader
  /// back. Anything else (unknown_leader_epoch: the broker lags; a lost connection: the
  /// broker may be back after its reconnect backoff) keeps the leader. Either way a refresh
  /// becomes urgent. Returns whether the partition was cached.
  bool invalidate(std::string_view topic, std::int32_t partition, std::error_code reason);
  /// The same for every partition of a topic.
  bool invalidate(std::string_view topic, std::error_code reason);

  /// Drops a topic the client no longer uses (as the Java producer drops topics idle for
  /// metadata.max.idle.ms), so refreshes stop asking for it. Returns whether it was cached.
  bool forget(std::string_view topic);

  /// Whether a refresh is due at `now`: never refreshed, urgent, or older than max age.
  bool needs_refresh(time_point now) const noexcept;
  /// When the max age runs out (time_point::min() if never refreshed, or urgent).
  time_point refresh_due() const noexcept;
  bool urgent() const noexcept { return urgent_; }
  void mark_urgent() noexcept { urgent_ = true; }
  std::optional<time_point> last_refresh() const noexcept { return last_refresh_; }

 private:
  void merge_topic(const protocol::messages::MetadataResponse::MetadataResponseTopic& t,
                   apply_result& out);

  metadata_cache_config cfg_;
  std::vector<BrokerMetadata> brokers_;  // sorted by id
  std::int32_t controller_id_ = -1;
  std::optional<std::string> cluster_id_;
  std::map<std::string, TopicMetadata, std::less<>> topics_;
  std::optional<time_point> last_refresh_;
  bool urgent_ = false;
};

}  // namespace asiokafka::net
