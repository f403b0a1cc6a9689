// Admin: access control lists (CreateAcls, DescribeAcls, DeleteAcls). AclOperation lives in
// admin/common.hpp (describe calls report authorized operations with it).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asiokafka/admin/common.hpp"

namespace asiokafka {

/// The kind of resource an ACL protects (Kafka's ResourceType, valued as on the wire).
enum class AclResourceType : std::int8_t {
  unknown = 0,
  any = 1,  ///< filters only
  topic = 2,
  group = 3,
  cluster = 4,  ///< its one resource is named "kafka-cluster"
  transactional_id = 5,
  delegation_token = 6,
  user = 7,
};

/// How an ACL's resource name matches resources (Kafka's PatternType).
enum class AclPatternType : std::int8_t {
  unknown = 0,
  any = 1,    ///< filters only: either pattern type, the name compared as given
  match = 2,  ///< filters only: every ACL that applies to the named resource (literal, "*", prefixes)
  literal = 3,  ///< the name is the resource's name, or "*" for every resource of the type
  prefixed = 4,  ///< every resource whose name starts with it
};

/// Whether an ACL allows or denies (Kafka's AclPermissionType).
enum class AclPermission : std::int8_t {
  unknown = 0,
  any = 1,  ///< filters only
  deny = 2,
  allow = 3,
};

/// Kafka's names: "TOPIC", "PREFIXED", "ALLOW", "DESCRIBE_CONFIGS", ...
std::string_view to_string(AclResourceType t) noexcept;
std::string_view to_string(AclPatternType t) noexcept;
std::string_view to_string(AclPermission p) noexcept;
std::string_view to_string(AclOperation op) noexcept;

/// One ACL: `principal` ("User:alice") from `host` ("*" for any) is allowed or denied
/// `operation` on the resources `resource_name` names with `pattern_type`.
struct AclBinding {
  AclBinding() = default;
  AclBinding(AclResourceType type, std::string name, AclPatternType pattern, std::string principal_name,
             std::string host_name, AclOperation op, AclPermission perm)
      : resource_type(type),
        resource_name(std::move(name)),
        pattern_type(pattern),
        principal(std::move(principal_name)),
        host(std::move(host_name)),
        operation(op),
        permission(perm) {}

  AclResourceType resource_type = AclResourceType::unknown;
  std::string resource_name;
  AclPatternType pattern_type = AclPatternType::literal;
  std::string principal;
  std::string host = "*";
  AclOperation operation = AclOperation::unknown;
  AclPermission permission = AclPermission::unknown;

  friend bool operator==(const AclBinding&, const AclBinding&) = default;
};

/// "TOPIC 'orders' (LITERAL): User:alice from * ALLOW READ": how results and errors name an ACL.
std::string to_string(const AclBinding& b);

/// Which ACLs describe_acls and delete_acls select. Default-constructed it matches every ACL;
/// an empty optional (name, principal, host) or an `any` matches every value of that field.
struct AclBindingFilter {
  AclBindingFilter() = default;
  AclBindingFilter(AclResourceType type, std::optional<std::string> name, AclPatternType pattern,
                   std::optional<std::string> principal_name, std::optional<std::string> host_name, AclOperation op,
                   AclPermission perm)
      : resource_type(type),
        resource_name(std::move(name)),
        pattern_type(pattern),
        principal(std::move(principal_name)),
        host(std::move(host_name)),
        operation(op),
        permission(perm) {}
  /// Exactly `b`.
  explicit AclBindingFilter(const AclBinding& b)
      : AclBindingFilter(b.resource_type, b.resource_name, b.pattern_type, b.principal, b.host, b.operation,
                         b.permission) {}

  AclResourceType resource_type = AclResourceType::any;
  std::optional<std::string> resource_name;
  AclPatternType pattern_type = AclPatternType::any;
  std::optional<std::string> principal;
  std::optional<std::string> host;
  AclOperation operation = AclOperation::any;
  AclPermission permission = AclPermission::any;

  friend bool operator==(const AclBindingFilter&, const AclBindingFilter&) = default;
};

/// "filter TOPIC 'orders' (ANY): any principal from any host ANY ANY".
std::string to_string(const AclBindingFilter& f);

struct CreateAclsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One binding of create_acls.
struct CreateAclResult : AdminItemResult {
  AclBinding binding;
};

struct DescribeAclsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

struct DeleteAclsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// An ACL a delete_acls filter matched, with the outcome of its deletion.
struct DeletedAcl : AdminItemResult {
  AclBinding binding;
};

/// One filter of delete_acls: the ACLs it matched (none is not an error), or the filter's
/// own error (e.g. INVALID_REQUEST).
struct DeleteAclsResult : AdminItemResult {
  AclBindingFilter filter;
  std::vector<DeletedAcl> deleted;
};

}  // namespace asiokafka
