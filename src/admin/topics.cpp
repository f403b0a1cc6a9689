// Admin: topics (CreateTopics, DeleteTopics, Metadata, CreatePartitions). Changes go to the
// controller (net routes them and resends once after NOT_CONTROLLER); reads to any broker.
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

asio::awaitable<net::failure> create_topics(op_context& ctx, std::vector<CreateTopicResult>& out,
                                            const std::vector<NewTopic>& topics, bool validate_only) {
  m::CreateTopicsRequest req;
  req.validate_only = validate_only;
  req.timeout_ms = static_cast<std::int32_t>(ctx.request_bound().count());
  for (const NewTopic& t : topics) {
    m::CreateTopicsRequest::CreatableTopic c;
    c.name = t.name;
    c.num_partitions = t.replica_assignment.empty() ? t.num_partitions : -1;
    c.replication_factor = t.replica_assignment.empty() ? t.replication_factor : std::int16_t{-1};
    for (const auto& [partition, brokers] : t.replica_assignment) {
      m::CreateTopicsRequest::CreatableReplicaAssignment a;
      a.partition_index = partition;
      a.broker_ids = brokers;
      c.assignments.push_back(std::move(a));
    }
    for (const auto& [key, value] : t.configs) {
      m::CreateTopicsRequest::CreatableTopicConfig kv;
      kv.name = key;
      kv.value = value;
      c.configs.push_back(std::move(kv));
    }
    req.topics.push_back(std::move(c));
  }
  typed_request<m::CreateTopicsRequest> call(std::move(req));
  const route controller = to_controller();
  if (net::failure f = co_await admin::call(ctx, controller, call, admin::repeat::once)) co_return f;
  std::map<std::string, const m::CreateTopicsResponse::CreatableTopicResult*> by_name;
  for (const auto& r : call.message().topics) by_name[r.name] = &r;
  for (const NewTopic& t : topics) {
    CreateTopicResult res;
    res.name = t.name;
    auto it = by_name.find(t.name);
    if (it == by_name.end()) {
      admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", topic_label(t.name));
    } else {
      const auto& r = *it->second;
      admin::set_item_error(res, r.error_code, r.error_message, topic_label(t.name));
      res.topic_id = r.topic_id;
      res.num_partitions = r.num_partitions;
      res.replication_factor = r.replication_factor;
      if (r.configs) {
        for (const auto& c : *r.configs) res.configs.push_back(entry_of(c));
      }
    }
    out.push_back(std::move(res));
  }
  co_return net::failure{};
}

asio::awaitable<net::failure> delete_topics(op_context& ctx, std::vector<DeleteTopicResult>& out,
                                            const std::vector<std::string>& names,
                                            const std::vector<protocol::uuid>& ids) {
  m::DeleteTopicsRequest req;
  req.timeout_ms = static_cast<std::int32_t>(ctx.request_bound().count());
  req.topic_names = names;  // v0-5
  for (const auto& n : names) {
    m::DeleteTopicsRequest::DeleteTopicState s;
    s.name = n;
    req.topics.push_back(std::move(s));
  }
  for (const auto& id : ids) {
    m::DeleteTopicsRequest::DeleteTopicState s;
    s.name = std::nullopt;
    s.topic_id = id;
    req.topics.push_back(std::move(s));
  }
  // Deleting by id needs v6 (Kafka 2.8); by name, any version.
  const std::int16_t min_version = ids.empty() ? m::DeleteTopicsRequest::min_version : std::int16_t{6};
  typed_request<m::DeleteTopicsRequest> call(std::move(req), min_version, m::DeleteTopicsRequest::max_version);
  // v6 replaced topic_names with topics (names or ids): send the one the version has.
  call.set_version_hook([](std::int16_t v, m::DeleteTopicsRequest& r) {
    if (v >= 6) {
      r.topic_names.clear();
    } else {
      r.topics.clear();
    }
    return std::error_code();
  });
  const route controller = to_controller();
  if (net::failure f = co_await admin::call(ctx, controller, call, admin::repeat::once)) co_return f;
  const auto& responses = call.message().responses;
  for (const auto& n : names) {
    DeleteTopicResult res;
    res.name = n;
    auto it = std::find_if(responses.begin(), responses.end(), [&](const auto& r) { return r.name && *r.name == n; });
    if (it == responses.end()) {
      admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", topic_label(n));
    } else {
      res.topic_id = it->topic_id;
      admin::set_item_error(res, it->error_code, it->error_message, topic_label(n));
    }
    out.push_back(std::move(res));
  }
  for (const auto& id : ids) {
    DeleteTopicResult res;
    res.topic_id = id;
    const std::string label = "topic id " + uuid_text(id);
    auto it = std::find_if(responses.begin(), responses.end(), [&](const auto& r) { return r.topic_id == id; });
    if (it == responses.end()) {
      admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", label);
    } else {
      if (it->name) res.name = *it->name;
      admin::set_item_error(res, it->error_code, it->error_message, label);
    }
    out.push_back(std::move(res));
  }
  co_return net::failure{};
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

asio::awaitable<net::failure> create_partitions(op_context& ctx, std::vector<CreatePartitionsResult>& out,
                                                const std::vector<NewPartitions>& parts, bool validate_only) {
  m::CreatePartitionsRequest req;
  req.validate_only = validate_only;
  req.timeout_ms = static_cast<std::int32_t>(ctx.request_bound().count());
  for (const NewPartitions& p : parts) {
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
  typed_request<m::CreatePartitionsRequest> call(std::move(req));
  const route controller = to_controller();
  if (net::failure f = co_await admin::call(ctx, controller, call, admin::repeat::once)) co_return f;
  const auto& results = call.message().results;
  for (const NewPartitions& p : parts) {
    CreatePartitionsResult res;
    res.topic = p.topic;
    auto it = std::find_if(results.begin(), results.end(), [&](const auto& r) { return r.name == p.topic; });
    if (it == results.end()) {
      admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", topic_label(p.topic));
    } else {
      admin::set_item_error(res, it->error_code, it->error_message, topic_label(p.topic));
    }
    out.push_back(std::move(res));
  }
  co_return net::failure{};
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
