// What a client knows about the cluster: brokers, topics, partitions and leaders, coordinators
// and the connections it holds. One type per concept, used by the public API and inside the
// library alike (the metadata cache stores these).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <string_view>
#include <system_error>
#include <vector>

#include "asiokafka/protocol/message_types.hpp"

namespace asiokafka {

/// A broker: from cluster metadata, or a coordinator from FindCoordinator (without rack).
struct BrokerMetadata {
  std::int32_t node_id = -1;
  std::string host;
  std::int32_t port = 0;
  std::optional<std::string> rack;
  friend bool operator==(const BrokerMetadata&, const BrokerMetadata&) = default;
};

struct PartitionMetadata {
  std::int32_t partition = 0;
  std::int32_t leader = -1;        ///< -1: no leader known.
  std::int32_t leader_epoch = -1;  ///< -1: unknown (brokers before Metadata v7).
  std::vector<std::int32_t> replicas;
  std::vector<std::int32_t> isr;
  std::vector<std::int32_t> offline_replicas;
  std::error_code error;  ///< The partition's error in the response that installed it.
};

struct TopicMetadata {
  std::string name;
  protocol::uuid topic_id{};  ///< All zero when the broker did not send one.
  bool is_internal = false;
  /// Empty when usable. Otherwise the topic-level error of the last response
  /// (leader_not_available while being created, topic_authorization_failed, ...).
  std::error_code error;
  std::vector<PartitionMetadata> partitions;  ///< Sorted by partition index.
};

/// A copy of the client's view of the cluster.
struct ClusterMetadata {
  std::optional<std::string> cluster_id;
  std::int32_t controller_id = -1;
  std::vector<BrokerMetadata> brokers;  ///< By node id.
  std::vector<TopicMetadata> topics;    ///< By name; only topics the client has asked about.

  /// Lookups return pointers into this object, so they are not offered on a temporary
  /// (`client.metadata().topic(...)` would dangle): keep the copy in a variable.
  const BrokerMetadata* broker(std::int32_t node_id) const& noexcept;
  const TopicMetadata* topic(std::string_view name) const& noexcept;
  const BrokerMetadata* broker(std::int32_t node_id) const&& = delete;
  const TopicMetadata* topic(std::string_view name) const&& = delete;
};

/// A broker's host and port, as given in bootstrap_servers or announced in metadata.
struct BrokerAddress {
  std::string host;
  std::uint16_t port = 9092;
  friend bool operator==(const BrokerAddress&, const BrokerAddress&) = default;
};

/// A partition of a topic. Not an aggregate on purpose: `TopicPartition{"t", 0}` inside a
/// `co_await` expression is then a constructor call, which GCC 12 handles (docs/design.md).
struct TopicPartition {
  TopicPartition() = default;
  TopicPartition(std::string t, std::int32_t p) : topic(std::move(t)), partition(p) {}
  std::string topic;
  std::int32_t partition = 0;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

/// FindCoordinator's key type.
enum class CoordinatorType : std::int8_t { group = 0, transaction = 1, share = 2 };

/// Which of a broker's connections a request travels on, so a heartbeat never queues behind a
/// large fetch or a produce burst.
enum class ConnectionPurpose : std::uint8_t { produce, fetch, group, other };

/// Produce -> produce, Fetch -> fetch, group coordination APIs (JoinGroup, SyncGroup,
/// Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, TxnOffsetCommit, ConsumerGroupHeartbeat)
/// -> group, everything else -> other.
ConnectionPurpose purpose_of(std::int16_t api_key) noexcept;

/// A connection the client holds (for monitoring and tests).
struct ConnectionInfo {
  std::int32_t node_id = -1;  ///< Negative: a bootstrap address (-1 for the first, ...).
  ConnectionPurpose purpose = ConnectionPurpose::other;
  std::string address;
  std::size_t in_flight = 0;
  /// Changes whenever the connection of (node, purpose) is replaced by a new one.
  std::uint64_t generation = 0;
};

}  // namespace asiokafka
