// Admin: a partition's records and leaders. ListOffsets and DeleteRecords go to each
// partition's leader (one request per leader, all at once, merged; leader moves retried on the
// new leader within the deadline); ElectLeaders to the controller.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "admin/admin_impl.hpp"
#include "admin/fanout.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka {
namespace detail {

namespace asio = boost::asio;
namespace m = protocol::messages;
using admin::op_context;

namespace {

/// How long the fan-out waits past the deadline for requests bounded by it to come back.
constexpr std::chrono::milliseconds fanout_grace{2000};

std::string partition_label(const TopicPartition& tp) {
  return "topic '" + tp.topic + "' partition " + std::to_string(tp.partition);
}

net::failure cancelled_failure(const op_context& ctx) {
  return net::failure(std::make_error_code(std::errc::operation_canceled), ctx.name + ": cancelled");
}

// ---- the per-leader engine shared by list_offsets and delete_records ----

/// One partition's answer in a leader's response.
template <class Payload>
struct partition_answer {
  std::size_t item = 0;
  std::int16_t code = 0;
  Payload payload{};
};

/// The request to one leader for some of the operation's partitions. It owns everything it
/// touches: it may outlive the operation's frame (run_all).
template <class Payload>
struct leader_batch {
  op_context ctx;
  std::int32_t node = -1;
  std::vector<std::size_t> items;
  std::vector<std::int32_t> leader_epochs;  ///< The cached epoch of each item's leader.
  net::failure failure;
  std::vector<partition_answer<Payload>> answers;
  bool done = false;
};

/// Sends a batch with Op's request and collects the per-partition answers. Leader requests go
/// out once per round: a broker that cannot be reached sends its partitions back through the
/// routing (its leadership may have moved) instead of being retried in place.
template <class Op>
asio::awaitable<void> send_batch(std::shared_ptr<const Op> op, std::shared_ptr<leader_batch<typename Op::payload>> b) {
  auto call = op->request(b->items, b->leader_epochs, b->ctx);
  route to_leader;
  to_leader.target = route::kind::node;
  to_leader.node_id = b->node;
  net::request_options options;
  options.timeout = b->ctx.request_bound();
  b->failure = co_await b->ctx.cluster->call(to_leader, call, options);
  if (!b->failure) op->read(call.message(), *b);
  b->done = true;
}

/// Routes each pending partition to its leader (from the metadata, refreshed as needed),
/// sends one request per leader at once, and asks again for the partitions whose leader moved
/// until the deadline. Results land in `out[i]` (its topic_partition already set).
template <class Op, class Result>
asio::awaitable<net::failure> per_leader(op_context& ctx, std::shared_ptr<void> owner, std::shared_ptr<const Op> op,
                                         std::vector<Result>& out, std::vector<std::size_t> pending) {
  using batch = leader_batch<typename Op::payload>;
  auto& metadata = ctx.cluster->metadata();
  std::vector<int> unknown_rounds(out.size(), 0);
  std::vector<std::string> last(out.size());
  bool refreshed = false;
  while (!pending.empty()) {
    std::map<std::int32_t, std::shared_ptr<batch>> batches;
    std::vector<std::size_t> waiting;
    std::set<std::string> refresh_topics;
    bool slow = false;  // wait retry_backoff before the next round
    for (std::size_t i : pending) {
      const TopicPartition& tp = out[i].topic_partition;
      const net::leader_lookup lk = metadata.cache().leader_for(tp.topic, tp.partition);
      switch (lk.status) {
        case net::leader_status::ok: {
          auto& b = batches[lk.broker->node_id];
          if (!b) {
            b = std::make_shared<batch>();
            b->ctx = ctx;
            b->node = lk.broker->node_id;
          }
          b->items.push_back(i);
          b->leader_epochs.push_back(lk.leader_epoch);
          break;
        }
        case net::leader_status::topic_error: {
          const auto cls = protocol::classify(lk.ec);
          if (cls.retriable || cls.refresh_metadata) {
            waiting.push_back(i);
            refresh_topics.insert(tp.topic);
            last[i] = admin::describe_kafka_error(lk.ec, std::nullopt);
            slow = slow || refreshed;
          } else {
            admin::set_item_error(out[i], lk.ec, admin::describe_kafka_error(lk.ec, std::nullopt), partition_label(tp));
          }
          break;
        }
        case net::leader_status::unknown_topic:
        case net::leader_status::unknown_partition:
          // Absent from three refreshes, retry_backoff apart: it does not exist (fewer could
          // be a broker that has not yet applied a topic just created).
          if (refreshed && ++unknown_rounds[i] >= 3) {
            admin::set_item_error(out[i], make_error_code(kafka_errc::unknown_topic_or_partition),
                                  "UNKNOWN_TOPIC_OR_PARTITION: the cluster has no such " +
                                      std::string(lk.status == net::leader_status::unknown_topic ? "topic"
                                                                                                  : "partition"),
                                  partition_label(tp));
          } else {
            waiting.push_back(i);
            refresh_topics.insert(tp.topic);
            last[i] = "not in the metadata";
            slow = slow || refreshed;
          }
          break;
        case net::leader_status::no_leader:
          waiting.push_back(i);
          refresh_topics.insert(tp.topic);
          last[i] = "LEADER_NOT_AVAILABLE: no leader in the metadata";
          slow = slow || refreshed;
          break;
      }
    }

    if (!batches.empty()) {
      std::vector<asio::awaitable<void>> tasks;
      for (auto it = batches.begin(); it != batches.end(); ++it) tasks.push_back(send_batch(op, it->second));
      const net::wait_status status = co_await admin::run_all(std::move(tasks), owner, ctx.deadline + fanout_grace);
      if (status == net::wait_status::cancelled) co_return cancelled_failure(ctx);
      for (auto it = batches.begin(); it != batches.end(); ++it) {
        const batch& b = *it->second;
        if (!b.done) {
          for (std::size_t i : b.items) {
            admin::set_item_error(out[i], client_errc::timeout,
                                  "broker " + std::to_string(b.node) + " did not answer within the timeout",
                                  partition_label(out[i].topic_partition));
          }
          continue;
        }
        if (b.failure) {
          if (admin::ends_operation(b.failure)) co_return b.failure;
          const auto cls = protocol::classify(b.failure.code);
          // A request a newer version carries for some partitions only (max_timestamp): those
          // fail, the others are asked for again without them.
          std::int16_t lowest = 32767;
          for (std::size_t i : b.items) lowest = std::min(lowest, op->min_version(i));
          for (std::size_t i : b.items) {
            const TopicPartition& tp = out[i].topic_partition;
            if (b.failure.code == client_errc::unsupported_version && op->min_version(i) > lowest) {
              admin::set_item_error(out[i], b.failure.code,
                                    b.failure.message + " (this needs version " + std::to_string(op->min_version(i)) +
                                        " of the request)",
                                    partition_label(tp));
              continue;
            }
            if (b.failure.code == client_errc::unsupported_version && op->min_version(i) == lowest &&
                std::any_of(b.items.begin(), b.items.end(), [&](std::size_t j) { return op->min_version(j) > lowest; })) {
              waiting.push_back(i);
              last[i] = b.failure.message;
              continue;
            }
            if (cls.transport || cls.retriable) {
              metadata.invalidate(tp.topic, tp.partition, b.failure.code);
              waiting.push_back(i);
              refresh_topics.insert(tp.topic);
              last[i] = b.failure.message;
              slow = true;
            } else {
              admin::set_item_error(out[i], b.failure.code, b.failure.message, partition_label(tp));
            }
          }
          continue;
        }
        std::vector<bool> answered(out.size(), false);
        for (const auto& a : b.answers) {
          answered[a.item] = true;
          const TopicPartition& tp = out[a.item].topic_partition;
          const std::error_code ec = make_kafka_error(a.code);
          if (!ec) {
            op->accept(out[a.item], a.payload);
            continue;
          }
          const auto cls = protocol::classify(ec);
          if (cls.stale_leader || cls.refresh_metadata || cls.retriable) {
            metadata.invalidate(tp.topic, tp.partition, ec);
            waiting.push_back(a.item);
            refresh_topics.insert(tp.topic);
            last[a.item] = "broker " + std::to_string(b.node) + ": " + admin::describe_kafka_error(ec, std::nullopt);
            slow = true;
          } else {
            admin::set_item_error(out[a.item], a.code, std::nullopt, partition_label(tp));
          }
        }
        for (std::size_t i : b.items) {
          if (!answered[i]) {
            admin::set_item_error(out[i], client_errc::malformed,
                                  "broker " + std::to_string(b.node) + "'s answer does not mention it",
                                  partition_label(out[i].topic_partition));
          }
        }
      }
    }

    if (waiting.empty()) break;
    bool more = !ctx.expired();
    if (more && slow) {
      more = co_await admin::backoff(ctx);
      if (!more && ctx.cancelled) co_return cancelled_failure(ctx);  // the wait itself was cancelled
    }
    if (more && !refresh_topics.empty()) {
      std::vector<std::string> topics(refresh_topics.begin(), refresh_topics.end());
      net::failure f = co_await metadata.refresh(std::move(topics), false, ctx.deadline);
      if (admin::ends_operation(f)) co_return f;
      if (f) {
        for (std::size_t i : waiting) last[i] = f.message;
      }
      refreshed = true;
      more = !ctx.expired();
    }
    if (!more) {
      for (std::size_t i : waiting) {
        admin::set_item_error(out[i], client_errc::timeout, "no answer within the timeout (last: " + last[i] + ")",
                              partition_label(out[i].topic_partition));
      }
      break;
    }
    pending = std::move(waiting);
  }
  co_return net::failure{};
}

// ---- list_offsets ----

struct offset_payload {
  std::int64_t offset = -1;
  std::int64_t timestamp = -1;
  std::int32_t leader_epoch = -1;
};

struct list_offsets_op {
  using payload = offset_payload;
  std::vector<OffsetSpec> specs;  // by item
  std::vector<TopicPartition> partitions;
  std::int8_t isolation = 0;

  std::int16_t min_version(std::size_t i) const {
    if (specs[i].kind() == OffsetSpec::Kind::max_timestamp) return 7;  // KIP-734
    return isolation != 0 ? std::int16_t{2} : std::int16_t{1};         // v0 answers in old_style_offsets
  }

  typed_request<m::ListOffsetsRequest> request(const std::vector<std::size_t>& items,
                                               const std::vector<std::int32_t>& epochs, const op_context& ctx) const {
    m::ListOffsetsRequest req;
    req.replica_id = -1;  // a client, not a follower
    req.isolation_level = isolation;
    req.timeout_ms = static_cast<std::int32_t>(ctx.request_bound().count());  // v10+
    std::int16_t min = 1;
    for (std::size_t k = 0; k < items.size(); ++k) {
      const std::size_t i = items[k];
      min = std::max(min, min_version(i));
      auto t = std::find_if(req.topics.begin(), req.topics.end(),
                            [&](const m::ListOffsetsRequest::ListOffsetsTopic& x) { return x.name == partitions[i].topic; });
      if (t == req.topics.end()) {
        req.topics.emplace_back();
        t = std::prev(req.topics.end());
        t->name = partitions[i].topic;
      }
      m::ListOffsetsRequest::ListOffsetsPartition p;
      p.partition_index = partitions[i].partition;
      p.current_leader_epoch = epochs[k];
      p.timestamp = specs[i].timestamp();
      t->partitions.push_back(std::move(p));
    }
    return typed_request<m::ListOffsetsRequest>(std::move(req), min, m::ListOffsetsRequest::max_version);
  }

  void read(const m::ListOffsetsResponse& r, leader_batch<payload>& b) const {
    for (std::size_t i : b.items) {
      for (const auto& t : r.topics) {
        if (t.name != partitions[i].topic) continue;
        for (const auto& p : t.partitions) {
          if (p.partition_index != partitions[i].partition) continue;
          partition_answer<payload> a;
          a.item = i;
          a.code = p.error_code;
          a.payload.offset = p.offset;
          a.payload.timestamp = p.timestamp;
          a.payload.leader_epoch = p.leader_epoch;
          b.answers.push_back(a);
        }
      }
    }
  }

  static void accept(ListOffsetsResult& r, const payload& p) {
    r.offset = p.offset;
    r.timestamp = p.timestamp;
    if (p.leader_epoch >= 0) r.leader_epoch = p.leader_epoch;
  }
};

asio::awaitable<net::failure> list_offsets(op_context& ctx, std::shared_ptr<void> owner,
                                           std::vector<ListOffsetsResult>& out,
                                           const std::vector<std::pair<TopicPartition, OffsetSpec>>& query,
                                           IsolationLevel isolation) {
  auto op = std::make_shared<list_offsets_op>();
  op->isolation = static_cast<std::int8_t>(isolation);
  std::vector<std::size_t> pending;
  std::set<TopicPartition> seen;
  for (std::size_t i = 0; i < query.size(); ++i) {
    ListOffsetsResult r;
    r.topic_partition = query[i].first;
    op->partitions.push_back(query[i].first);
    op->specs.push_back(query[i].second);
    if (!seen.insert(query[i].first).second) {
      admin::set_item_error(r, client_errc::invalid_argument, "given more than once", partition_label(r.topic_partition));
    } else if (query[i].second.kind() == OffsetSpec::Kind::timestamp && query[i].second.timestamp() < 0) {
      admin::set_item_error(r, client_errc::invalid_argument,
                            "a negative timestamp (" + std::to_string(query[i].second.timestamp()) + ")",
                            partition_label(r.topic_partition));
    } else if (query[i].first.topic.empty() || query[i].first.partition < 0) {
      admin::set_item_error(r, client_errc::invalid_argument, "not a partition", partition_label(r.topic_partition));
    } else {
      pending.push_back(i);
    }
    out.push_back(std::move(r));
  }
  std::shared_ptr<const list_offsets_op> shared = op;
  co_return co_await per_leader(ctx, std::move(owner), std::move(shared), out, std::move(pending));
}

// ---- delete_records ----

struct low_watermark_payload {
  std::int64_t low_watermark = -1;
};

struct delete_records_op {
  using payload = low_watermark_payload;
  std::vector<TopicPartition> partitions;  // by item
  std::vector<std::int64_t> offsets;

  std::int16_t min_version(std::size_t) const { return m::DeleteRecordsRequest::min_version; }

  typed_request<m::DeleteRecordsRequest> request(const std::vector<std::size_t>& items,
                                                 const std::vector<std::int32_t>&, const op_context& ctx) const {
    m::DeleteRecordsRequest req;
    req.timeout_ms = static_cast<std::int32_t>(ctx.request_bound().count());
    for (std::size_t i : items) {
      auto t = std::find_if(req.topics.begin(), req.topics.end(),
                            [&](const m::DeleteRecordsRequest::DeleteRecordsTopic& x) { return x.name == partitions[i].topic; });
      if (t == req.topics.end()) {
        req.topics.emplace_back();
        t = std::prev(req.topics.end());
        t->name = partitions[i].topic;
      }
      m::DeleteRecordsRequest::DeleteRecordsPartition p;
      p.partition_index = partitions[i].partition;
      p.offset = offsets[i];
      t->partitions.push_back(std::move(p));
    }
    return typed_request<m::DeleteRecordsRequest>(std::move(req));
  }

  void read(const m::DeleteRecordsResponse& r, leader_batch<payload>& b) const {
    for (std::size_t i : b.items) {
      for (const auto& t : r.topics) {
        if (t.name != partitions[i].topic) continue;
        for (const auto& p : t.partitions) {
          if (p.partition_index != partitions[i].partition) continue;
          partition_answer<payload> a;
          a.item = i;
          a.code = p.error_code;
          a.payload.low_watermark = p.low_watermark;
          b.answers.push_back(a);
        }
      }
    }
  }

  static void accept(DeleteRecordsResult& r, const payload& p) { r.low_watermark = p.low_watermark; }
};

asio::awaitable<net::failure> delete_records(op_context& ctx, std::shared_ptr<void> owner,
                                             std::vector<DeleteRecordsResult>& out,
                                             const std::vector<std::pair<TopicPartition, std::int64_t>>& before) {
  auto op = std::make_shared<delete_records_op>();
  std::vector<std::size_t> pending;
  std::set<TopicPartition> seen;
  for (std::size_t i = 0; i < before.size(); ++i) {
    DeleteRecordsResult r;
    r.topic_partition = before[i].first;
    op->partitions.push_back(before[i].first);
    op->offsets.push_back(before[i].second);
    if (!seen.insert(before[i].first).second) {
      admin::set_item_error(r, client_errc::invalid_argument, "given more than once", partition_label(r.topic_partition));
    } else if (before[i].second < -1) {
      admin::set_item_error(r, client_errc::invalid_argument,
                            "offset " + std::to_string(before[i].second) + " (-1, the high watermark, or >= 0)",
                            partition_label(r.topic_partition));
    } else if (before[i].first.topic.empty() || before[i].first.partition < 0) {
      admin::set_item_error(r, client_errc::invalid_argument, "not a partition", partition_label(r.topic_partition));
    } else {
      pending.push_back(i);
    }
    out.push_back(std::move(r));
  }
  std::shared_ptr<const delete_records_op> shared = op;
  co_return co_await per_leader(ctx, std::move(owner), std::move(shared), out, std::move(pending));
}

// ---- elect_leaders ----

asio::awaitable<net::failure> elect_leaders(op_context& ctx, std::vector<ElectLeadersResult>& out, ElectionType type,
                                            const std::optional<std::vector<TopicPartition>>& partitions) {
  if (partitions && partitions->empty()) co_return net::failure{};
  m::ElectLeadersRequest req;
  req.election_type = static_cast<std::int8_t>(type);
  req.timeout_ms = static_cast<std::int32_t>(ctx.request_bound().count());
  if (partitions) {
    std::vector<m::ElectLeadersRequest::TopicPartitions> topics;
    for (const TopicPartition& tp : *partitions) {
      auto t = std::find_if(topics.begin(), topics.end(), [&](const auto& x) { return x.topic == tp.topic; });
      if (t == topics.end()) {
        topics.emplace_back();
        t = std::prev(topics.end());
        t->topic = tp.topic;
      }
      if (std::find(t->partitions.begin(), t->partitions.end(), tp.partition) == t->partitions.end()) {
        t->partitions.push_back(tp.partition);
      }
    }
    req.topic_partitions = std::move(topics);
  } else {
    req.topic_partitions = std::nullopt;  // every partition
  }
  // The election type is v1+ (v0 elects the preferred leader only).
  const std::int16_t min_version = type == ElectionType::preferred ? std::int16_t{0} : std::int16_t{1};
  typed_request<m::ElectLeadersRequest> call(std::move(req), min_version, m::ElectLeadersRequest::max_version);
  const route controller = [] {
    route r;
    r.target = route::kind::controller;
    return r;
  }();
  if (net::failure f = co_await admin::call(ctx, controller, call, admin::repeat::once)) co_return f;
  const auto& results = call.message().replica_election_results;
  auto result_of = [&](const TopicPartition& tp, const m::ElectLeadersResponse::PartitionResult& p) {
    ElectLeadersResult r;
    r.topic_partition = tp;
    admin::set_item_error(r, p.error_code, p.error_message, partition_label(tp));
    return r;
  };
  if (partitions) {
    for (const TopicPartition& tp : *partitions) {
      const m::ElectLeadersResponse::PartitionResult* found = nullptr;
      for (const auto& t : results) {
        if (t.topic != tp.topic) continue;
        for (const auto& p : t.partition_result) {
          if (p.partition_id == tp.partition) found = &p;
        }
      }
      if (found != nullptr) {
        out.push_back(result_of(tp, *found));
      } else {
        ElectLeadersResult r;
        r.topic_partition = tp;
        admin::set_item_error(r, client_errc::malformed, "the broker's answer does not mention it", partition_label(tp));
        out.push_back(std::move(r));
      }
    }
  } else {
    for (const auto& t : results) {
      for (const auto& p : t.partition_result) out.push_back(result_of(TopicPartition(t.topic, p.partition_id), p));
    }
    std::sort(out.begin(), out.end(), [](const ElectLeadersResult& a, const ElectLeadersResult& b) {
      return a.topic_partition < b.topic_partition;
    });
  }
  co_return net::failure{};
}

}  // namespace

asio::awaitable<op_error> admin_list_offsets(std::shared_ptr<admin_state> s, std::vector<ListOffsetsResult>& out,
                                             std::vector<std::pair<TopicPartition, OffsetSpec>> partitions,
                                             ListOffsetsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "list_offsets");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await list_offsets(ctx.value(), s, out, partitions, options.isolation));
}

asio::awaitable<op_error> admin_delete_records(std::shared_ptr<admin_state> s, std::vector<DeleteRecordsResult>& out,
                                               std::vector<std::pair<TopicPartition, std::int64_t>> before,
                                               DeleteRecordsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "delete_records");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await delete_records(ctx.value(), s, out, before));
}

asio::awaitable<op_error> admin_elect_leaders(std::shared_ptr<admin_state> s, std::vector<ElectLeadersResult>& out,
                                              ElectionType type, std::optional<std::vector<TopicPartition>> partitions,
                                              ElectLeadersOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "elect_leaders");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await elect_leaders(ctx.value(), out, type, partitions));
}

}  // namespace detail
}  // namespace asiokafka
