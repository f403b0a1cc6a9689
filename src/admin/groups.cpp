// Admin: groups and their committed offsets. ListGroups goes to every broker; everything else
// to the group's coordinator (coordinated.hpp): DescribeGroups / ConsumerGroupDescribe and
// DeleteGroups batched per coordinator, OffsetFetch, OffsetCommit, OffsetDelete and LeaveGroup
// for one group. Per-group coordinator errors inside answers are asked again until the
// deadline. See docs/admin.md, "Groups and transactions".
#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin/admin_impl.hpp"
#include "admin/coordinated.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/protocol/messages/consumer_protocol.hpp"
#include "protocol/wire.hpp"

namespace asiokafka {

namespace {

constexpr std::array<std::string_view, 9> group_state_names{
    "", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty", "Assigning", "Reconciling", "NotReady"};
constexpr std::array<std::string_view, 5> group_type_names{"", "classic", "consumer", "share", "streams"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string_view to_string(AdminGroupState state) noexcept {
  const auto i = static_cast<std::size_t>(state);
  return i < group_state_names.size() ? group_state_names[i] : std::string_view();
}

std::string_view to_string(GroupType type) noexcept {
  const auto i = static_cast<std::size_t>(type);
  return i < group_type_names.size() ? group_type_names[i] : std::string_view();
}

// ---- what groups.cpp and transactions.cpp share (coordinated.hpp) ----

namespace admin {

namespace asio = boost::asio;

asio::awaitable<net::failure> batch_by_coordinator(op_context& ctx, CoordinatorType type,
                                                   const std::vector<std::string>& keys,
                                                   const std::vector<std::size_t>& pending,
                                                   std::vector<coordinator_batch>& batches,
                                                   std::vector<std::pair<std::size_t, net::failure>>& failed) {
  for (const std::size_t i : pending) {
    net::outcome<BrokerMetadata> c = co_await ctx.cluster->coordinators().find(type, keys[i], ctx.deadline);
    if (!c) {
      net::failure f = std::move(c.error());
      if (ends_operation(f) || ctx.cluster->closed()) co_return f.prefix(ctx.name);
      if (f.code == client_errc::timeout) f = ctx.timeout_failure();
      failed.emplace_back(i, std::move(f));
      continue;
    }
    auto it = std::find_if(batches.begin(), batches.end(),
                           [&](const coordinator_batch& b) { return b.coordinator.node_id == c->node_id; });
    if (it == batches.end()) {
      coordinator_batch b;
      b.coordinator = c.value();
      batches.push_back(std::move(b));
      it = std::prev(batches.end());
    }
    it->items.push_back(i);
  }
  co_return net::failure{};
}

bool coordinator_moved(op_context& ctx, CoordinatorType type, const std::string& key, std::int16_t code) {
  const std::error_code ec = make_kafka_error(code);
  if (ec != kafka_errc::not_coordinator && ec != kafka_errc::coordinator_not_available &&
      ec != kafka_errc::coordinator_load_in_progress) {
    return false;
  }
  ctx.cluster->coordinators().on_error(type, key, ec);  // forgets it unless it is only loading
  return true;
}

detail::route to_coordinator(CoordinatorType type, const std::string& key) {
  detail::route r;
  r.target = detail::route::kind::coordinator;
  r.coordinator = type;
  r.name = key;
  return r;
}

BrokerMetadata answered_by(const op_context& ctx, std::int32_t node, const BrokerMetadata& fallback) {
  if (const BrokerMetadata* b = ctx.cluster->metadata().cache().broker(node)) return *b;
  return fallback;
}

asio::awaitable<bool> next_round(op_context& ctx, std::vector<std::size_t>& pending, std::vector<std::size_t>& again,
                                 const std::string& why) {
  // No `if (!co_await ...)` and no early co_return here: GCC 12 miscompiles a coroutine that
  // returns before reaching a co_await written inside an if condition (it destroys that
  // co_await's never-made awaitable on the way out; a crash, reproduced in a small program).
  bool more = !again.empty();
  if (more) {
    ctx.last_failure = why;
    more = co_await backoff(ctx);
  }
  if (more) {
    pending = std::move(again);
    again.clear();
  }
  co_return more;
}

}  // namespace admin

namespace detail {

namespace asio = boost::asio;
namespace m = protocol::messages;
using admin::op_context;

namespace {

std::string group_label(const std::string& id) { return "group '" + id + "'"; }
std::string partition_label(const TopicPartition& tp) {
  return "topic '" + tp.topic + "' partition " + std::to_string(tp.partition);
}

AdminGroupState parse_state(std::string_view s) {
  for (std::size_t i = 1; i < group_state_names.size(); ++i) {
    if (iequals(s, group_state_names[i])) return static_cast<AdminGroupState>(i);
  }
  return AdminGroupState::unknown;
}

GroupType parse_type(std::string_view s) {
  for (std::size_t i = 1; i < group_type_names.size(); ++i) {
    if (iequals(s, group_type_names[i])) return static_cast<GroupType>(i);
  }
  return GroupType::unknown;
}

/// A final group-level error as the operation's failure, naming the group.
net::failure group_failure(const op_context& ctx, const std::string& group, std::int16_t code,
                           const std::optional<std::string>& broker_message) {
  const std::error_code ec = make_kafka_error(code);
  return net::failure(ec, ctx.name + ": " + group_label(group) + ": " + admin::describe_kafka_error(ec, broker_message),
                      net::delivery::maybe_sent);
}

/// A failure of a one-group operation: a broker's top-level error names the group.
net::failure naming_group(net::failure f, const op_context& ctx, const std::string& group) {
  const std::string head = ctx.name + ": ";
  if (f.code.category() == kafka_category() && f.message.compare(0, head.size(), head) == 0) {
    f.message.insert(head.size(), group_label(group) + ": ");
  }
  return f;
}

// ---- the consumer protocol's payloads (member metadata and assignment of classic groups) ----
//
// A version prefix, then the body of that version. Versions above the last known one are read
// as it (their fields come first); what follows those fields is ignored, as the Java client does.

constexpr std::int16_t consumer_protocol_max = m::ConsumerProtocolAssignment::max_version;

void skip_topic_partitions(protocol::reader& r) {
  const std::int32_t n = r.array_length(6);
  for (std::int32_t i = 0; i < n && r.ok(); ++i) {
    r.string();
    r.skip(static_cast<std::size_t>(std::max(r.array_length(4), 0)) * 4);
  }
}

/// The body of a payload (after the version prefix), cut where `version`'s fields end.
template <class Walk>
bool body_of(std::span<const std::uint8_t> payload, std::int16_t& version, std::span<const std::uint8_t>& body,
             Walk walk) {
  protocol::reader r(payload);
  const std::int16_t v = r.i16();
  if (!r.ok() || v < 0) return false;
  version = std::min(v, consumer_protocol_max);
  const auto rest = payload.subspan(2);
  protocol::reader w(rest);
  walk(w, version);
  if (!w.ok()) return false;
  body = rest.first(rest.size() - w.remaining());
  return true;
}

bool decode_assignment(std::span<const std::uint8_t> payload, std::vector<TopicPartition>& out) {
  if (payload.empty()) return true;  // a member not yet assigned
  std::int16_t version = 0;
  std::span<const std::uint8_t> body;
  auto walk = [](protocol::reader& r, std::int16_t) {
    skip_topic_partitions(r);
    r.nullable_bytes();
  };
  if (!body_of(payload, version, body, walk)) return false;
  m::ConsumerProtocolAssignment a;
  if (a.decode(body, version)) return false;
  for (const auto& t : a.assigned_partitions) {
    for (const std::int32_t p : t.partitions) out.emplace_back(t.topic, p);
  }
  std::sort(out.begin(), out.end());
  return true;
}

bool decode_subscription(std::span<const std::uint8_t> payload, std::vector<std::string>& topics,
                         std::optional<std::string>& rack) {
  if (payload.empty()) return true;
  std::int16_t version = 0;
  std::span<const std::uint8_t> body;
  auto walk = [](protocol::reader& r, std::int16_t v) {
    const std::int32_t n = r.array_length(2);
    for (std::int32_t i = 0; i < n && r.ok(); ++i) r.string();
    r.nullable_bytes();
    if (v >= 1) skip_topic_partitions(r);
    if (v >= 2) r.i32();
    if (v >= 3) r.nullable_string();
  };
  if (!body_of(payload, version, body, walk)) return false;
  m::ConsumerProtocolSubscription s;
  if (s.decode(body, version)) return false;
  topics = std::move(s.topics);
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  if (s.rack_id && !s.rack_id->empty()) rack = std::move(s.rack_id);
  return true;
}

// ---- list_groups ----

asio::awaitable<net::failure> list_groups(op_context& ctx, std::vector<GroupListing>& out,
                                          const ListGroupsOptions& options) {
  m::ListGroupsRequest req;
  for (std::size_t i = 1; i < group_state_names.size(); ++i) {
    if (options.states.contains(static_cast<AdminGroupState>(i))) req.states_filter.emplace_back(group_state_names[i]);
  }
  for (std::size_t i = 1; i < group_type_names.size(); ++i) {
    if (options.types.contains(static_cast<GroupType>(i))) req.types_filter.emplace_back(group_type_names[i]);
  }
  // A filter the version cannot carry is refused (client_errc::unsupported_version from the
  // connection), never dropped: the answer would list groups the caller excluded.
  const std::int16_t min_version = !req.types_filter.empty() ? 5 : !req.states_filter.empty() ? 4 : 0;
  std::set<std::string> seen;
  auto visit = [&](const m::ListGroupsResponse& answer) {
    for (const auto& g : answer.groups) {
      // A group moving between coordinators may be listed by both.
      if (!seen.insert(g.group_id).second) continue;
      GroupListing l;
      l.group_id = g.group_id;
      l.protocol_type = g.protocol_type;
      l.state_name = g.group_state;
      l.state = parse_state(g.group_state);
      l.type_name = g.group_type;
      l.type = parse_type(g.group_type);
      out.push_back(std::move(l));
    }
  };
  net::failure f = co_await admin::ask_every_broker(ctx, req, min_version, visit);
  if (f) co_return f;
  std::sort(out.begin(), out.end(), [](const GroupListing& a, const GroupListing& b) { return a.group_id < b.group_id; });
  co_return net::failure{};
}

// ---- describe_groups ----

std::vector<TopicPartition> partitions_of(const m::ConsumerGroupDescribeResponse::Assignment& a) {
  std::vector<TopicPartition> out;
  for (const auto& t : a.topic_partitions) {
    for (const std::int32_t p : t.partitions) out.emplace_back(t.topic_name, p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void fill_consumer_group(GroupDescription& d, const m::ConsumerGroupDescribeResponse::DescribedGroup& g) {
  d.type = GroupType::consumer;
  d.state_name = g.group_state;
  d.state = parse_state(g.group_state);
  d.protocol_type = "consumer";
  d.protocol = g.assignor_name;
  d.group_epoch = g.group_epoch;
  d.assignment_epoch = g.assignment_epoch;
  d.authorized_operations = AuthorizedOperations::from_wire(g.authorized_operations);
  for (const auto& mem : g.members) {
    GroupMemberDescription md;
    md.member_id = mem.member_id;
    md.group_instance_id = mem.instance_id;
    md.client_id = mem.client_id;
    md.host = mem.client_host;
    md.assignment = partitions_of(mem.assignment);
    md.target_assignment = partitions_of(mem.target_assignment);
    md.member_epoch = mem.member_epoch;
    md.subscribed_topics = mem.subscribed_topic_names;
    std::sort(md.subscribed_topics.begin(), md.subscribed_topics.end());
    md.subscribed_topic_regex = mem.subscribed_topic_regex;
    md.rack_id = mem.rack_id;
    d.members.push_back(std::move(md));
  }
}

/// Fills a classic group; a consumer payload that does not decode is the item's error.
void fill_classic_group(GroupDescription& d, const m::DescribeGroupsResponse::DescribedGroup& g) {
  d.type = GroupType::classic;
  d.state_name = g.group_state;
  d.state = parse_state(g.group_state);
  d.protocol_type = g.protocol_type;
  d.protocol = g.protocol_data;
  d.authorized_operations = AuthorizedOperations::from_wire(g.authorized_operations);
  const bool consumer = g.protocol_type == "consumer";
  for (const auto& mem : g.members) {
    GroupMemberDescription md;
    md.member_id = mem.member_id;
    md.group_instance_id = mem.group_instance_id;
    md.client_id = mem.client_id;
    md.host = mem.client_host;
    md.raw_metadata = mem.member_metadata;
    md.raw_assignment = mem.member_assignment;
    if (consumer) {
      if (!decode_assignment(mem.member_assignment, md.assignment) && d.ok()) {
        admin::set_item_error(d, client_errc::malformed,
                              "member '" + mem.member_id + "' has an assignment that is not the consumer protocol's",
                              group_label(d.group_id));
      }
      if (!decode_subscription(mem.member_metadata, md.subscribed_topics, md.rack_id) && d.ok()) {
        admin::set_item_error(d, client_errc::malformed,
                              "member '" + mem.member_id + "' has a subscription that is not the consumer protocol's",
                              group_label(d.group_id));
      }
    }
    d.members.push_back(std::move(md));
  }
}

struct describe_state {
  const std::vector<std::string>& ids;
  std::vector<GroupDescription>& out;
  bool authorized_operations = false;
  std::vector<bool> classic;                            // ConsumerGroupDescribe said it is not a KIP-848 group
  std::vector<std::optional<std::string>> not_found;  // its message when it said the group is unknown
};

/// ConsumerGroupDescribe for `items` of one coordinator. Groups it does not know move to
/// `classic_items`; coordinator errors to `again`.
asio::awaitable<net::failure> describe_consumer_groups(op_context& ctx, describe_state& st,
                                                       const admin::coordinator_batch& batch,
                                                       const std::vector<std::size_t>& items,
                                                       std::vector<std::size_t>& classic_items,
                                                       std::vector<std::size_t>& again) {
  m::ConsumerGroupDescribeRequest req;
  for (const auto i : items) req.group_ids.push_back(st.ids[i]);
  req.include_authorized_operations = st.authorized_operations;
  typed_request<m::ConsumerGroupDescribeRequest> call(std::move(req));
  const route r = admin::to_coordinator(CoordinatorType::group, st.ids[items.front()]);
  if (net::failure f = co_await admin::call(ctx, r, call, admin::repeat::safe)) {
    if (admin::ends_operation(f)) co_return f;
    for (const auto i : items) {
      if (f.code == client_errc::unsupported_version) {
        // A broker without KIP-848: every group there is classic.
        st.classic[i] = true;
        classic_items.push_back(i);
      } else {
        admin::set_item_error(st.out[i], f.code, f.message, group_label(st.ids[i]));
      }
    }
    co_return net::failure{};
  }
  const auto& groups = call.message().groups;
  for (const auto i : items) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.group_id == st.ids[i]; });
    GroupDescription& d = st.out[i];
    if (it == groups.end()) {
      admin::set_item_error(d, client_errc::malformed, "the broker's answer does not mention it", group_label(st.ids[i]));
      continue;
    }
    const std::error_code ec = make_kafka_error(it->error_code);
    if (ec == kafka_errc::group_id_not_found || ec == kafka_errc::unsupported_version) {
      // A classic group (or no group at all): DescribeGroups tells, as the Java Admin does.
      st.classic[i] = true;
      st.not_found[i] = it->error_message;
      classic_items.push_back(i);
    } else if (admin::coordinator_moved(ctx, CoordinatorType::group, st.ids[i], it->error_code)) {
      admin::set_item_error(d, it->error_code, it->error_message, group_label(st.ids[i]));
      again.push_back(i);
    } else if (ec) {
      admin::set_item_error(d, it->error_code, it->error_message, group_label(st.ids[i]));
    } else {
      fill_consumer_group(d, *it);
      d.coordinator = admin::answered_by(ctx, call.node_id, batch.coordinator);
    }
  }
  co_return net::failure{};
}

asio::awaitable<net::failure> describe_classic_groups(op_context& ctx, describe_state& st,
                                                      const admin::coordinator_batch& batch,
                                                      const std::vector<std::size_t>& items,
                                                      std::vector<std::size_t>& again) {
  m::DescribeGroupsRequest req;
  for (const auto i : items) req.groups.push_back(st.ids[i]);
  req.include_authorized_operations = st.authorized_operations;
  // Authorized operations from v3 (Kafka 2.3); group instance ids from v4.
  const std::int16_t min_version = st.authorized_operations ? 3 : 0;
  typed_request<m::DescribeGroupsRequest> call(std::move(req), min_version, m::DescribeGroupsRequest::max_version);
  const route r = admin::to_coordinator(CoordinatorType::group, st.ids[items.front()]);
  if (net::failure f = co_await admin::call(ctx, r, call, admin::repeat::safe)) {
    if (admin::ends_operation(f)) co_return f;
    for (const auto i : items) admin::set_item_error(st.out[i], f.code, f.message, group_label(st.ids[i]));
    co_return net::failure{};
  }
  const auto& groups = call.message().groups;
  for (const auto i : items) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.group_id == st.ids[i]; });
    GroupDescription& d = st.out[i];
    d = GroupDescription{};
    d.group_id = st.ids[i];
    if (it == groups.end()) {
      admin::set_item_error(d, client_errc::malformed, "the broker's answer does not mention it", group_label(st.ids[i]));
      continue;
    }
    if (admin::coordinator_moved(ctx, CoordinatorType::group, st.ids[i], it->error_code)) {
      admin::set_item_error(d, it->error_code, std::nullopt, group_label(st.ids[i]));
      again.push_back(i);
      continue;
    }
    if (it->error_code != 0) {
      admin::set_item_error(d, it->error_code, std::nullopt, group_label(st.ids[i]));
      continue;
    }
    fill_classic_group(d, *it);
    d.coordinator = admin::answered_by(ctx, call.node_id, batch.coordinator);
    // DescribeGroups (before v6) describes a group that does not exist as Dead with no
    // members; report it as ConsumerGroupDescribe and later DescribeGroups versions do.
    if (d.state == AdminGroupState::dead && d.members.empty() && d.protocol_type.empty()) {
      const std::optional<std::string> message =
          st.not_found[i] ? st.not_found[i] : std::optional<std::string>("the group does not exist (state Dead)");
      admin::set_item_error(d, static_cast<std::int16_t>(kafka_errc::group_id_not_found), message,
                            group_label(st.ids[i]));
    }
  }
  co_return net::failure{};
}

asio::awaitable<net::failure> describe_groups(op_context& ctx, std::vector<GroupDescription>& out,
                                              const std::vector<std::string>& ids, bool authorized_operations) {
  describe_state st{ids, out, authorized_operations, std::vector<bool>(ids.size(), false),
                    std::vector<std::optional<std::string>>(ids.size())};
  out.resize(ids.size());
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    out[i].group_id = ids[i];
    if (ids[i].empty()) {
      admin::set_item_error(out[i], client_errc::invalid_argument, "a group id may not be empty", "group ''");
    } else if (std::find(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(i), ids[i]) ==
               ids.begin() + static_cast<std::ptrdiff_t>(i)) {
      pending.push_back(i);  // a repeated id is described once and copied below
    }
  }
  auto label = [&](std::size_t i) { return group_label(ids[i]); };
  auto ask = [&](const admin::coordinator_batch& batch, std::vector<std::size_t>& again) -> asio::awaitable<net::failure> {
    std::vector<std::size_t> modern;
    std::vector<std::size_t> classic;
    for (const auto i : batch.items) {
      out[i] = GroupDescription{};
      out[i].group_id = ids[i];
      if (st.classic[i]) {
        classic.push_back(i);
      } else {
        modern.push_back(i);
      }
    }
    if (!modern.empty()) {
      if (net::failure f = co_await describe_consumer_groups(ctx, st, batch, modern, classic, again)) co_return f;
    }
    if (!classic.empty()) {
      if (net::failure f = co_await describe_classic_groups(ctx, st, batch, classic, again)) co_return f;
    }
    co_return net::failure{};
  };
  if (net::failure f =
          co_await admin::coordinator_rounds(ctx, CoordinatorType::group, ids, std::move(pending), out, label, ask)) {
    co_return f;
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto first = static_cast<std::size_t>(std::find(ids.begin(), ids.end(), ids[i]) - ids.begin());
    if (first != i && !ids[i].empty()) out[i] = out[first];
  }
  co_return net::failure{};
}

// ---- delete_groups ----

asio::awaitable<net::failure> delete_groups(op_context& ctx, std::vector<DeleteGroupResult>& out,
                                            const std::vector<std::string>& ids) {
  out.resize(ids.size());
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    out[i].group_id = ids[i];
    if (ids[i].empty()) {
      admin::set_item_error(out[i], client_errc::invalid_argument, "a group id may not be empty", "group ''");
    } else {
      pending.push_back(i);
    }
  }
  auto label = [&](std::size_t i) { return group_label(ids[i]); };
  auto ask = [&](const admin::coordinator_batch& batch, std::vector<std::size_t>& again) -> asio::awaitable<net::failure> {
    m::DeleteGroupsRequest req;
    for (const auto i : batch.items) {
      if (std::find(req.groups_names.begin(), req.groups_names.end(), ids[i]) == req.groups_names.end()) {
        req.groups_names.push_back(ids[i]);
      }
    }
    typed_request<m::DeleteGroupsRequest> call(std::move(req));
    const route r = admin::to_coordinator(CoordinatorType::group, ids[batch.items.front()]);
    if (net::failure f = co_await admin::call(ctx, r, call, admin::repeat::once)) {
      if (admin::ends_operation(f)) co_return f;
      for (const auto i : batch.items) admin::set_item_error(out[i], f.code, f.message, group_label(ids[i]));
      co_return net::failure{};
    }
    const auto& results = call.message().results;
    for (const auto i : batch.items) {
      out[i] = DeleteGroupResult{};
      out[i].group_id = ids[i];
      auto it = std::find_if(results.begin(), results.end(), [&](const auto& g) { return g.group_id == ids[i]; });
      if (it == results.end()) {
        admin::set_item_error(out[i], client_errc::malformed, "the broker's answer does not mention it",
                              group_label(ids[i]));
        continue;
      }
      admin::set_item_error(out[i], it->error_code, std::nullopt, group_label(ids[i]));
      // The coordinator did not act on it: asking again is safe.
      if (admin::coordinator_moved(ctx, CoordinatorType::group, ids[i], it->error_code)) again.push_back(i);
    }
    co_return net::failure{};
  };
  co_return co_await admin::coordinator_rounds(ctx, CoordinatorType::group, ids, std::move(pending), out, label, ask);
}

// ---- list_consumer_group_offsets ----

/// Groups partitions by topic, keeping the order of first appearance.
template <class Topic>
std::vector<Topic> by_topic(const std::vector<TopicPartition>& partitions) {
  std::vector<Topic> out;
  std::map<std::string, std::size_t> index;
  for (const auto& tp : partitions) {
    auto it = index.find(tp.topic);
    if (it == index.end()) {
      it = index.emplace(tp.topic, out.size()).first;
      out.emplace_back();
      out.back().name = tp.topic;
    }
    auto& t = out[it->second];
    if constexpr (requires { t.partition_indexes; }) {
      t.partition_indexes.push_back(tp.partition);
    } else {
      typename decltype(t.partitions)::value_type p;
      p.partition_index = tp.partition;
      t.partitions.push_back(std::move(p));
    }
  }
  return out;
}

struct fetched_offset {
  std::int64_t offset = -1;
  std::int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  std::int16_t error_code = 0;
};

template <class Topics>
void collect_offsets(const Topics& topics, std::map<TopicPartition, fetched_offset>& out) {
  for (const auto& t : topics) {
    for (const auto& p : t.partitions) {
      fetched_offset f;
      f.offset = p.committed_offset;
      f.leader_epoch = p.committed_leader_epoch;
      f.metadata = p.metadata;
      f.error_code = p.error_code;
      out[TopicPartition(t.name, p.partition_index)] = std::move(f);
    }
  }
}

asio::awaitable<net::failure> list_group_offsets(op_context& ctx, std::vector<ListedGroupOffset>& out,
                                                 const std::string& group,
                                                 const std::vector<TopicPartition>& partitions, bool require_stable) {
  if (group.empty()) {
    co_return net::failure(client_errc::invalid_argument, ctx.name + ": a group id may not be empty");
  }
  const bool all = partitions.empty();
  m::OffsetFetchRequest req;
  req.require_stable = require_stable;
  // v0-7: one group at the top level; v8+: a list of groups.
  req.group_id = group;
  m::OffsetFetchRequest::OffsetFetchRequestGroup g;
  g.group_id = group;
  if (all) {
    req.topics = std::nullopt;  // every partition (v2+)
    g.topics = std::nullopt;
  } else {
    req.topics = by_topic<m::OffsetFetchRequest::OffsetFetchRequestTopic>(partitions);
    g.topics = by_topic<m::OffsetFetchRequest::OffsetFetchRequestTopics>(partitions);
  }
  req.groups.push_back(std::move(g));
  // require_stable from v7 (KIP-447); all partitions from v2.
  const std::int16_t min_version = require_stable ? 7 : all ? 2 : 1;
  for (;;) {
    typed_request<m::OffsetFetchRequest> call(req, min_version, m::OffsetFetchRequest::max_version);
    call.set_version_hook([](std::int16_t v, m::OffsetFetchRequest& r) {
      if (v >= 8) {
        r.group_id.clear();
        r.topics = std::vector<m::OffsetFetchRequest::OffsetFetchRequestTopic>();
      } else {
        r.groups.clear();
      }
      return std::error_code();
    });
    const route r = admin::to_coordinator(CoordinatorType::group, group);
    if (net::failure f = co_await admin::call(ctx, r, call, admin::repeat::safe)) {
      co_return naming_group(std::move(f), ctx, group);
    }
    const auto& resp = call.message();
    std::map<TopicPartition, fetched_offset> found;
    std::int16_t group_error = 0;
    if (call.version >= 8) {
      auto it = std::find_if(resp.groups.begin(), resp.groups.end(), [&](const auto& x) { return x.group_id == group; });
      if (it == resp.groups.end()) {
        co_return net::failure(client_errc::malformed,
                               ctx.name + ": " + group_label(group) + ": the broker's answer does not mention it");
      }
      group_error = it->error_code;
      collect_offsets(it->topics, found);
    } else {
      group_error = resp.error_code;
      collect_offsets(resp.topics, found);
    }
    // Coordinator moves and pending transactional commits (require_stable) are asked again.
    bool retry = admin::coordinator_moved(ctx, CoordinatorType::group, group, group_error) ||
                 group_error == static_cast<std::int16_t>(kafka_errc::unstable_offset_commit);
    for (const auto& e : found) {
      if (e.second.error_code == static_cast<std::int16_t>(kafka_errc::unstable_offset_commit)) retry = true;
    }
    if (retry) {
      const std::int16_t why = group_error != 0 ? group_error : static_cast<std::int16_t>(kafka_errc::unstable_offset_commit);
      ctx.last_failure = group_label(group) + ": " + admin::describe_kafka_error(make_kafka_error(why), std::nullopt);
      const bool waited = co_await admin::backoff(ctx);
      if (waited) continue;
      if (ctx.cancelled || group_error != 0) co_return ctx.stop_failure();
    }
    if (group_error != 0) co_return group_failure(ctx, group, group_error, std::nullopt);
    if (all) {
      for (const auto& e : found) {
        ListedGroupOffset o;
        o.partition = e.first;
        out.push_back(std::move(o));
      }
    } else {
      for (const auto& tp : partitions) {
        ListedGroupOffset o;
        o.partition = tp;
        out.push_back(std::move(o));
      }
    }
    for (auto& o : out) {
      auto it = found.find(o.partition);
      if (it == found.end()) {
        admin::set_item_error(o, client_errc::malformed, "the broker's answer does not mention it",
                              group_label(group) + " " + partition_label(o.partition));
        continue;
      }
      const fetched_offset& f = it->second;
      o.offset = f.offset;
      if (f.leader_epoch >= 0) o.leader_epoch = f.leader_epoch;
      o.metadata = f.metadata.value_or("");
      admin::set_item_error(o, f.error_code, std::nullopt, group_label(group) + " " + partition_label(o.partition));
    }
    co_return net::failure{};
  }
}

// ---- alter_consumer_group_offsets ----

asio::awaitable<net::failure> alter_group_offsets(op_context& ctx, std::vector<GroupOffsetResult>& out,
                                                  const std::string& group,
                                                  const std::vector<NewGroupOffset>& offsets) {
  if (group.empty()) {
    co_return net::failure(client_errc::invalid_argument, ctx.name + ": a group id may not be empty");
  }
  out.resize(offsets.size());
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    out[i].partition = offsets[i].partition;
    if (offsets[i].offset < 0) {
      admin::set_item_error(out[i], client_errc::invalid_argument,
                            "a negative offset (" + std::to_string(offsets[i].offset) + ") cannot be committed",
                            group_label(group) + " " + partition_label(offsets[i].partition));
    } else {
      pending.push_back(i);
    }
  }
  std::vector<std::size_t> again;
  while (!pending.empty()) {
    m::OffsetCommitRequest req;
    req.group_id = group;
    req.generation_id_or_member_epoch = -1;  // not a member: only an empty group accepts it
    req.member_id.clear();
    std::map<std::string, std::size_t> topic_index;
    for (const auto i : pending) {
      const NewGroupOffset& o = offsets[i];
      auto it = topic_index.find(o.partition.topic);
      if (it == topic_index.end()) {
        it = topic_index.emplace(o.partition.topic, req.topics.size()).first;
        req.topics.emplace_back();
        req.topics.back().name = o.partition.topic;
      }
      m::OffsetCommitRequest::OffsetCommitRequestPartition p;
      p.partition_index = o.partition.partition;
      p.committed_offset = o.offset;
      p.committed_leader_epoch = o.leader_epoch;
      p.committed_metadata = o.metadata;
      req.topics[it->second].partitions.push_back(std::move(p));
    }
    typed_request<m::OffsetCommitRequest> call(std::move(req));
    // Leader epochs from v6: older versions commit without them.
    call.set_version_hook([](std::int16_t v, m::OffsetCommitRequest& r) {
      if (v < 6) {
        for (auto& t : r.topics) {
          for (auto& p : t.partitions) p.committed_leader_epoch = -1;
        }
      }
      return std::error_code();
    });
    const route r = admin::to_coordinator(CoordinatorType::group, group);
    if (net::failure f = co_await admin::call(ctx, r, call, admin::repeat::once)) {
      if (admin::ends_operation(f)) co_return f;
      for (const auto i : pending) {
        admin::set_item_error(out[i], f.code, f.message, group_label(group) + " " + partition_label(offsets[i].partition));
      }
      break;
    }
    const auto& topics = call.message().topics;
    for (const auto i : pending) {
      const TopicPartition& tp = offsets[i].partition;
      out[i] = GroupOffsetResult{};
      out[i].partition = tp;
      std::optional<std::int16_t> code;
      for (const auto& t : topics) {
        if (t.name != tp.topic) continue;
        for (const auto& p : t.partitions) {
          if (p.partition_index == tp.partition) code = p.error_code;
        }
      }
      const std::string label = group_label(group) + " " + partition_label(tp);
      if (!code) {
        admin::set_item_error(out[i], client_errc::malformed, "the broker's answer does not mention it", label);
        continue;
      }
      admin::set_item_error(out[i], *code, std::nullopt, label);
      // The coordinator did not commit it: asking again is safe.
      if (admin::coordinator_moved(ctx, CoordinatorType::group, group, *code)) again.push_back(i);
    }
    const std::string why = again.empty() ? std::string() : out[again.front()].error_message;
    const bool more = co_await admin::next_round(ctx, pending, again, why);
    if (!more && ctx.cancelled) co_return ctx.stop_failure();
    if (!more) break;
  }
  co_return net::failure{};
}

// ---- delete_consumer_group_offsets ----

asio::awaitable<net::failure> delete_group_offsets(op_context& ctx, std::vector<GroupOffsetResult>& out,
                                                   const std::string& group,
                                                   const std::vector<TopicPartition>& partitions) {
  if (group.empty()) {
    co_return net::failure(client_errc::invalid_argument, ctx.name + ": a group id may not be empty");
  }
  m::OffsetDeleteRequest req;
  req.group_id = group;
  req.topics = by_topic<m::OffsetDeleteRequest::OffsetDeleteRequestTopic>(partitions);
  for (;;) {
    typed_request<m::OffsetDeleteRequest> call(req);
    const route r = admin::to_coordinator(CoordinatorType::group, group);
    if (net::failure f = co_await admin::call(ctx, r, call, admin::repeat::once)) {
      co_return naming_group(std::move(f), ctx, group);
    }
    const auto& topics = call.message().topics;
    out.clear();
    bool moved = false;
    for (const auto& tp : partitions) {
      GroupOffsetResult res;
      res.partition = tp;
      std::optional<std::int16_t> code;
      for (const auto& t : topics) {
        if (t.name != tp.topic) continue;
        for (const auto& p : t.partitions) {
          if (p.partition_index == tp.partition) code = p.error_code;
        }
      }
      const std::string label = group_label(group) + " " + partition_label(tp);
      if (!code) {
        admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", label);
      } else {
        admin::set_item_error(res, *code, std::nullopt, label);
        if (admin::coordinator_moved(ctx, CoordinatorType::group, group, *code)) moved = true;
      }
      out.push_back(std::move(res));
    }
    if (!moved) break;
    ctx.last_failure = out.front().error_message;
    const bool waited = co_await admin::backoff(ctx);
    if (!waited && ctx.cancelled) co_return ctx.stop_failure();
    if (!waited) break;
  }
  co_return net::failure{};
}

// ---- remove_members_from_consumer_group ----

asio::awaitable<net::failure> remove_members(op_context& ctx, std::vector<RemoveMemberResult>& out,
                                             const std::string& group, const std::vector<std::string>& instance_ids,
                                             bool all_members) {
  if (group.empty()) {
    co_return net::failure(client_errc::invalid_argument, ctx.name + ": a group id may not be empty");
  }
  std::vector<m::LeaveGroupRequest::MemberIdentity> members;
  if (all_members) {
    std::vector<GroupDescription> described;
    const std::vector<std::string> ids{group};
    if (net::failure f = co_await describe_groups(ctx, described, ids, false)) co_return f;
    const GroupDescription& d = described.front();
    if (!d.ok()) co_return net::failure(d.error, ctx.name + ": " + d.error_message, net::delivery::not_sent);
    for (const auto& mem : d.members) {
      m::LeaveGroupRequest::MemberIdentity id;
      id.member_id = mem.member_id;
      id.group_instance_id = mem.group_instance_id;
      members.push_back(std::move(id));
    }
  } else {
    if (instance_ids.empty()) {
      co_return net::failure(client_errc::invalid_argument,
                             ctx.name + ": " + group_label(group) +
                                 ": no group instance id given (remove_all_members_from_consumer_group removes every member)");
    }
    for (const auto& iid : instance_ids) {
      m::LeaveGroupRequest::MemberIdentity id;
      id.member_id.clear();  // unknown: the coordinator finds the member by its instance id
      id.group_instance_id = iid;
      members.push_back(std::move(id));
    }
  }
  for (const auto& mem : members) {
    RemoveMemberResult res;
    res.member_id = mem.member_id;
    res.group_instance_id = mem.group_instance_id;
    out.push_back(std::move(res));
  }
  if (members.empty()) co_return net::failure{};
  m::LeaveGroupRequest req;
  req.group_id = group;
  for (auto& mem : members) {
    mem.reason = std::string("removed by an admin");
    req.members.push_back(mem);
  }
  // Members by identity from v3 (KIP-345, Kafka 2.4); reasons from v5 (KIP-800).
  typed_request<m::LeaveGroupRequest> call(std::move(req), 3, m::LeaveGroupRequest::max_version);
  call.set_version_hook([](std::int16_t v, m::LeaveGroupRequest& r) {
    if (v < 5) {
      for (auto& mem : r.members) mem.reason = std::nullopt;
    }
    return std::error_code();
  });
  const route r = admin::to_coordinator(CoordinatorType::group, group);
  if (net::failure f = co_await admin::call(ctx, r, call, admin::repeat::once)) {
    co_return naming_group(std::move(f), ctx, group);
  }
  const auto& answered = call.message().members;
  for (auto& res : out) {
    auto it = std::find_if(answered.begin(), answered.end(), [&](const auto& a) {
      if (res.group_instance_id) return a.group_instance_id && *a.group_instance_id == *res.group_instance_id;
      return a.member_id == res.member_id;
    });
    const std::string label = group_label(group) + " member " +
                              (res.group_instance_id ? "with instance id '" + *res.group_instance_id + "'"
                                                     : "'" + res.member_id + "'");
    if (it == answered.end()) {
      admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", label);
      continue;
    }
    if (!it->member_id.empty()) res.member_id = it->member_id;
    admin::set_item_error(res, it->error_code, std::nullopt, label);
  }
  co_return net::failure{};
}

}  // namespace

asio::awaitable<op_error> admin_list_groups(std::shared_ptr<admin_state> s, std::vector<GroupListing>& out,
                                            ListGroupsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "list_groups");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await list_groups(ctx.value(), out, options));
}

asio::awaitable<op_error> admin_describe_groups(std::shared_ptr<admin_state> s, std::vector<GroupDescription>& out,
                                                std::vector<std::string> group_ids, DescribeGroupsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_groups");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(
      co_await describe_groups(ctx.value(), out, group_ids, options.include_authorized_operations));
}

asio::awaitable<op_error> admin_delete_groups(std::shared_ptr<admin_state> s, std::vector<DeleteGroupResult>& out,
                                              std::vector<std::string> group_ids, DeleteGroupsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "delete_groups");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await delete_groups(ctx.value(), out, group_ids));
}

asio::awaitable<op_error> admin_list_consumer_group_offsets(std::shared_ptr<admin_state> s,
                                                            std::vector<ListedGroupOffset>& out, std::string group_id,
                                                            std::vector<TopicPartition> partitions,
                                                            ListConsumerGroupOffsetsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "list_consumer_group_offsets");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(
      co_await list_group_offsets(ctx.value(), out, group_id, partitions, options.require_stable));
}

asio::awaitable<op_error> admin_alter_consumer_group_offsets(std::shared_ptr<admin_state> s,
                                                             std::vector<GroupOffsetResult>& out, std::string group_id,
                                                             std::vector<NewGroupOffset> offsets,
                                                             AlterConsumerGroupOffsetsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "alter_consumer_group_offsets");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await alter_group_offsets(ctx.value(), out, group_id, offsets));
}

asio::awaitable<op_error> admin_delete_consumer_group_offsets(std::shared_ptr<admin_state> s,
                                                              std::vector<GroupOffsetResult>& out, std::string group_id,
                                                              std::vector<TopicPartition> partitions,
                                                              DeleteConsumerGroupOffsetsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "delete_consumer_group_offsets");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await delete_group_offsets(ctx.value(), out, group_id, partitions));
}

asio::awaitable<op_error> admin_remove_members_from_consumer_group(std::shared_ptr<admin_state> s,
                                                                   std::vector<RemoveMemberResult>& out,
                                                                   std::string group_id,
                                                                   std::vector<std::string> group_instance_ids,
                                                                   bool all_members, RemoveMembersOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "remove_members_from_consumer_group");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await remove_members(ctx.value(), out, group_id, group_instance_ids, all_members));
}

}  // namespace detail
}  // namespace asiokafka
