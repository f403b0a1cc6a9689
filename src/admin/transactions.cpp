// Admin: transactions (KIP-664). ListTransactions goes to every broker; DescribeTransactions to
// each transactional id's coordinator (batched per coordinator, coordinated.hpp);
// DescribeProducers and WriteTxnMarkers to each partition's leader (partitions sharing a leader
// are asked together). Per-item routing errors are asked again until the deadline. See
// docs/admin.md, "Groups and transactions".
#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin/admin_impl.hpp"
#include "admin/coordinated.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"

namespace asiokafka {

namespace {

constexpr std::array<std::string_view, 9> transaction_state_names{
    "", "Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"};

}  // namespace

std::string_view to_string(TransactionState state) noexcept {
  const auto i = static_cast<std::size_t>(state);
  return i < transaction_state_names.size() ? transaction_state_names[i] : std::string_view();
}

namespace detail {

namespace asio = boost::asio;
namespace m = protocol::messages;
using admin::op_context;

namespace {

std::string txn_label(const std::string& id) { return "transactional id '" + id + "'"; }
std::string partition_label(const TopicPartition& tp) {
  return "topic '" + tp.topic + "' partition " + std::to_string(tp.partition);
}

TransactionState parse_state(std::string_view s) {
  for (std::size_t i = 1; i < transaction_state_names.size(); ++i) {
    if (s == transaction_state_names[i]) return static_cast<TransactionState>(i);
  }
  return TransactionState::unknown;
}

// ---- list_transactions ----

asio::awaitable<net::failure> list_transactions(op_context& ctx, std::vector<TransactionListing>& out,
                                                const std::vector<std::int64_t>& producer_ids,
                                                const ListTransactionsOptions& options) {
  m::ListTransactionsRequest req;
  for (std::size_t i = 1; i < transaction_state_names.size(); ++i) {
    if (options.states.contains(static_cast<TransactionState>(i))) {
      req.state_filters.emplace_back(transaction_state_names[i]);
    }
  }
  req.producer_id_filters = producer_ids;
  const bool by_duration = options.running_longer_than >= std::chrono::milliseconds::zero();
  req.duration_filter = by_duration ? options.running_longer_than.count() : -1;
  // The duration filter needs v1 (KIP-994): an older broker refuses the request rather than
  // listing what the caller excluded.
  const std::int16_t min_version = by_duration ? 1 : 0;
  std::set<std::string> seen;
  auto visit = [&](const m::ListTransactionsResponse& answer) {
    for (const auto& t : answer.transaction_states) {
      if (!seen.insert(t.transactional_id).second) continue;
      TransactionListing l;
      l.transactional_id = t.transactional_id;
      l.producer_id = t.producer_id;
      l.state_name = t.transaction_state;
      l.state = parse_state(t.transaction_state);
      out.push_back(std::move(l));
    }
  };
  net::failure f = co_await admin::ask_every_broker(ctx, req, min_version, visit);
  if (f) co_return f;
  std::sort(out.begin(), out.end(), [](const TransactionListing& a, const TransactionListing& b) {
    return a.transactional_id < b.transactional_id;
  });
  co_return net::failure{};
}

// ---- describe_transactions ----

asio::awaitable<net::failure> describe_transactions(op_context& ctx, std::vector<TransactionDescription>& out,
                                                    const std::vector<std::string>& ids) {
  out.resize(ids.size());
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    out[i].transactional_id = ids[i];
    if (ids[i].empty()) {
      admin::set_item_error(out[i], client_errc::invalid_argument, "a transactional id may not be empty",
                            "transactional id ''");
    } else {
      pending.push_back(i);
    }
  }
  auto label = [&](std::size_t i) { return txn_label(ids[i]); };
  auto ask = [&](const admin::coordinator_batch& batch, std::vector<std::size_t>& again) -> asio::awaitable<net::failure> {
    m::DescribeTransactionsRequest req;
    for (const auto i : batch.items) {
      if (std::find(req.transactional_ids.begin(), req.transactional_ids.end(), ids[i]) ==
          req.transactional_ids.end()) {
        req.transactional_ids.push_back(ids[i]);
      }
    }
    typed_request<m::DescribeTransactionsRequest> call(std::move(req));
    const route r = admin::to_coordinator(CoordinatorType::transaction, ids[batch.items.front()]);
    if (net::failure f = co_await admin::call(ctx, r, call, admin::repeat::safe)) {
      if (admin::ends_operation(f)) co_return f;
      for (const auto i : batch.items) admin::set_item_error(out[i], f.code, f.message, txn_label(ids[i]));
      co_return net::failure{};
    }
    const auto& states = call.message().transaction_states;
    for (const auto i : batch.items) {
      TransactionDescription& d = out[i];
      d = TransactionDescription{};
      d.transactional_id = ids[i];
      auto it = std::find_if(states.begin(), states.end(),
                             [&](const auto& s) { return s.transactional_id == ids[i]; });
      if (it == states.end()) {
        admin::set_item_error(d, client_errc::malformed, "the broker's answer does not mention it", txn_label(ids[i]));
        continue;
      }
      admin::set_item_error(d, it->error_code, std::nullopt, txn_label(ids[i]));
      if (admin::coordinator_moved(ctx, CoordinatorType::transaction, ids[i], it->error_code)) {
        again.push_back(i);
        continue;
      }
      if (it->error_code != 0) continue;
      d.coordinator = admin::answered_by(ctx, call.node_id, batch.coordinator);
      d.state_name = it->transaction_state;
      d.state = parse_state(it->transaction_state);
      d.producer_id = it->producer_id;
      d.producer_epoch = it->producer_epoch;
      d.transaction_timeout = std::chrono::milliseconds(it->transaction_timeout_ms);
      if (it->transaction_start_time_ms >= 0) d.transaction_start_time_ms = it->transaction_start_time_ms;
      for (const auto& t : it->topics) {
        for (const std::int32_t p : t.partitions) d.partitions.emplace_back(t.topic, p);
      }
      std::sort(d.partitions.begin(), d.partitions.end());
    }
    co_return net::failure{};
  };
  co_return co_await admin::coordinator_rounds(ctx, CoordinatorType::transaction, ids, std::move(pending), out, label,
                                               ask);
}

// ---- partitions asked of their leaders (describe_producers, abort_transaction) ----

/// Partitions (indexes) asked of one broker together, routed by the first one's leader (or
/// to `node` when set).
struct leader_batch {
  std::optional<std::int32_t> node;
  std::vector<std::size_t> items;
};

/// Groups the partitions at `pending` by the leader the metadata names (refreshed once for
/// topics it does not know). Partitions of unknown topics go to `unknown` with why (the
/// refresh's failure when it failed); those without a known leader each get a batch of their
/// own (routing waits for the leader).
asio::awaitable<net::failure> batch_by_leader(op_context& ctx, const std::vector<TopicPartition>& partitions,
                                              const std::vector<std::size_t>& pending,
                                              std::vector<leader_batch>& batches,
                                              std::vector<std::pair<std::size_t, net::failure>>& unknown) {
  std::vector<std::string> missing;
  for (const auto i : pending) {
    if (ctx.cluster->metadata().cache().leader_for(partitions[i].topic, partitions[i].partition).status !=
            net::leader_status::ok &&
        std::find(missing.begin(), missing.end(), partitions[i].topic) == missing.end()) {
      missing.push_back(partitions[i].topic);
    }
  }
  net::failure refresh;  // why the topics still unknown are (when the refresh failed)
  if (!missing.empty()) {
    refresh = co_await ctx.cluster->metadata().refresh(missing, false, ctx.deadline);
    if (admin::ends_operation(refresh) || ctx.cluster->closed()) co_return refresh.prefix(ctx.name);
  }
  std::map<std::int32_t, std::size_t> by_node;
  for (const auto i : pending) {
    const net::leader_lookup lk = ctx.cluster->metadata().cache().leader_for(partitions[i].topic, partitions[i].partition);
    if (lk.status == net::leader_status::unknown_topic && refresh) {
      unknown.emplace_back(i, refresh);
      continue;
    }
    if (lk.status == net::leader_status::unknown_topic || lk.status == net::leader_status::unknown_partition ||
        lk.status == net::leader_status::topic_error) {
      const std::error_code ec = lk.status == net::leader_status::topic_error
                                     ? lk.ec
                                     : make_error_code(kafka_errc::unknown_topic_or_partition);
      unknown.emplace_back(i, net::failure(ec, admin::describe_kafka_error(ec, std::nullopt)));
      continue;
    }
    if (lk.status != net::leader_status::ok) {
      leader_batch b;
      b.items.push_back(i);
      batches.push_back(std::move(b));
      continue;
    }
    auto it = by_node.find(lk.broker->node_id);
    if (it == by_node.end()) {
      it = by_node.emplace(lk.broker->node_id, batches.size()).first;
      batches.emplace_back();
    }
    batches[it->second].items.push_back(i);
  }
  co_return net::failure{};
}

route leader_route(const TopicPartition& tp) {
  route r;
  r.target = route::kind::leader;
  r.name = tp.topic;
  r.partition = tp.partition;
  return r;
}

/// Whether a partition's error says its leader moved (asked again after a metadata refresh).
bool leader_moved(op_context& ctx, const TopicPartition& tp, std::int16_t code) {
  const std::error_code ec = make_kafka_error(code);
  if (ec != kafka_errc::not_leader_or_follower && ec != kafka_errc::leader_not_available &&
      ec != kafka_errc::unknown_leader_epoch && ec != kafka_errc::fenced_leader_epoch) {
    return false;
  }
  ctx.cluster->metadata().invalidate(tp.topic, tp.partition, ec);
  return true;
}

// ---- describe_producers ----

asio::awaitable<net::failure> describe_producers(op_context& ctx, std::vector<PartitionProducers>& out,
                                                 const std::vector<TopicPartition>& partitions,
                                                 std::int32_t broker_id) {
  out.resize(partitions.size());
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    out[i].partition = partitions[i];
    if (partitions[i].partition < 0) {
      admin::set_item_error(out[i], client_errc::invalid_argument, "a partition index may not be negative",
                            partition_label(partitions[i]));
    } else {
      pending.push_back(i);
    }
  }
  std::vector<std::size_t> again;
  while (!pending.empty()) {
    std::vector<leader_batch> batches;
    std::vector<std::pair<std::size_t, net::failure>> unknown;
    if (broker_id >= 0) {
      leader_batch b;
      b.node = broker_id;
      b.items = pending;
      batches.push_back(std::move(b));
    } else if (net::failure f = co_await batch_by_leader(ctx, partitions, pending, batches, unknown)) {
      co_return f;
    }
    for (const auto& u : unknown) {
      admin::set_item_error(out[u.first], u.second.code, u.second.message, partition_label(partitions[u.first]));
    }
    for (const auto& batch : batches) {
      m::DescribeProducersRequest req;
      std::map<std::string, std::size_t> topic_index;
      for (const auto i : batch.items) {
        auto it = topic_index.find(partitions[i].topic);
        if (it == topic_index.end()) {
          it = topic_index.emplace(partitions[i].topic, req.topics.size()).first;
          req.topics.emplace_back();
          req.topics.back().name = partitions[i].topic;
        }
        auto& idx = req.topics[it->second].partition_indexes;
        if (std::find(idx.begin(), idx.end(), partitions[i].partition) == idx.end()) idx.push_back(partitions[i].partition);
      }
      typed_request<m::DescribeProducersRequest> call(std::move(req));
      route r = leader_route(partitions[batch.items.front()]);
      if (batch.node) {
        r.target = route::kind::node;
        r.node_id = *batch.node;
      }
      if (net::failure f = co_await admin::call(ctx, r, call, admin::repeat::safe)) {
        if (admin::ends_operation(f)) co_return f;
        for (const auto i : batch.items) {
          admin::set_item_error(out[i], f.code, f.message, partition_label(partitions[i]));
        }
        continue;
      }
      const auto& topics = call.message().topics;
      for (const auto i : batch.items) {
        const TopicPartition& tp = partitions[i];
        PartitionProducers& res = out[i];
        res = PartitionProducers{};
        res.partition = tp;
        const m::DescribeProducersResponse::PartitionResponse* found = nullptr;
        for (const auto& t : topics) {
          if (t.name != tp.topic) continue;
          for (const auto& p : t.partitions) {
            if (p.partition_index == tp.partition) found = &p;
          }
        }
        if (found == nullptr) {
          admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", partition_label(tp));
          continue;
        }
        admin::set_item_error(res, found->error_code, found->error_message, partition_label(tp));
        if (!batch.node && leader_moved(ctx, tp, found->error_code)) {
          again.push_back(i);
          continue;
        }
        for (const auto& p : found->active_producers) {
          ProducerState ps;
          ps.producer_id = p.producer_id;
          ps.producer_epoch = p.producer_epoch;
          ps.last_sequence = p.last_sequence;
          ps.last_timestamp_ms = p.last_timestamp;
          if (p.coordinator_epoch >= 0) ps.coordinator_epoch = p.coordinator_epoch;
          if (p.current_txn_start_offset >= 0) ps.current_transaction_start_offset = p.current_txn_start_offset;
          res.producers.push_back(ps);
        }
        std::sort(res.producers.begin(), res.producers.end(),
                  [](const ProducerState& a, const ProducerState& b) { return a.producer_id < b.producer_id; });
      }
    }
    const std::string why = again.empty() ? std::string() : out[again.front()].error_message;
    const bool more = co_await admin::next_round(ctx, pending, again, why);
    if (!more && ctx.cancelled) co_return ctx.stop_failure();
    if (!more) break;
  }
  co_return net::failure{};
}

// ---- abort_transaction ----

asio::awaitable<net::failure> abort_transaction(op_context& ctx, AbortTransactionResult& out,
                                                const AbortTransactionSpec& spec) {
  out.partition = spec.partition;
  const std::string label = partition_label(spec.partition);
  if (spec.partition.partition < 0 || spec.producer_id < 0 || spec.producer_epoch < 0) {
    admin::set_item_error(out, client_errc::invalid_argument,
                          "the producer id, its epoch and the partition index may not be negative", label);
    co_return net::failure{};
  }
  m::WriteTxnMarkersRequest req;
  m::WriteTxnMarkersRequest::WritableTxnMarker marker;
  marker.producer_id = spec.producer_id;
  marker.producer_epoch = spec.producer_epoch;
  marker.transaction_result = false;  // abort
  marker.coordinator_epoch = spec.coordinator_epoch;
  m::WriteTxnMarkersRequest::WritableTxnMarkerTopic topic;
  topic.name = spec.partition.topic;
  topic.partition_indexes.push_back(spec.partition.partition);
  marker.topics.push_back(std::move(topic));
  req.markers.push_back(std::move(marker));
  for (;;) {
    typed_request<m::WriteTxnMarkersRequest> call(req);
    const route r = leader_route(spec.partition);
    if (net::failure f = co_await admin::call(ctx, r, call, admin::repeat::once)) {
      if (admin::ends_operation(f)) co_return f;
      admin::set_item_error(out, f.code, f.message, label);
      co_return net::failure{};
    }
    std::optional<std::int16_t> code;
    for (const auto& mk : call.message().markers) {
      if (mk.producer_id != spec.producer_id) continue;
      for (const auto& t : mk.topics) {
        if (t.name != spec.partition.topic) continue;
        for (const auto& p : t.partitions) {
          if (p.partition_index == spec.partition.partition) code = p.error_code;
        }
      }
    }
    out = AbortTransactionResult{};
    out.partition = spec.partition;
    if (!code) {
      admin::set_item_error(out, client_errc::malformed, "the broker's answer does not mention it", label);
      co_return net::failure{};
    }
    admin::set_item_error(out, *code, std::nullopt, label);
    // The leader moved: the marker was not written, so writing it to the new one is safe.
    if (!leader_moved(ctx, spec.partition, *code)) co_return net::failure{};
    ctx.last_failure = out.error_message;
    const bool waited = co_await admin::backoff(ctx);
    if (!waited) co_return ctx.cancelled ? ctx.stop_failure() : net::failure{};
  }
}

}  // namespace

asio::awaitable<op_error> admin_list_transactions(std::shared_ptr<admin_state> s, std::vector<TransactionListing>& out,
                                                  std::vector<std::int64_t> producer_ids,
                                                  ListTransactionsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "list_transactions");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await list_transactions(ctx.value(), out, producer_ids, options));
}

asio::awaitable<op_error> admin_describe_transactions(std::shared_ptr<admin_state> s,
                                                      std::vector<TransactionDescription>& out,
                                                      std::vector<std::string> transactional_ids,
                                                      DescribeTransactionsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_transactions");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await describe_transactions(ctx.value(), out, transactional_ids));
}

asio::awaitable<op_error> admin_describe_producers(std::shared_ptr<admin_state> s,
                                                   std::vector<PartitionProducers>& out,
                                                   std::vector<TopicPartition> partitions,
                                                   DescribeProducersOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_producers");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await describe_producers(ctx.value(), out, partitions, options.broker_id));
}

asio::awaitable<op_error> admin_abort_transaction(std::shared_ptr<admin_state> s, AbortTransactionResult& out,
                                                  AbortTransactionSpec spec, AbortTransactionOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "abort_transaction");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await abort_transaction(ctx.value(), out, spec));
}

namespace {

// ---- fence_producers ----

asio::awaitable<net::failure> fence_producers(op_context& ctx, std::vector<FenceProducerResult>& out,
                                              const std::vector<std::string>& ids,
                                              std::chrono::milliseconds transaction_timeout) {
  for (const std::string& id : ids) {
    FenceProducerResult r;
    r.transactional_id = id;
    const std::string label = "transactional id '" + id + "'";
    if (id.empty()) {
      admin::set_item_error(r, client_errc::invalid_argument, "an empty transactional id", label);
      out.push_back(std::move(r));
      continue;
    }
    m::InitProducerIdRequest req;
    req.transactional_id = id;
    req.transaction_timeout_ms = static_cast<std::int32_t>(transaction_timeout.count());
    typed_request<m::InitProducerIdRequest> call(std::move(req));
    const route where = admin::to_coordinator(CoordinatorType::transaction, id);
    // Fencing twice only bumps the epoch twice: safe to resend (CONCURRENT_TRANSACTIONS while
    // the coordinator aborts the fenced transaction is retriable and asked again).
    net::failure f = co_await admin::call(ctx, where, call, admin::repeat::safe);
    if (admin::ends_operation(f)) co_return f;
    if (f) {
      admin::set_item_error(r, f.code, f.message, label);
    } else {
      r.producer_id = call.message().producer_id;
      r.producer_epoch = call.message().producer_epoch;
    }
    out.push_back(std::move(r));
  }
  co_return net::failure{};
}

}  // namespace

asio::awaitable<op_error> admin_fence_producers(std::shared_ptr<admin_state> s, std::vector<FenceProducerResult>& out,
                                                std::vector<std::string> transactional_ids,
                                                FenceProducersOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "fence_producers");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(
      co_await fence_producers(ctx.value(), out, transactional_ids, options.transaction_timeout));
}

}  // namespace detail
}  // namespace asiokafka
