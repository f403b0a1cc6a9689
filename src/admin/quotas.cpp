// Admin: client quotas (DescribeClientQuotas, AlterClientQuotas). Both go to any broker, as
// in the Java Admin: a KRaft broker answers descriptions from its copy of the metadata and
// forwards changes to the controller.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admin/admin_impl.hpp"
#include "asiokafka/protocol/messages.hpp"

namespace asiokafka {

std::string ClientQuotaEntity::to_string() const {
  if (entries.empty()) return "entity {}";
  std::string s = "entity {";
  bool first = true;
  for (const auto& [type, name] : entries) {
    if (!first) s += ", ";
    first = false;
    s += type;
    s += name ? " '" + *name + "'" : std::string(" <default>");
  }
  return s + "}";
}

std::string ClientQuotaFilter::to_string() const {
  std::string s = "client quota filter {";
  bool first = true;
  for (const ClientQuotaFilterComponent& c : components) {
    if (!first) s += ", ";
    first = false;
    s += c.entity_type;
    switch (c.match) {
      case ClientQuotaMatch::exact: s += " = '" + c.entity_name.value_or("") + "'"; break;
      case ClientQuotaMatch::default_entity: s += " <default>"; break;
      case ClientQuotaMatch::any: s += " <any>"; break;
      default: s += " <match " + std::to_string(static_cast<int>(c.match)) + ">"; break;
    }
  }
  s += "}";
  if (strict) s += " (strict)";
  return s;
}

namespace detail {

namespace asio = boost::asio;
namespace m = protocol::messages;
using admin::op_context;

namespace {

template <class EntityData>
ClientQuotaEntity entity_of(const std::vector<EntityData>& parts) {
  ClientQuotaEntity e;
  for (const auto& p : parts) e.entries[p.entity_type] = p.entity_name;
  return e;
}

/// Whether `f` is the broker's refusal of the whole request (rather than a transport failure
/// or the timeout): then it belongs to the item, with the broker's message.
template <class Request>
bool refused_by_broker(const net::failure& f, const typed_request<Request>& call) {
  const std::int16_t top = call.top_level_error();
  return f && top != 0 && f.code == make_kafka_error(top);
}

asio::awaitable<net::failure> describe_client_quotas(op_context& ctx, ClientQuotasDescription& out,
                                                     const ClientQuotaFilter& filter) {
  out.filter = filter;
  m::DescribeClientQuotasRequest req;
  req.strict = filter.strict;
  for (const ClientQuotaFilterComponent& c : filter.components) {
    m::DescribeClientQuotasRequest::ComponentData d;
    d.entity_type = c.entity_type;
    d.match_type = static_cast<std::int8_t>(c.match);
    if (c.match == ClientQuotaMatch::exact) {
      d.match = c.entity_name.value_or("");
    } else {
      d.match = std::nullopt;
    }
    req.components.push_back(std::move(d));
  }
  typed_request<m::DescribeClientQuotasRequest> call(std::move(req));
  const route any_broker;  // named: no braced temporary inside co_await (GCC 12)
  net::failure f = co_await admin::call(ctx, any_broker, call, admin::repeat::safe);
  const std::string label = filter.to_string();
  if (refused_by_broker(f, call)) {
    admin::set_item_error(out, call.top_level_error(), call.message().error_message, label);
    co_return net::failure{};
  }
  if (f) co_return f;
  if (call.message().entries) {
    for (const auto& entry : *call.message().entries) {
      ClientQuotaEntry e;
      e.entity = entity_of(entry.entity);
      for (const auto& v : entry.values) e.values[v.key] = v.value;
      out.entries.push_back(std::move(e));
    }
  }
  co_return net::failure{};
}

asio::awaitable<net::failure> alter_client_quotas(op_context& ctx, std::vector<AlterClientQuotasResult>& out,
                                                  const std::vector<ClientQuotaAlteration>& alterations,
                                                  bool validate_only) {
  m::AlterClientQuotasRequest req;
  req.validate_only = validate_only;
  for (const ClientQuotaAlteration& a : alterations) {
    m::AlterClientQuotasRequest::EntryData d;
    for (const auto& part : a.entity.entries) {  // no structured bindings in coroutines (GCC 12)
      m::AlterClientQuotasRequest::EntityData e;
      e.entity_type = part.first;
      e.entity_name = part.second;
      d.entity.push_back(std::move(e));
    }
    for (const ClientQuotaOp& op : a.ops) {
      m::AlterClientQuotasRequest::OpData o;
      o.key = op.key;
      o.value = op.value.value_or(0.0);
      o.remove = !op.value.has_value();
      d.ops.push_back(std::move(o));
    }
    req.entries.push_back(std::move(d));
  }
  typed_request<m::AlterClientQuotasRequest> call(std::move(req));
  const route any_broker;  // named: no braced temporary inside co_await (GCC 12)
  if (net::failure f = co_await admin::call(ctx, any_broker, call, admin::repeat::once)) co_return f;
  const auto& entries = call.message().entries;
  // The broker answers each entry; an entity named twice is matched to its answers in turn.
  std::vector<bool> used(entries.size(), false);
  for (const ClientQuotaAlteration& a : alterations) {
    AlterClientQuotasResult res;
    res.entity = a.entity;
    const std::string label = "client quotas of " + a.entity.to_string();
    std::size_t found = entries.size();
    for (std::size_t j = 0; j < entries.size(); ++j) {
      if (!used[j] && entity_of(entries[j].entity) == a.entity) {
        found = j;
        break;
      }
    }
    if (found == entries.size()) {
      admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", label);
    } else {
      used[found] = true;
      admin::set_item_error(res, entries[found].error_code, entries[found].error_message, label);
    }
    out.push_back(std::move(res));
  }
  co_return net::failure{};
}

}  // namespace

asio::awaitable<op_error> admin_describe_client_quotas(std::shared_ptr<admin_state> s, ClientQuotasDescription& out,
                                                       ClientQuotaFilter filter, DescribeClientQuotasOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_client_quotas");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await describe_client_quotas(ctx.value(), out, filter));
}

asio::awaitable<op_error> admin_alter_client_quotas(std::shared_ptr<admin_state> s,
                                                    std::vector<AlterClientQuotasResult>& out,
                                                    std::vector<ClientQuotaAlteration> alterations,
                                                    AlterClientQuotasOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "alter_client_quotas");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await alter_client_quotas(ctx.value(), out, alterations, options.validate_only));
}

}  // namespace detail
}  // namespace asiokafka
