// Admin: configuration of topics, brokers and broker loggers (DescribeConfigs,
// IncrementalAlterConfigs).
#pragma once

#include <chrono>
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

struct DescribeConfigsOptions {
  /// Also report, per config, every value it would take and where from (strongest first).
  bool include_synonyms = false;
  /// Also report each config's documentation (DescribeConfigs v3+, Kafka 2.6+).
  bool include_documentation = false;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One resource of describe_configs: its configs as the broker reports them, or the error.
struct ConfigDescription : AdminItemResult {
  ConfigResource resource{ConfigResourceType::topic, ""};
  std::vector<ConfigEntry> entries;
  /// The entry named `config_name`, or nullptr.
  const ConfigEntry* find(const std::string& config_name) const noexcept {
    for (const ConfigEntry& e : entries) {
      if (e.name == config_name) return &e;
    }
    return nullptr;
  }
};

/// How IncrementalAlterConfigs changes one config, valued as on the wire.
enum class AlterConfigOpType : std::int8_t {
  set = 0,       ///< Sets the value.
  remove = 1,    ///< DELETE: back to the default (the next synonym in line).
  append = 2,    ///< Adds a value to a list config (no duplicate is added).
  subtract = 3,  ///< Removes a value from a list config.
};

/// One change of one config. Not an aggregate, so it is safe as a temporary in co_await.
struct AlterConfigOp {
  AlterConfigOp(std::string config_name, std::optional<std::string> config_value, AlterConfigOpType operation)
      : name(std::move(config_name)), value(std::move(config_value)), op(operation) {}
  std::string name;
  std::optional<std::string> value;  ///< Ignored (sent as null) for remove.
  AlterConfigOpType op;
};

/// The changes to one resource's configs. Chainable:
/// `ConfigAlteration(ConfigResource(ConfigResourceType::topic, "t")).set("retention.ms", "1000").remove("x")`.
struct ConfigAlteration {
  explicit ConfigAlteration(ConfigResource r, std::vector<AlterConfigOp> operations = {})
      : resource(std::move(r)), ops(std::move(operations)) {}

  ConfigAlteration& set(std::string name, std::string value) & {
    return add(std::move(name), std::move(value), AlterConfigOpType::set);
  }
  ConfigAlteration& remove(std::string name) & { return add(std::move(name), std::nullopt, AlterConfigOpType::remove); }
  ConfigAlteration& append(std::string name, std::string value) & {
    return add(std::move(name), std::move(value), AlterConfigOpType::append);
  }
  ConfigAlteration& subtract(std::string name, std::string value) & {
    return add(std::move(name), std::move(value), AlterConfigOpType::subtract);
  }
  ConfigAlteration&& set(std::string name, std::string value) && {
    return std::move(set(std::move(name), std::move(value)));
  }
  ConfigAlteration&& remove(std::string name) && { return std::move(remove(std::move(name))); }
  ConfigAlteration&& append(std::string name, std::string value) && {
    return std::move(append(std::move(name), std::move(value)));
  }
  ConfigAlteration&& subtract(std::string name, std::string value) && {
    return std::move(subtract(std::move(name), std::move(value)));
  }

  ConfigResource resource;
  std::vector<AlterConfigOp> ops;

 private:
  ConfigAlteration& add(std::string name, std::optional<std::string> value, AlterConfigOpType op) {
    ops.emplace_back(std::move(name), std::move(value), op);
    return *this;
  }
};

struct IncrementalAlterConfigsOptions {
  /// Ask the broker to check the changes without applying them.
  bool validate_only = false;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One resource of incremental_alter_configs.
struct AlterConfigsResult : AdminItemResult {
  ConfigResource resource{ConfigResourceType::topic, ""};
};

}  // namespace asiokafka
