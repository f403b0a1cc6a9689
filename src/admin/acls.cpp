// Admin: ACLs. CreateAcls and DeleteAcls go along the controller route (in KRaft a broker that
// forwards them to the active controller); DescribeAcls to any broker (each one's authorizer
// holds every ACL).
#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "admin/admin_impl.hpp"
#include "asiokafka/protocol/messages.hpp"

namespace asiokafka {

std::string_view to_string(AclResourceType t) noexcept {
  switch (t) {
    case AclResourceType::unknown: return "UNKNOWN";
    case AclResourceType::any: return "ANY";
    case AclResourceType::topic: return "TOPIC";
    case AclResourceType::group: return "GROUP";
    case AclResourceType::cluster: return "CLUSTER";
    case AclResourceType::transactional_id: return "TRANSACTIONAL_ID";
    case AclResourceType::delegation_token: return "DELEGATION_TOKEN";
    case AclResourceType::user: return "USER";
  }
  return "UNKNOWN";
}

std::string_view to_string(AclPatternType t) noexcept {
  switch (t) {
    case AclPatternType::unknown: return "UNKNOWN";
    case AclPatternType::any: return "ANY";
    case AclPatternType::match: return "MATCH";
    case AclPatternType::literal: return "LITERAL";
    case AclPatternType::prefixed: return "PREFIXED";
  }
  return "UNKNOWN";
}

std::string_view to_string(AclPermission p) noexcept {
  switch (p) {
    case AclPermission::unknown: return "UNKNOWN";
    case AclPermission::any: return "ANY";
    case AclPermission::deny: return "DENY";
    case AclPermission::allow: return "ALLOW";
  }
  return "UNKNOWN";
}

std::string_view to_string(AclOperation op) noexcept {
  switch (op) {
    case AclOperation::unknown: return "UNKNOWN";
    case AclOperation::any: return "ANY";
    case AclOperation::all: return "ALL";
    case AclOperation::read: return "READ";
    case AclOperation::write: return "WRITE";
    case AclOperation::create: return "CREATE";
    case AclOperation::remove: return "DELETE";
    case AclOperation::alter: return "ALTER";
    case AclOperation::describe: return "DESCRIBE";
    case AclOperation::cluster_action: return "CLUSTER_ACTION";
    case AclOperation::describe_configs: return "DESCRIBE_CONFIGS";
    case AclOperation::alter_configs: return "ALTER_CONFIGS";
    case AclOperation::idempotent_write: return "IDEMPOTENT_WRITE";
    case AclOperation::create_tokens: return "CREATE_TOKENS";
    case AclOperation::describe_tokens: return "DESCRIBE_TOKENS";
    case AclOperation::two_phase_commit: return "TWO_PHASE_COMMIT";
  }
  return "UNKNOWN";
}

std::string to_string(const AclBinding& b) {
  std::string s(to_string(b.resource_type));
  s += " '" + b.resource_name + "' (";
  s += to_string(b.pattern_type);
  s += "): " + b.principal + " from " + b.host + " ";
  s += to_string(b.permission);
  s += " ";
  s += to_string(b.operation);
  return s;
}

std::string to_string(const AclBindingFilter& f) {
  std::string s("filter ");
  s += to_string(f.resource_type);
  s += f.resource_name ? " '" + *f.resource_name + "'" : std::string(" (any name)");
  s += " (";
  s += to_string(f.pattern_type);
  s += "): ";
  s += f.principal ? *f.principal : std::string("any principal");
  s += " from ";
  s += f.host ? *f.host : std::string("any host");
  s += " ";
  s += to_string(f.permission);
  s += " ";
  s += to_string(f.operation);
  return s;
}

namespace detail {

namespace asio = boost::asio;
namespace m = protocol::messages;
using admin::op_context;

namespace {

route to_controller() {
  route r;
  r.target = route::kind::controller;
  return r;
}

std::string acl_label(const AclBinding& b) { return "ACL " + to_string(b); }
std::string filter_label(const AclBindingFilter& f) { return "ACL " + to_string(f); }

/// Why a binding cannot be created (the fields only filters may leave open), or "".
std::string indefinite_field(const AclBinding& b) {
  auto bad = [](std::string_view field, std::string_view value) {
    return std::string(field) + " " + std::string(value) + " is only for filters";
  };
  if (b.resource_type == AclResourceType::any || b.resource_type == AclResourceType::unknown) {
    return bad("resource type", to_string(b.resource_type));
  }
  if (b.pattern_type != AclPatternType::literal && b.pattern_type != AclPatternType::prefixed) {
    return bad("pattern type", to_string(b.pattern_type));
  }
  if (b.operation == AclOperation::any || b.operation == AclOperation::unknown) {
    return bad("operation", to_string(b.operation));
  }
  if (b.permission == AclPermission::any || b.permission == AclPermission::unknown) {
    return bad("permission", to_string(b.permission));
  }
  if (b.resource_name.empty()) return "an empty resource name";
  if (b.principal.empty()) return "an empty principal (e.g. \"User:alice\")";
  if (b.host.empty()) return "an empty host (\"*\" for any)";
  return "";
}

asio::awaitable<net::failure> create_acls(op_context& ctx, std::vector<CreateAclResult>& out,
                                          const std::vector<AclBinding>& bindings) {
  m::CreateAclsRequest req;
  std::vector<std::size_t> sent;  // the items of req.creations, in order
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    const AclBinding& b = bindings[i];
    CreateAclResult r;
    r.binding = b;
    if (std::string why = indefinite_field(b); !why.empty()) {
      admin::set_item_error(r, client_errc::invalid_argument, why, acl_label(b));
    } else {
      m::CreateAclsRequest::AclCreation c;
      c.resource_type = static_cast<std::int8_t>(b.resource_type);
      c.resource_name = b.resource_name;
      c.resource_pattern_type = static_cast<std::int8_t>(b.pattern_type);
      c.principal = b.principal;
      c.host = b.host;
      c.operation = static_cast<std::int8_t>(b.operation);
      c.permission_type = static_cast<std::int8_t>(b.permission);
      req.creations.push_back(std::move(c));
      sent.push_back(i);
    }
    out.push_back(std::move(r));
  }
  if (sent.empty()) co_return net::failure{};
  // Pattern types are v1+ (Kafka 2.0).
  typed_request<m::CreateAclsRequest> call(std::move(req), 1, m::CreateAclsRequest::max_version);
  const route controller = to_controller();
  if (net::failure f = co_await admin::call(ctx, controller, call, admin::repeat::once)) co_return f;
  const auto& results = call.message().results;
  for (std::size_t k = 0; k < sent.size(); ++k) {
    CreateAclResult& r = out[sent[k]];
    if (k >= results.size()) {
      admin::set_item_error(r, client_errc::malformed, "the broker's answer does not mention it", acl_label(r.binding));
    } else {
      admin::set_item_error(r, results[k].error_code, results[k].error_message, acl_label(r.binding));
    }
  }
  co_return net::failure{};
}

/// The wire's nullable filter strings: null matches any value.
template <class Filter>
void fill_filter(Filter& wire, const AclBindingFilter& f) {
  wire.resource_type_filter = static_cast<std::int8_t>(f.resource_type);
  wire.resource_name_filter = f.resource_name;
  wire.pattern_type_filter = static_cast<std::int8_t>(f.pattern_type);
  wire.principal_filter = f.principal;
  wire.host_filter = f.host;
  wire.operation = static_cast<std::int8_t>(f.operation);
  wire.permission_type = static_cast<std::int8_t>(f.permission);
}

/// Why a filter cannot be sent (unknown fields match nothing; the broker refuses them), or "".
std::string unknown_field(const AclBindingFilter& f) {
  if (f.resource_type == AclResourceType::unknown) return "resource type UNKNOWN";
  if (f.pattern_type == AclPatternType::unknown) return "pattern type UNKNOWN";
  if (f.operation == AclOperation::unknown) return "operation UNKNOWN";
  if (f.permission == AclPermission::unknown) return "permission UNKNOWN";
  return "";
}

asio::awaitable<net::failure> describe_acls(op_context& ctx, std::vector<AclBinding>& out,
                                            const AclBindingFilter& filter) {
  if (std::string why = unknown_field(filter); !why.empty()) {
    co_return net::failure(client_errc::invalid_argument, ctx.name + ": " + filter_label(filter) + ": " + why);
  }
  m::DescribeAclsRequest req;
  fill_filter(req, filter);
  typed_request<m::DescribeAclsRequest> call(std::move(req), 1, m::DescribeAclsRequest::max_version);
  // Every broker's authorizer holds every ACL (from the metadata log): any broker answers.
  const route any_broker;  // named: no braced temporary inside co_await (GCC 12)
  if (net::failure f = co_await admin::call(ctx, any_broker, call, admin::repeat::safe)) co_return f;
  for (const auto& res : call.message().resources) {
    for (const auto& a : res.acls) {
      out.emplace_back(static_cast<AclResourceType>(res.resource_type), res.resource_name,
                       static_cast<AclPatternType>(res.pattern_type), a.principal, a.host,
                       static_cast<AclOperation>(a.operation), static_cast<AclPermission>(a.permission_type));
    }
  }
  auto key = [](const AclBinding& b) {
    return std::tie(b.resource_type, b.resource_name, b.pattern_type, b.principal, b.host, b.operation, b.permission);
  };
  std::sort(out.begin(), out.end(), [&](const AclBinding& a, const AclBinding& b) { return key(a) < key(b); });
  co_return net::failure{};
}

asio::awaitable<net::failure> delete_acls(op_context& ctx, std::vector<DeleteAclsResult>& out,
                                          const std::vector<AclBindingFilter>& filters) {
  m::DeleteAclsRequest req;
  std::vector<std::size_t> sent;
  for (std::size_t i = 0; i < filters.size(); ++i) {
    DeleteAclsResult r;
    r.filter = filters[i];
    if (std::string why = unknown_field(filters[i]); !why.empty()) {
      admin::set_item_error(r, client_errc::invalid_argument, why, filter_label(filters[i]));
    } else {
      m::DeleteAclsRequest::DeleteAclsFilter f;
      fill_filter(f, filters[i]);
      req.filters.push_back(std::move(f));
      sent.push_back(i);
    }
    out.push_back(std::move(r));
  }
  if (sent.empty()) co_return net::failure{};
  typed_request<m::DeleteAclsRequest> call(std::move(req), 1, m::DeleteAclsRequest::max_version);
  const route controller = to_controller();
  if (net::failure f = co_await admin::call(ctx, controller, call, admin::repeat::once)) co_return f;
  const auto& results = call.message().filter_results;
  for (std::size_t k = 0; k < sent.size(); ++k) {
    DeleteAclsResult& r = out[sent[k]];
    if (k >= results.size()) {
      admin::set_item_error(r, client_errc::malformed, "the broker's answer does not mention it", filter_label(r.filter));
      continue;
    }
    admin::set_item_error(r, results[k].error_code, results[k].error_message, filter_label(r.filter));
    for (const auto& a : results[k].matching_acls) {
      DeletedAcl d;
      d.binding = AclBinding(static_cast<AclResourceType>(a.resource_type), a.resource_name,
                             static_cast<AclPatternType>(a.pattern_type), a.principal, a.host,
                             static_cast<AclOperation>(a.operation), static_cast<AclPermission>(a.permission_type));
      admin::set_item_error(d, a.error_code, a.error_message, acl_label(d.binding));
      r.deleted.push_back(std::move(d));
    }
  }
  co_return net::failure{};
}

}  // namespace

asio::awaitable<op_error> admin_create_acls(std::shared_ptr<admin_state> s, std::vector<CreateAclResult>& out,
                                            std::vector<AclBinding> bindings, CreateAclsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "create_acls");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await create_acls(ctx.value(), out, bindings));
}

asio::awaitable<op_error> admin_describe_acls(std::shared_ptr<admin_state> s, std::vector<AclBinding>& out,
                                              AclBindingFilter filter, DescribeAclsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_acls");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await describe_acls(ctx.value(), out, filter));
}

asio::awaitable<op_error> admin_delete_acls(std::shared_ptr<admin_state> s, std::vector<DeleteAclsResult>& out,
                                            std::vector<AclBindingFilter> filters, DeleteAclsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "delete_acls");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await delete_acls(ctx.value(), out, filters));
}

}  // namespace detail
}  // namespace asiokafka
