// Admin: configuration of topics, brokers and broker loggers (DescribeConfigs,
// IncrementalAlterConfigs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "asiokafka/admin/common.hpp"

namespace asiokafka {

/// What a config belongs to, valued as the protocol's resource type.
enum class ConfigResourceType : std::int8_t {
  topic = 2,
  broker = 4,
  broker_logger = 8,
  client_metrics = 16,
  group = 32,
};

/// A resource whose configuration is described or altered: a topic by name, a broker or a
/// broker's loggers by node id ("1"); an empty broker name means the cluster-wide default.
struct ConfigResource {
  ConfigResource(ConfigResourceType t, std::string n) : type(t), name(std::move(n)) {}
  ConfigResourceType type;
  std::string name;
  friend bool operator==(const ConfigResource&, const ConfigResource&) = default;
};

/// Where a config's value comes from, valued as DescribeConfigs' config_source.
enum class ConfigSource : std::int8_t {
  unknown = 0,
  dynamic_topic = 1,
  dynamic_broker = 2,
  dynamic_default_broker = 3,
  static_broker = 4,
  default_config = 5,
  dynamic_broker_logger = 6,
  client_metrics = 7,
  group = 8,
};

/// A config's type (KIP-569), valued as on the wire.
enum class ConfigType : std::int8_t {
  unknown = 0,
  boolean = 1,
  string = 2,
  int32 = 3,
  shortint = 4,
  int64 = 5,
  float64 = 6,
  list = 7,
  class_name = 8,
  password = 9,
};

/// One of the values a config would take, strongest first (include_synonyms).
struct ConfigSynonym {
  std::string name;
  std::optional<std::string> value;
  ConfigSource source = ConfigSource::unknown;
};

/// A config as the broker reports it. Sensitive values (passwords) are never sent: nullopt.
struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;
  ConfigSource source = ConfigSource::unknown;
  bool read_only = false;
  bool is_sensitive = false;
  /// Whether the value is the default (source default_config).
  bool is_default() const noexcept { return source == ConfigSource::default_config; }
  std::vector<ConfigSynonym> synonyms;  ///< With include_synonyms.
  ConfigType type = ConfigType::unknown;
  std::optional<std::string> documentation;  ///< With include_documentation.
};

}  // namespace asiokafka
