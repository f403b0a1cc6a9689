// Admin: what each broker reports about itself (log dirs, API versions) and the cluster's
// feature levels (DescribeFeatures through ApiVersions, UpdateFeatures).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "asiokafka/admin/common.hpp"
#include "asiokafka/metadata.hpp"

namespace asiokafka {

struct DescribeLogDirsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// A replica stored in a log dir.
struct ReplicaLogInfo {
  TopicPartition topic_partition;
  std::int64_t size_bytes = 0;
  /// How far the replica is behind the log end (the high watermark for a follower, the log
  /// end for a future replica being moved between dirs); 0 for a leader.
  std::int64_t offset_lag = 0;
  /// A replica being moved to this dir (alter replica log dirs), not yet the current one.
  bool is_future = false;
};

/// One log dir of a broker; its error (e.g. KAFKA_STORAGE_ERROR for an offline dir) names
/// the broker and the path.
struct LogDirDescription : AdminItemResult {
  std::string path;
  /// The volume's size and free space (DescribeLogDirs v4, Kafka 3.3+); nullopt before.
  std::optional<std::int64_t> total_bytes;
  std::optional<std::int64_t> usable_bytes;
  std::vector<ReplicaLogInfo> replicas;  ///< By topic, then partition.
};

/// One broker of describe_log_dirs: its dirs, or its error (a broker that could not be
/// reached within the timeout, an id not in the cluster: client_errc::invalid_argument).
struct BrokerLogDirs : AdminItemResult {
  std::int32_t broker_id = -1;
  std::vector<LogDirDescription> dirs;  ///< By path.
};

struct DescribeApiVersionsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One API a broker serves, and the versions it accepts.
struct ApiVersionInfo {
  std::int16_t api_key = 0;
  /// Kafka's name for the API ("Produce", "ListOffsets"), or empty when this library has
  /// no codec for it.
  std::string name;
  std::int16_t min_version = 0;
  std::int16_t max_version = 0;
};

/// One broker of describe_api_versions.
struct BrokerApiVersions : AdminItemResult {
  std::int32_t broker_id = -1;
  std::vector<ApiVersionInfo> apis;  ///< By API key.
};

struct DescribeFeaturesOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// A feature's finalized level range in the cluster (e.g. "metadata.version").
struct FinalizedFeatureLevels {
  std::int16_t min_level = 0;
  std::int16_t max_level = 0;
};

/// The range of levels a broker can run a feature at.
struct SupportedFeatureVersions {
  std::int16_t min_version = 0;
  std::int16_t max_version = 0;
};

/// The cluster's features (ApiVersions v3+, KIP-584), as one broker knows them.
struct FeatureMetadata {
  std::map<std::string, FinalizedFeatureLevels> finalized;
  std::map<std::string, SupportedFeatureVersions> supported;
  /// The epoch of the finalized levels; nullopt when the broker sent none.
  std::optional<std::int64_t> finalized_epoch;
  /// The broker that answered.
  std::int32_t broker_id = -1;
};

/// How update_features may move a feature's level (UpdateFeatures v1+).
enum class FeatureUpgradeType : std::int8_t {
  upgrade = 1,           ///< Only raise the level.
  safe_downgrade = 2,    ///< Lower it only where no metadata is lost.
  unsafe_downgrade = 3,  ///< Lower it even if metadata is lost.
};

/// A feature's new maximum level. A level of 0 with a downgrade removes the feature.
struct FeatureUpdate {
  FeatureUpdate(std::int16_t level, FeatureUpgradeType type = FeatureUpgradeType::upgrade)
      : max_level(level), upgrade_type(type) {}
  std::int16_t max_level;
  FeatureUpgradeType upgrade_type;
};

struct UpdateFeaturesOptions {
  /// Ask the controller to check the updates without applying them (UpdateFeatures v1+).
  bool validate_only = false;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One feature of update_features.
struct UpdateFeatureResult : AdminItemResult {
  std::string feature;
};

}  // namespace asiokafka
