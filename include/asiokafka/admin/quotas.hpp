// Admin: client quotas (DescribeClientQuotas, AlterClientQuotas; KIP-546, Kafka 2.6+).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "asiokafka/admin/common.hpp"

namespace asiokafka {

/// The entity types quotas are set for, as Kafka names them.
namespace quota_entity {
inline constexpr const char* user = "user";
inline constexpr const char* client_id = "client-id";
inline constexpr const char* ip = "ip";
}  // namespace quota_entity

/// What a quota applies to: entity type ("user", "client-id", "ip") -> name; a nullopt name
/// is that type's default entity (e.g. every user without a quota of its own).
/// `ClientQuotaEntity({{quota_entity::user, "alice"}, {quota_entity::client_id, std::nullopt}})`.
struct ClientQuotaEntity {
  ClientQuotaEntity() = default;
  explicit ClientQuotaEntity(std::map<std::string, std::optional<std::string>> parts) : entries(std::move(parts)) {}
  std::map<std::string, std::optional<std::string>> entries;
  /// "client-id 'x', user <default>", for messages.
  std::string to_string() const;
  friend bool operator==(const ClientQuotaEntity&, const ClientQuotaEntity&) = default;
};

/// How a filter component matches an entity type, valued as on the wire.
enum class ClientQuotaMatch : std::int8_t {
  exact = 0,           ///< The entity of that name.
  default_entity = 1,  ///< The type's default entity.
  any = 2,             ///< Any entity of that type (named or default).
};

/// One part of a filter: an entity type and how its name must match.
struct ClientQuotaFilterComponent {
  ClientQuotaFilterComponent(std::string type, ClientQuotaMatch how, std::optional<std::string> name = std::nullopt)
      : entity_type(std::move(type)), match(how), entity_name(std::move(name)) {}
  static ClientQuotaFilterComponent of_entity(std::string type, std::string name) {
    return ClientQuotaFilterComponent(std::move(type), ClientQuotaMatch::exact, std::move(name));
  }
  static ClientQuotaFilterComponent of_default_entity(std::string type) {
    return ClientQuotaFilterComponent(std::move(type), ClientQuotaMatch::default_entity);
  }
  static ClientQuotaFilterComponent of_any(std::string type) {
    return ClientQuotaFilterComponent(std::move(type), ClientQuotaMatch::any);
  }
  std::string entity_type;
  ClientQuotaMatch match;
  std::optional<std::string> entity_name;  ///< For exact only.
};

/// Which entities describe_client_quotas reports: those matching every component; with
/// `strict`, only entities with no other entity types than the components name. No
/// components and not strict: every entity with a quota.
struct ClientQuotaFilter {
  ClientQuotaFilter() = default;
  explicit ClientQuotaFilter(std::vector<ClientQuotaFilterComponent> parts, bool only = false)
      : components(std::move(parts)), strict(only) {}
  std::vector<ClientQuotaFilterComponent> components;
  bool strict = false;
  /// "filter client-id = 'x', user any (strict)", for messages.
  std::string to_string() const;
};

struct DescribeClientQuotasOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One entity and its quotas ("producer_byte_rate" -> 1048576).
struct ClientQuotaEntry {
  ClientQuotaEntity entity;
  std::map<std::string, double> values;
};

/// What describe_client_quotas found for the filter, or the broker's refusal of it naming the
/// filter (INVALID_REQUEST for a malformed filter, UNSUPPORTED_VERSION for an unknown entity
/// type, CLUSTER_AUTHORIZATION_FAILED).
struct ClientQuotasDescription : AdminItemResult {
  ClientQuotaFilter filter;
  std::vector<ClientQuotaEntry> entries;
  /// The entry of exactly `entity`, or nullptr.
  const ClientQuotaEntry* find(const ClientQuotaEntity& entity) const noexcept {
    for (const ClientQuotaEntry& e : entries) {
      if (e.entity == entity) return &e;
    }
    return nullptr;
  }
};

/// One change of a quota: set `key` to `value`, or remove it (back to the next quota in line).
struct ClientQuotaOp {
  ClientQuotaOp(std::string quota_key, std::optional<double> new_value)
      : key(std::move(quota_key)), value(new_value) {}
  std::string key;
  std::optional<double> value;  ///< nullopt: remove.
};

/// The changes to one entity's quotas. Chainable:
/// `ClientQuotaAlteration(entity).set("producer_byte_rate", 1048576).remove("consumer_byte_rate")`.
struct ClientQuotaAlteration {
  explicit ClientQuotaAlteration(ClientQuotaEntity e, std::vector<ClientQuotaOp> operations = {})
      : entity(std::move(e)), ops(std::move(operations)) {}
  ClientQuotaAlteration& set(std::string key, double value) & {
    ops.emplace_back(std::move(key), value);
    return *this;
  }
  ClientQuotaAlteration& remove(std::string key) & {
    ops.emplace_back(std::move(key), std::nullopt);
    return *this;
  }
  ClientQuotaAlteration&& set(std::string key, double value) && { return std::move(set(std::move(key), value)); }
  ClientQuotaAlteration&& remove(std::string key) && { return std::move(remove(std::move(key))); }

  ClientQuotaEntity entity;
  std::vector<ClientQuotaOp> ops;
};

struct AlterClientQuotasOptions {
  /// Ask the broker to check the changes without applying them.
  bool validate_only = false;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One entity of alter_client_quotas.
struct AlterClientQuotasResult : AdminItemResult {
  ClientQuotaEntity entity;
};

}  // namespace asiokafka
