// Admin: configs (DescribeConfigs, IncrementalAlterConfigs). Routed as the Java Admin: a
// broker's or a broker logger's resource goes to that broker, the rest (topics, the
// cluster-wide broker default, client metrics, groups) to any broker (KRaft brokers forward
// changes to the controller). One request per destination, all sent concurrently, merged
// back into the order given.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/this_coro.hpp>

#include "admin/admin_impl.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "net/notifier.hpp"

namespace asiokafka {
namespace detail {

namespace asio = boost::asio;
namespace m = protocol::messages;
using admin::op_context;

namespace {

std::string resource_label(const ConfigResource& r) {
  switch (r.type) {
    case ConfigResourceType::topic: return "topic '" + r.name + "'";
    case ConfigResourceType::broker:
      return r.name.empty() ? std::string("the cluster-wide broker default") : "broker '" + r.name + "'";
    case ConfigResourceType::broker_logger: return "broker '" + r.name + "' loggers";
    case ConfigResourceType::client_metrics: return "client metrics '" + r.name + "'";
    case ConfigResourceType::group: return "group '" + r.name + "'";
  }
  return "config resource of type " + std::to_string(static_cast<int>(r.type)) + " '" + r.name + "'";
}

using resource_key = std::pair<std::int8_t, std::string>;
resource_key key_of(const ConfigResource& r) { return {static_cast<std::int8_t>(r.type), r.name}; }

/// Where a resource's request goes: -1 for any broker, else the node id its name gives; an
/// error for a broker (logger) name that is no node id.
struct placement {
  std::int32_t node = -1;
  std::string error;
};

placement place(const ConfigResource& r) {
  placement p;
  const bool per_broker = (r.type == ConfigResourceType::broker && !r.name.empty()) ||
                          r.type == ConfigResourceType::broker_logger;
  if (!per_broker) return p;
  std::int32_t id = -1;
  const char* first = r.name.data();
  const char* last = first + r.name.size();
  const auto parsed = std::from_chars(first, last, id);
  if (r.name.empty() || parsed.ec != std::errc() || parsed.ptr != last || id < 0) {
    p.error = "'" + r.name + "' is not a broker's node id";
  } else {
    p.node = id;
  }
  return p;
}

/// What the destinations' tasks of one operation share. Held by shared_ptr: a task may
/// outlive the operation's coroutine when that is cancelled.
template <class Result>
struct fan_out {
  std::shared_ptr<admin_state> keep;  // op_context::config points into it
  std::vector<Result> results;        // indexed as the input
  std::vector<std::string> labels;    // per input item
  std::vector<bool> settled;          // per input item: its outcome is known
  std::map<std::int32_t, std::vector<std::size_t>> destinations;  // node (-1: any broker) -> items
  std::size_t answered = 0;           // destinations whose request was answered
  std::optional<net::failure> first_failure;  // of a request that was not answered
};

std::string broker_list(const op_context& ctx) {
  std::string s;
  for (const BrokerMetadata& b : ctx.cluster->metadata().cache().brokers()) {
    if (!s.empty()) s += ", ";
    s += std::to_string(b.node_id);
  }
  return s.empty() ? std::string("none") : s;
}

/// Whether the cluster has broker `node`, refreshing the metadata once when it is not known
/// (a broker just added). A failed refresh leaves the decision to the request.
asio::awaitable<bool> node_known(op_context& ctx, std::int32_t node) {
  if (ctx.cluster->metadata().cache().broker(node) != nullptr) co_return true;
  const std::vector<std::string> no_topics;
  const net::failure f = co_await ctx.cluster->metadata().refresh(no_topics, false, ctx.deadline);
  if (f) co_return true;
  co_return ctx.cluster->metadata().cache().broker(node) != nullptr;
}

/// One destination's request: `State::send` asks it for `items` and fills their results.
template <class State>
asio::awaitable<void> destination_task(std::shared_ptr<State> st, op_context ctx, std::int32_t node) {
  const std::vector<std::size_t>& items = st->destinations[node];
  route where;
  if (node >= 0) {
    where.target = route::kind::node;
    where.node_id = node;
    const bool known = co_await node_known(ctx, node);  // named: see docs/design.md, "GCC 12"
    if (!known) {
      const std::string brokers = broker_list(ctx);
      for (auto i : items) {
        admin::set_item_error(st->results[i], client_errc::no_broker_available,
                              "broker " + std::to_string(node) + " is not in the cluster (brokers: " + brokers + ")",
                              st->labels[i]);
        st->settled[i] = true;
      }
      co_return;
    }
  }
  net::failure f = co_await State::send(*st, ctx, where, items);
  if (f) {
    for (auto i : items) {
      admin::set_item_error(st->results[i], f.code, f.message, st->labels[i]);
      st->settled[i] = true;
    }
    if (!st->first_failure) st->first_failure = std::move(f);
  } else {
    ++st->answered;
    for (auto i : items) st->settled[i] = true;
  }
}

/// Runs every destination's request concurrently. Fails as a whole when no request was
/// answered (e.g. no broker within the timeout); else a destination that failed gives its
/// items that failure.
template <class State>
asio::awaitable<net::failure> run_destinations(op_context& ctx, std::shared_ptr<State> st) {
  const asio::any_io_executor ex = co_await asio::this_coro::executor;
  net::task_group group(ex);
  for (const auto& d : st->destinations) group.spawn(destination_task(st, ctx, d.first));
  // Each request ends by the deadline; the margin covers a last metadata refresh.
  const net::wait_status w = co_await group.join(ctx.deadline + ctx.config->request_timeout);
  if (w == net::wait_status::cancelled) {
    co_return net::failure(std::make_error_code(std::errc::operation_canceled), ctx.name + ": cancelled");
  }
  if (w == net::wait_status::timed_out) group.cancel_all();
  if (st->answered == 0 && st->first_failure) co_return *st->first_failure;
  const net::failure late = ctx.timeout_failure();
  for (std::size_t i = 0; i < st->results.size(); ++i) {
    if (!st->settled[i]) admin::set_item_error(st->results[i], late.code, late.message, st->labels[i]);
  }
  co_return net::failure{};
}

// ---- describe_configs ----

struct describe_state : fan_out<ConfigDescription> {
  std::vector<ConfigResource> resources;
  bool synonyms = false;
  bool documentation = false;

  static asio::awaitable<net::failure> send(describe_state& st, op_context& ctx, const route& where,
                                            const std::vector<std::size_t>& items);
};

ConfigEntry entry_of(const m::DescribeConfigsResponse::DescribeConfigsResourceResult& c, std::int16_t version,
                     bool documentation) {
  ConfigEntry e;
  e.name = c.name;
  e.value = c.value;
  e.read_only = c.read_only;
  e.is_sensitive = c.is_sensitive;
  if (version >= 1) {
    e.source = static_cast<ConfigSource>(c.config_source);
  } else {
    e.source = c.is_default ? ConfigSource::default_config : ConfigSource::unknown;
  }
  for (const auto& s : c.synonyms) {
    ConfigSynonym syn;
    syn.name = s.name;
    syn.value = s.value;
    syn.source = static_cast<ConfigSource>(s.source);
    e.synonyms.push_back(std::move(syn));
  }
  if (version >= 3) {
    e.type = static_cast<ConfigType>(c.config_type);
    if (documentation) e.documentation = c.documentation;
  }
  return e;
}

asio::awaitable<net::failure> describe_state::send(describe_state& st, op_context& ctx, const route& where,
                                                   const std::vector<std::size_t>& items) {
  m::DescribeConfigsRequest req;
  req.include_synonyms = st.synonyms;
  req.include_documentation = st.documentation;
  std::vector<resource_key> asked;
  for (auto i : items) {
    const resource_key k = key_of(st.resources[i]);
    if (std::find(asked.begin(), asked.end(), k) != asked.end()) continue;  // named twice: asked once
    asked.push_back(k);
    m::DescribeConfigsRequest::DescribeConfigsResource r;
    r.resource_type = k.first;
    r.resource_name = k.second;
    r.configuration_keys = std::nullopt;  // every config
    req.resources.push_back(std::move(r));
  }
  typed_request<m::DescribeConfigsRequest> call(std::move(req));
  // Synonyms from v1, documentation from v3: an older broker answers without them.
  call.set_version_hook([](std::int16_t v, m::DescribeConfigsRequest& r) {
    if (v < 1) r.include_synonyms = false;
    if (v < 3) r.include_documentation = false;
    return std::error_code();
  });
  if (net::failure f = co_await admin::call(ctx, where, call, admin::repeat::safe)) co_return f;
  const auto& results = call.message().results;
  for (auto i : items) {
    ConfigDescription& d = st.results[i];
    const ConfigResource& res = st.resources[i];
    auto it = std::find_if(results.begin(), results.end(), [&](const auto& r) {
      return r.resource_type == static_cast<std::int8_t>(res.type) && r.resource_name == res.name;
    });
    if (it == results.end()) {
      admin::set_item_error(d, client_errc::malformed, "the broker's answer does not mention it", st.labels[i]);
      continue;
    }
    admin::set_item_error(d, it->error_code, it->error_message, st.labels[i]);
    if (it->error_code != 0) continue;
    for (const auto& c : it->configs) d.entries.push_back(entry_of(c, call.version, st.documentation));
  }
  co_return net::failure{};
}

// ---- incremental_alter_configs ----

struct alter_state : fan_out<AlterConfigsResult> {
  std::vector<ConfigAlteration> alterations;
  bool validate_only = false;

  static asio::awaitable<net::failure> send(alter_state& st, op_context& ctx, const route& where,
                                            const std::vector<std::size_t>& items);
};

asio::awaitable<net::failure> alter_state::send(alter_state& st, op_context& ctx, const route& where,
                                                const std::vector<std::size_t>& items) {
  m::IncrementalAlterConfigsRequest req;
  req.validate_only = st.validate_only;
  for (auto i : items) {
    const ConfigAlteration& a = st.alterations[i];
    m::IncrementalAlterConfigsRequest::AlterConfigsResource r;
    r.resource_type = static_cast<std::int8_t>(a.resource.type);
    r.resource_name = a.resource.name;
    for (const AlterConfigOp& op : a.ops) {
      m::IncrementalAlterConfigsRequest::AlterableConfig c;
      c.name = op.name;
      c.config_operation = static_cast<std::int8_t>(op.op);
      c.value = op.op == AlterConfigOpType::remove ? std::nullopt : op.value;
      r.configs.push_back(std::move(c));
    }
    req.resources.push_back(std::move(r));
  }
  typed_request<m::IncrementalAlterConfigsRequest> call(std::move(req));
  if (net::failure f = co_await admin::call(ctx, where, call, admin::repeat::once)) co_return f;
  const auto& responses = call.message().responses;
  for (auto i : items) {
    AlterConfigsResult& res = st.results[i];
    const ConfigResource& r = st.alterations[i].resource;
    auto it = std::find_if(responses.begin(), responses.end(), [&](const auto& x) {
      return x.resource_type == static_cast<std::int8_t>(r.type) && x.resource_name == r.name;
    });
    if (it == responses.end()) {
      admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", st.labels[i]);
    } else {
      admin::set_item_error(res, it->error_code, it->error_message, st.labels[i]);
    }
  }
  co_return net::failure{};
}

template <class State>
void init_items(State& st, std::size_t n) {
  st.results.resize(n);
  st.labels.resize(n);
  st.settled.assign(n, false);
}

}  // namespace

asio::awaitable<op_error> admin_describe_configs(std::shared_ptr<admin_state> s, std::vector<ConfigDescription>& out,
                                                 std::vector<ConfigResource> resources, DescribeConfigsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_configs");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  auto st = std::make_shared<describe_state>();
  st->keep = s;
  st->synonyms = options.include_synonyms;
  st->documentation = options.include_documentation;
  init_items(*st, resources.size());
  for (std::size_t i = 0; i < resources.size(); ++i) {
    st->results[i].resource = resources[i];
    st->labels[i] = resource_label(resources[i]);
    const placement p = place(resources[i]);
    if (!p.error.empty()) {
      admin::set_item_error(st->results[i], client_errc::invalid_argument, p.error, st->labels[i]);
      st->settled[i] = true;
    } else {
      st->destinations[p.node].push_back(i);
    }
  }
  st->resources = std::move(resources);
  net::failure f = co_await run_destinations(ctx.value(), st);
  if (f) co_return admin::to_op_error(std::move(f));
  out = st->results;  // a copy: a task cut off by the deadline may still write there
  co_return op_error{};
}

asio::awaitable<op_error> admin_incremental_alter_configs(std::shared_ptr<admin_state> s,
                                                          std::vector<AlterConfigsResult>& out,
                                                          std::vector<ConfigAlteration> alterations,
                                                          IncrementalAlterConfigsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "incremental_alter_configs");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  auto st = std::make_shared<alter_state>();
  st->keep = s;
  st->validate_only = options.validate_only;
  init_items(*st, alterations.size());
  std::map<resource_key, int> times_named;
  for (const ConfigAlteration& a : alterations) ++times_named[key_of(a.resource)];
  for (std::size_t i = 0; i < alterations.size(); ++i) {
    st->results[i].resource = alterations[i].resource;
    st->labels[i] = resource_label(alterations[i].resource);
    const placement p = place(alterations[i].resource);
    std::string refused = p.error;
    if (refused.empty() && times_named[key_of(alterations[i].resource)] > 1) {
      refused = "named more than once in one call (give all of its changes in one ConfigAlteration)";
    }
    if (!refused.empty()) {
      admin::set_item_error(st->results[i], client_errc::invalid_argument, refused, st->labels[i]);
      st->settled[i] = true;
    } else {
      st->destinations[p.node].push_back(i);
    }
  }
  st->alterations = std::move(alterations);
  net::failure f = co_await run_destinations(ctx.value(), st);
  if (f) co_return admin::to_op_error(std::move(f));
  out = st->results;  // a copy: a task cut off by the deadline may still write there
  co_return op_error{};
}

}  // namespace detail
}  // namespace asiokafka
