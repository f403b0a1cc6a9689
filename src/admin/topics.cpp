// Admin: topics (CreateTopics, DeleteTopics, Metadata, CreatePartitions). Changes go to the
// controller (net resends once after NOT_CONTROLLER; per-topic NOT_CONTROLLER answers are
// asked again here until the deadline); reads to any broker.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "admin/admin_impl.hpp"
#include "asiokafka/protocol/messages.hpp"

namespace asiokafka {
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

std::string topic_label(const std::string& name) { return "topic '" + name + "'"; }

std::string uuid_text(const protocol::uuid& id) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const auto b = static_cast<unsigned>(id[i]);
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

BrokerMetadata broker_of(const m::MetadataResponse& r, std::int32_t id) {
  for (const auto& b : r.brokers) {
    if (b.node_id == id) return BrokerMetadata{b.node_id, b.host, b.port, b.rack};
  }
  BrokerMetadata unknown;
  unknown.node_id = id;
  return unknown;
}

ConfigEntry entry_of(const m::CreateTopicsResponse::CreatableTopicConfigs& c) {
  ConfigEntry e;
  e.name = c.name;
  e.value = c.value;
  e.source = static_cast<ConfigSource>(c.config_source);
  e.read_only = c.read_only;
  e.is_sensitive = c.is_sensitive;
  return e;
}

// ---- changes through the controller, in rounds ----

/// Sends a change of topics to the controller in rounds: `make(which)` builds the request for
/// the items `which` (indices into the caller's list) and the lowest version that can carry
/// it, `hook` (may be empty) adapts it to the version chosen, `settle(answer, which)` records their
/// results and returns those that answered NOT_CONTROLLER: the controller moved after net's
/// own resend, so the broker did nothing for them; they are asked again, retry_backoff apart,
/// until the deadline. The first round's failure is the operation's; a later round's failure
/// (`fail(which, failure)`) is recorded on the items it carried, since others are settled.
template <class Request, class Make, class Settle, class Fail>
asio::awaitable<net::failure> controller_rounds(op_context& ctx, std::size_t count, Make& make,
                                                typename typed_request<Request>::version_hook hook, Settle& settle,
                                                Fail& fail) {
  std::vector<std::size_t> pending(count);
  for (std::size_t i = 0; i < count; ++i) pending[i] = i;
  bool first = true;
  while (!pending.empty()) {
    std::pair<Request, std::int16_t> built = make(pending);
    typed_request<Request> call(std::move(built.first), built.second, Request::max_version);
    if (hook) call.set_version_hook(hook);
    const route controller = to_controller();
    // Resent even when it may have reached the controller (a connection lost mid-request), as
    // the Java Admin does: the end state does not depend on how often a topic change is
    // applied; a resend may only report TOPIC_ALREADY_EXISTS (or UNKNOWN_TOPIC_OR_PARTITION,
    // INVALID_PARTITIONS) for what the first attempt did.
    net::failure f = co_await admin::call(ctx, controller, call, admin::repeat::safe);
    if (f) {
      if (first || admin::ends_operation(f)) co_return f;
      fail(pending, f);
      break;
    }
    first = false;
    std::vector<std::size_t> again = settle(call.message(), pending);
    if (again.empty()) break;
    ctx.cluster->metadata().mark_urgent();  // learn where the controller went
    const bool waited = co_await admin::backoff(ctx);  // named: see docs/design.md, "GCC 12"
    if (!waited) {
      if (ctx.cancelled) co_return ctx.stop_failure();
      break;  // out of time: NOT_CONTROLLER stands for those items
    }
    pending = std::move(again);
  }
  co_return net::failure{};
}

bool not_controller(std::int16_t code) { return code == static_cast<std::int16_t>(kafka_errc::not_controller); }

// ---- create_topics ----

m::CreateTopicsRequest::CreatableTopic creatable(const NewTopic& t) {
  m::CreateTopicsRequest::CreatableTopic c;
  c.name = t.name;
  c.num_partitions = t.replica_assignment.empty() ? t.num_partitions : -1;
  c.replication_factor = t.replica_assignment.empty() ? t.replication_factor : std::int16_t{-1};
  for (const auto& entry : t.replica_assignment) {
    m::CreateTopicsRequest::CreatableReplicaAssignment a;
    a.partition_index = entry.first;
    a.broker_ids = entry.second;
    c.assignments.push_back(std::move(a));
  }
  for (const auto& entry : t.configs) {
    m::CreateTopicsRequest::CreatableTopicConfig kv;
    kv.name = entry.first;
    kv.value = entry.second;
    c.configs.push_back(std::move(kv));
  }
  return c;
}

asio::awaitable<net::failure> create_topics(op_context& ctx, std::vector<CreateTopicResult>& out,
                                            const std::vector<NewTopic>& topics, bool validate_only) {
  out.resize(topics.size());
  for (std::size_t i = 0; i < topics.size(); ++i) out[i].name = topics[i].name;
  auto make = [&](const std::vector<std::size_t>& which) {
    m::CreateTopicsRequest req;
    req.validate_only = validate_only;
    req.timeout_ms = static_cast<std::int32_t>(ctx.request_bound().count());
    for (auto i : which) req.topics.push_back(creatable(topics[i]));
    return std::make_pair(std::move(req), m::CreateTopicsRequest::min_version);
  };
  auto settle = [&](const m::CreateTopicsResponse& answer, const std::vector<std::size_t>& which) {
    std::vector<std::size_t> again;
    for (auto i : which) {
      CreateTopicResult& res = out[i];
      res = CreateTopicResult();
      res.name = topics[i].name;
      const auto& results = answer.topics;
      auto it = std::find_if(results.begin(), results.end(), [&](const auto& r) { return r.name == res.name; });
      if (it == results.end()) {
        admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", topic_label(res.name));
        continue;
      }
      admin::set_item_error(res, it->error_code, it->error_message, topic_label(res.name));
      if (not_controller(it->error_code)) again.push_back(i);
      res.topic_id = it->topic_id;
      res.num_partitions = it->num_partitions;
      res.replication_factor = it->replication_factor;
      if (it->configs) {
        for (const auto& c : *it->configs) res.configs.push_back(entry_of(c));
      }
    }
    return again;
  };
  auto fail = [&](const std::vector<std::size_t>& which, const net::failure& f) {
    for (auto i : which) admin::set_item_error(out[i], f.code, f.message, topic_label(out[i].name));
  };
  co_return co_await controller_rounds<m::CreateTopicsRequest>(ctx, topics.size(), make, nullptr, settle, fail);
}

// ---- delete_topics ----

asio::awaitable<net::failure> delete_topics(op_context& ctx, std::vector<DeleteTopicResult>& out,
                                            const std::vector<std::string>& names,
                                            const std::vector<protocol::uuid>& ids) {
  // Items: the names, then the ids.
  const std::size_t count = names.size() + ids.size();
  out.resize(count);
  auto label = [&](std::size_t i) {
    return i < names.size() ? topic_label(names[i]) : "topic id " + uuid_text(ids[i - names.size()]);
  };
  for (std::size_t i = 0; i < count; ++i) {
    if (i < names.size()) {
      out[i].name = names[i];
    } else {
      out[i].topic_id = ids[i - names.size()];
    }
  }
  auto make = [&](const std::vector<std::size_t>& which) {
    m::DeleteTopicsRequest req;
    req.timeout_ms = static_cast<std::int32_t>(ctx.request_bound().count());
    bool by_id = false;
    for (auto i : which) {
      m::DeleteTopicsRequest::DeleteTopicState state;
      if (i < names.size()) {
        state.name = names[i];
        req.topic_names.push_back(names[i]);  // v0-5
      } else {
        state.name = std::nullopt;
        state.topic_id = ids[i - names.size()];
        by_id = true;
      }
      req.topics.push_back(std::move(state));
    }
    // Deleting by id needs v6 (Kafka 2.8); by name, any version.
    const std::int16_t min_version = by_id ? std::int16_t{6} : m::DeleteTopicsRequest::min_version;
    return std::make_pair(std::move(req), min_version);
  };
  // v6 replaced topic_names with topics (names or ids): send the one the version has.
  typed_request<m::DeleteTopicsRequest>::version_hook hook = [](std::int16_t v, m::DeleteTopicsRequest& r) {
    if (v >= 6) {
      r.topic_names.clear();
    } else {
      r.topics.clear();
    }
    return std::error_code();
  };
  auto settle = [&](const m::DeleteTopicsResponse& answer, const std::vector<std::size_t>& which) {
    std::vector<std::size_t> again;
    const auto& responses = answer.responses;
    for (auto i : which) {
      DeleteTopicResult& res = out[i];
      auto it = i < names.size()
                    ? std::find_if(responses.begin(), responses.end(),
                                   [&](const auto& r) { return r.name && *r.name == names[i]; })
                    : std::find_if(responses.begin(), responses.end(),
                                   [&](const auto& r) { return r.topic_id == ids[i - names.size()]; });
      res.error = {};
      res.error_message.clear();
      if (it == responses.end()) {
        admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", label(i));
        continue;
      }
      if (i < names.size()) {
        res.topic_id = it->topic_id;
      } else if (it->name) {
        res.name = *it->name;
      }
      admin::set_item_error(res, it->error_code, it->error_message, label(i));
      if (not_controller(it->error_code)) again.push_back(i);
    }
    return again;
  };
  auto fail = [&](const std::vector<std::size_t>& which, const net::failure& f) {
    for (auto i : which) admin::set_item_error(out[i], f.code, f.message, label(i));
  };
  co_return co_await controller_rounds<m::DeleteTopicsRequest>(ctx, count, make, hook, settle, fail);
}

/// Metadata for `names` (nullopt: every topic), never creating a topic.
typed_request<m::MetadataRequest> metadata_request(const std::optional<std::vector<std::string>>& names,
                                                   bool authorized_operations) {
  m::MetadataRequest req;
  req.allow_auto_topic_creation = false;
  req.include_topic_authorized_operations = authorized_operations;
  if (names) {
    std::vector<m::MetadataRequest::MetadataRequestTopic> topics;
    for (const auto& n : *names) {
      m::MetadataRequest::MetadataRequestTopic t;
      t.name = n;
      topics.push_back(std::move(t));
    }
    req.topics = std::move(topics);
  } else {
    req.topics = std::nullopt;
  }
  // From v1: an empty list means "no topics" and null "all" (v0 differs). Topic authorized
  // operations from v8.
  const std::int16_t min_version = authorized_operations ? 8 : 1;
  return typed_request<m::MetadataRequest>(std::move(req), min_version, m::MetadataRequest::max_version);
}

asio::awaitable<net::failure> list_topics(op_context& ctx, std::vector<TopicListing>& out, bool include_internal) {
  auto call = metadata_request(std::nullopt, false);
  const route any_broker;  // named: no braced temporary inside co_await (GCC 12)
  if (net::failure f = co_await admin::call(ctx, any_broker, call, admin::repeat::safe)) co_return f;
  for (const auto& t : call.message().topics) {
    if (!t.name || (t.is_internal && !include_internal)) continue;
    TopicListing l;
    l.name = *t.name;
    l.topic_id = t.topic_id;
    l.is_internal = t.is_internal;
    out.push_back(std::move(l));
  }
  std::sort(out.begin(), out.end(), [](const TopicListing& a, const TopicListing& b) { return a.name < b.name; });
  co_return net::failure{};
}

TopicDescription describe_one(const m::MetadataResponse& r, const m::MetadataResponse::MetadataResponseTopic& t) {
  TopicDescription d;
  d.name = t.name.value_or("");
  d.topic_id = t.topic_id;
  d.is_internal = t.is_internal;
  d.authorized_operations = AuthorizedOperations::from_wire(t.topic_authorized_operations);
  for (const auto& p : t.partitions) {
    TopicPartitionInfo info;
    info.partition = p.partition_index;
    if (p.leader_id >= 0) info.leader = broker_of(r, p.leader_id);
    info.leader_epoch = p.leader_epoch;
    for (auto id : p.replica_nodes) info.replicas.push_back(broker_of(r, id));
    for (auto id : p.isr_nodes) info.isr.push_back(broker_of(r, id));
    info.offline_replicas = p.offline_replicas;
    d.partitions.push_back(std::move(info));
  }
  std::sort(d.partitions.begin(), d.partitions.end(),
            [](const TopicPartitionInfo& a, const TopicPartitionInfo& b) { return a.partition < b.partition; });
  return d;
}

asio::awaitable<net::failure> describe_topics(op_context& ctx, std::vector<TopicDescription>& out,
                                              const std::vector<std::string>& names, bool authorized_operations) {
  out.resize(names.size());
  std::vector<std::size_t> pending(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) pending[i] = i;
  while (!pending.empty()) {
    std::vector<std::string> asked;
    for (auto i : pending) asked.push_back(names[i]);
    auto call = metadata_request(asked, authorized_operations);
    const route any_broker;  // named: no braced temporary inside co_await (GCC 12)
    if (net::failure f = co_await admin::call(ctx, any_broker, call, admin::repeat::safe)) co_return f;
    const auto& r = call.message();
    std::vector<std::size_t> again;
    for (auto i : pending) {
      auto it = std::find_if(r.topics.begin(), r.topics.end(), [&](const auto& t) { return t.name && *t.name == names[i]; });
      TopicDescription d;
      if (it == r.topics.end()) {
        d.name = names[i];
        admin::set_item_error(d, client_errc::malformed, "the broker's answer does not mention it", topic_label(names[i]));
      } else {
        d = describe_one(r, *it);
        d.name = names[i];
        admin::set_item_error(d, it->error_code, std::nullopt, topic_label(names[i]));
        // A topic just created: its leaders are being elected; ask again.
        if (d.error == kafka_errc::leader_not_available) again.push_back(i);
      }
      out[i] = std::move(d);
    }
    if (again.empty()) break;
    ctx.last_failure = out[again.front()].error_message;
    const bool waited = co_await admin::backoff(ctx);  // named: see docs/design.md, "GCC 12"
    if (!waited) {
      if (ctx.cancelled) co_return ctx.stop_failure();
      break;  // out of time: the last answers stand
    }
    pending = std::move(again);
  }
  co_return net::failure{};
}

// ---- create_partitions ----

asio::awaitable<net::failure> create_partitions(op_context& ctx, std::vector<CreatePartitionsResult>& out,
                                                const std::vector<NewPartitions>& parts, bool validate_only) {
  out.resize(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) out[i].topic = parts[i].topic;
  auto make = [&](const std::vector<std::size_t>& which) {
    m::CreatePartitionsRequest req;
    req.validate_only = validate_only;
    req.timeout_ms = static_cast<std::int32_t>(ctx.request_bound().count());
    for (auto i : which) {
      const NewPartitions& p = parts[i];
      m::CreatePartitionsRequest::CreatePartitionsTopic t;
      t.name = p.topic;
      t.count = p.total_count;
      if (p.assignments.empty()) {
        t.assignments = std::nullopt;
      } else {
        std::vector<m::CreatePartitionsRequest::CreatePartitionsAssignment> as;
        for (const auto& brokers : p.assignments) {
          m::CreatePartitionsRequest::CreatePartitionsAssignment a;
          a.broker_ids = brokers;
          as.push_back(std::move(a));
        }
        t.assignments = std::move(as);
      }
      req.topics.push_back(std::move(t));
    }
    return std::make_pair(std::move(req), m::CreatePartitionsRequest::min_version);
  };
  auto settle = [&](const m::CreatePartitionsResponse& answer, const std::vector<std::size_t>& which) {
    std::vector<std::size_t> again;
    const auto& results = answer.results;
    for (auto i : which) {
      CreatePartitionsResult& res = out[i];
      res.error = {};
      res.error_message.clear();
      auto it = std::find_if(results.begin(), results.end(), [&](const auto& r) { return r.name == res.topic; });
      if (it == results.end()) {
        admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", topic_label(res.topic));
        continue;
      }
      admin::set_item_error(res, it->error_code, it->error_message, topic_label(res.topic));
      if (not_controller(it->error_code)) again.push_back(i);
    }
    return again;
  };
  auto fail = [&](const std::vector<std::size_t>& which, const net::failure& f) {
    for (auto i : which) admin::set_item_error(out[i], f.code, f.message, topic_label(out[i].topic));
  };
  co_return co_await controller_rounds<m::CreatePartitionsRequest>(ctx, parts.size(), make, nullptr, settle, fail);
}

}  // namespace

asio::awaitable<op_error> admin_create_topics(std::shared_ptr<admin_state> s,
                                              std::vector<CreateTopicResult>& out,
                                              std::vector<NewTopic> topics, CreateTopicsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "create_topics");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await create_topics(ctx.value(), out, topics, options.validate_only));
}

asio::awaitable<op_error> admin_delete_topics(std::shared_ptr<admin_state> s,
                                              std::vector<DeleteTopicResult>& out,
                                              std::vector<std::string> names, DeleteTopicsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "delete_topics");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  const std::vector<protocol::uuid> no_ids;
  co_return admin::to_op_error(co_await delete_topics(ctx.value(), out, names, no_ids));
}

asio::awaitable<op_error> admin_delete_topics_by_id(std::shared_ptr<admin_state> s,
                                                    std::vector<DeleteTopicResult>& out,
                                                    std::vector<protocol::uuid> ids, DeleteTopicsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "delete_topics");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  const std::vector<std::string> no_names;
  co_return admin::to_op_error(co_await delete_topics(ctx.value(), out, no_names, ids));
}

asio::awaitable<op_error> admin_list_topics(std::shared_ptr<admin_state> s,
                                            std::vector<TopicListing>& out, ListTopicsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "list_topics");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await list_topics(ctx.value(), out, options.include_internal));
}

asio::awaitable<op_error> admin_describe_topics(std::shared_ptr<admin_state> s,
                                                std::vector<TopicDescription>& out,
                                                std::vector<std::string> names, DescribeTopicsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_topics");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(
      co_await describe_topics(ctx.value(), out, names, options.include_authorized_operations));
}

asio::awaitable<op_error> admin_create_partitions(std::shared_ptr<admin_state> s,
                                                  std::vector<CreatePartitionsResult>& out,
                                                  std::vector<NewPartitions> partitions,
                                                  CreatePartitionsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "create_partitions");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await create_partitions(ctx.value(), out, partitions, options.validate_only));
}

}  // namespace detail
}  // namespace asiokafka
