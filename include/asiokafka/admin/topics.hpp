// Admin: topics and their partitions (create, delete, list, describe, create_partitions).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "asiokafka/admin/common.hpp"
#include "asiokafka/admin/configs.hpp"
#include "asiokafka/metadata.hpp"
#include "asiokafka/protocol/message_types.hpp"

namespace asiokafka {

/// A topic to create. Not an aggregate (it has constructors), so `NewTopic("t", 3, 1)` is safe
/// inside `co_await` on GCC 12. -1 partitions or replication factor: the broker's default
/// (num.partitions, default.replication.factor; brokers from Kafka 2.4).
struct NewTopic {
  explicit NewTopic(std::string topic_name, std::int32_t partitions = -1, std::int16_t replication = -1)
      : name(std::move(topic_name)), num_partitions(partitions), replication_factor(replication) {}
  /// With an explicit replica assignment: partition index -> broker ids, the first preferred.
  NewTopic(std::string topic_name, std::map<std::int32_t, std::vector<std::int32_t>> assignment)
      : name(std::move(topic_name)), replica_assignment(std::move(assignment)) {}

  /// Adds a topic config ("cleanup.policy", "compact"); chainable.
  NewTopic& config(std::string key, std::string value) & {
    configs[std::move(key)] = std::move(value);
    return *this;
  }
  NewTopic&& config(std::string key, std::string value) && {
    configs[std::move(key)] = std::move(value);
    return std::move(*this);
  }

  std::string name;
  std::int32_t num_partitions = -1;
  std::int16_t replication_factor = -1;
  std::map<std::int32_t, std::vector<std::int32_t>> replica_assignment;
  std::map<std::string, std::string> configs;
};

struct CreateTopicsOptions {
  /// Ask the controller to check the request without creating anything.
  bool validate_only = false;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One topic of create_topics. On success (or a successful validate_only) the broker reports
/// what it created: id, partitions, replication factor and the topic's configs (Kafka 2.4+).
struct CreateTopicResult : AdminItemResult {
  std::string name;
  protocol::uuid topic_id{};
  std::int32_t num_partitions = -1;
  std::int16_t replication_factor = -1;
  std::vector<ConfigEntry> configs;
};

struct DeleteTopicsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One topic of delete_topics (by name or by id; the broker fills in what it knows).
struct DeleteTopicResult : AdminItemResult {
  std::string name;
  protocol::uuid topic_id{};
};

struct ListTopicsOptions {
  /// Also list internal topics (__consumer_offsets, __transaction_state, ...).
  bool include_internal = false;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// A topic of list_topics.
struct TopicListing {
  std::string name;
  protocol::uuid topic_id{};
  bool is_internal = false;
};

struct DescribeTopicsOptions {
  /// Ask for the operations the caller may perform on each topic (KIP-430).
  bool include_authorized_operations = false;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// A partition of describe_topics.
struct TopicPartitionInfo {
  std::int32_t partition = 0;
  /// The leader, or nullopt when the partition has none (offline).
  std::optional<BrokerMetadata> leader;
  std::int32_t leader_epoch = -1;
  std::vector<BrokerMetadata> replicas;  ///< In preference order; unknown brokers carry only the id.
  std::vector<BrokerMetadata> isr;
  std::vector<std::int32_t> offline_replicas;
};

/// One topic of describe_topics; an unknown topic reports UNKNOWN_TOPIC_OR_PARTITION.
struct TopicDescription : AdminItemResult {
  std::string name;
  protocol::uuid topic_id{};
  bool is_internal = false;
  std::vector<TopicPartitionInfo> partitions;  ///< By partition index.
  AuthorizedOperations authorized_operations;
};

/// Partitions to add to a topic: the new total and, optionally, the replicas of each new
/// partition (one list of broker ids per added partition).
struct NewPartitions {
  NewPartitions(std::string topic_name, std::int32_t total, std::vector<std::vector<std::int32_t>> assign = {})
      : topic(std::move(topic_name)), total_count(total), assignments(std::move(assign)) {}
  std::string topic;
  std::int32_t total_count = 0;
  std::vector<std::vector<std::int32_t>> assignments;
};

struct CreatePartitionsOptions {
  bool validate_only = false;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One topic of create_partitions.
struct CreatePartitionsResult : AdminItemResult {
  std::string topic;
};

}  // namespace asiokafka
