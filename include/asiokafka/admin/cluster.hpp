// Admin: the cluster (DescribeCluster), API versions and features per broker, log dirs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "asiokafka/admin/common.hpp"
#include "asiokafka/metadata.hpp"

namespace asiokafka {

struct DescribeClusterOptions {
  /// Ask for the operations the caller may perform on the cluster (KIP-430).
  bool include_authorized_operations = false;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// The cluster as a broker describes it (DescribeCluster, KIP-700).
struct ClusterDescription {
  std::string cluster_id;
  /// The broker the cluster names as controller. In KRaft mode this is a broker that forwards
  /// controller requests (the quorum's controllers are not brokers), as the Java Admin reports.
  std::int32_t controller_id = -1;
  std::vector<BrokerMetadata> brokers;  ///< By node id.
  AuthorizedOperations authorized_operations;
};

struct FindCoordinatorOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

}  // namespace asiokafka
