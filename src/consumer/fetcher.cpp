// The consumer's fetching: the loop that plans fetches per broker and the task that sends one
// broker's Fetch request and files its answer into the subscription.
#include <algorithm>
#include <chrono>
#include <utility>

#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "consumer/consumer_impl.hpp"
#include "consumer/sansio/partition_records.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::detail {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using net::clock;
using net::time_point;

asio::awaitable<void> consumer_impl::fetch_loop() {
  while (state_ == state::running) {
    fetch_dirty_ = false;
    const time_point now = clock::now();
    // Partitions without a position (new, or whose reset is pending) get one in the background.
    if (!positions_running_) {
      bool needs = false;
      for (const auto& entry : sub_.partitions()) {
        const consumer::partition_state& s = entry.second;
        if (!s.position && !s.error) needs = true;
      }
      if (needs) {
        positions_running_ = true;
        spawn(positions_task(), "positions");
      }
    }
    const auto& cache = cluster_->metadata().cache();
    time_point wake = now + config_.consumer_timeout;
    const auto leaders = [&](const TopicPartition& tp) -> consumer::partition_leader {
      consumer::partition_leader out;
      const net::leader_lookup lk = cache.leader_for(tp.topic, tp.partition);
      if (lk.status != net::leader_status::ok) return out;
      // A broker whose last fetch failed is left alone until its backoff ends.
      if (const auto b = node_backoff_.find(lk.broker->node_id); b != node_backoff_.end()) {
        if (b->second > now) {
          wake = std::min(wake, b->second);
          return out;
        }
      }
      out.node_id = lk.broker->node_id;
      out.leader_epoch = lk.leader_epoch;
      if (const TopicMetadata* t = cache.topic(tp.topic)) out.topic_id = t->topic_id;
      return out;
    };
    consumer::fetch_round round = planner_.plan(sub_, leaders, now);
    for (auto& r : round.requests) spawn(fetch_request(std::move(r)), "fetch");
    bool urgent = false;
    for (const auto& tp : round.leaderless) {
      const net::leader_lookup lk = cache.leader_for(tp.topic, tp.partition);
      if (lk.status == net::leader_status::ok) continue;  // a leader in backoff: wait for it
      cluster_->metadata().track(tp.topic);
      urgent = true;
    }
    if (urgent) {
      cluster_->metadata().mark_urgent();
      wake = std::min(wake, now + config_.retry_backoff);
    }
    if (fetch_dirty_) continue;
    if (co_await fetch_wake_.wait_until(wake) == net::wait_status::cancelled) break;
  }
}

asio::awaitable<void> consumer_impl::fetch_request(consumer::node_fetch nf) {
  const std::int32_t node = nf.node_id;
  consumer::fetch_session& session = sessions_[node];  // map nodes stay in place
  auto& pool = cluster_->pool();
  // However this ends (an answer, a failure, the consumer stopping, an exception), the planner
  // hears of it: a flight left open would keep the broker from being fetched ever again.
  struct flight_guard {
    consumer_impl& self;
    std::int32_t node;
    bool open = true;
    void end() {
      if (std::exchange(open, false)) self.planner_.end_fetch(self.sub_, node);
    }
    ~flight_guard() { end(); }
  } flight{*this, node};
  auto give_up = [&](std::chrono::milliseconds backoff) {
    node_backoff_[node] = clock::now() + backoff;
    flight.end();
    wake_fetcher();
  };
  // The session must know the version before it builds the request: a connection first.
  std::int16_t version = pool.version_for(node, ConnectionPurpose::fetch, msg::FetchRequest::api_key, 4,
                                          msg::FetchRequest::max_version);
  if (version < 0) {
    net::metadata_scope scope;  // no topics: the cheapest request that opens the connection
    auto probe = net::metadata_service::make_request(scope, false);
    const net::failure f = co_await cluster_->send_to_node(node, ConnectionPurpose::fetch, probe);
    if (state_ != state::running) co_return;
    version = pool.version_for(node, ConnectionPurpose::fetch, msg::FetchRequest::api_key, 4,
                               msg::FetchRequest::max_version);
    if (f.code || version < 0) {
      if (f.code && protocol::classify(f.code).transport) cluster_->metadata().mark_urgent();
      give_up(config_.retry_backoff);
      co_return;
    }
  }
  msg::FetchRequest req;
  req.max_wait_ms = static_cast<std::int32_t>(config_.fetch_max_wait.count());
  req.min_bytes = static_cast<std::int32_t>(std::min<std::size_t>(config_.fetch_min_bytes, INT32_MAX));
  req.max_bytes = nf.max_bytes;
  req.isolation_level = static_cast<std::int8_t>(config_.isolation_level);
  req.rack_id = config_.client_rack;
  const consumer::fetch_plan plan = session.build(nf.wants, version, req);
  if (plan.version < 11) req.rack_id.clear();  // KIP-392's field
  typed_request<msg::FetchRequest> request(std::move(req), plan.version, plan.version);
  net::request_options options;
  options.timeout = config_.request_timeout + config_.fetch_max_wait;
  const net::failure sent = co_await cluster_->send_to_node(node, ConnectionPurpose::fetch, request, options);
  const time_point now = clock::now();
  if (sent.code) {
    session.on_failure();
    if (state_ != state::running || sent.code == std::errc::operation_canceled) {
      flight.end();
      co_return;
    }
    // The broker may be gone: metadata will say where the partitions went.
    const auto cls = protocol::classify(sent.code);
    if (cls.transport || sent.code == client_errc::timeout) cluster_->metadata().mark_urgent();
    give_up(config_.retry_backoff);
    co_return;
  }
  const auto taken = request.take();
  const msg::FetchResponse& response = taken.message;
  const consumer::fetch_response_result result = session.on_response(response);
  bool kept = false;
  std::chrono::milliseconds backoff{0};
  switch (result.status) {
    case consumer::fetch_response_status::ok:
      for (const auto& p : result.partitions) {
        if (p.want < nf.wants.size() && p.data != nullptr) {
          kept |= on_partition(nf.wants[p.want], *p.data, taken.storage, node, now);
        }
      }
      break;
    case consumer::fetch_response_status::error: {
      const auto cls = protocol::classify(result.error);
      if (cls.stale_leader || cls.refresh_metadata) {
        for (const auto& w : nf.wants) cluster_->metadata().invalidate(w.topic, w.partition, result.error);
      }
      backoff = config_.retry_backoff;
      break;
    }
    case consumer::fetch_response_status::invalid:
      backoff = config_.retry_backoff;
      break;
    case consumer::fetch_response_status::throttled:
    case consumer::fetch_response_status::unexpected:
      break;
  }
  // KIP-219: a throttled client waits before its next request to that broker.
  backoff = std::max(backoff, std::chrono::milliseconds(std::max(response.throttle_time_ms, 0)));
  if (backoff.count() > 0) node_backoff_[node] = now + backoff;
  flight.end();
  if (kept) records_ready_.notify_all();
  wake_fetcher();
}

bool consumer_impl::on_partition(const consumer::fetch_want& want,
                                 const msg::FetchResponse::PartitionData& data, const frame& storage,
                                 std::int32_t node, time_point now) {
  TopicPartition tp(want.topic, want.partition);
  const consumer::fetch_position asked = consumer::position_of(want);
  const consumer::partition_state* s = sub_.find(tp);
  // Revoked or sought while the fetch was out: the answer is stale.
  if (!s || !s->position || *s->position != asked || s->error) return false;

  consumer::partition_fetch_params params;
  params.topic = topic_name(want.topic);
  params.partition = want.partition;
  params.fetch_offset = want.fetch_offset;
  params.read_committed = config_.isolation_level == IsolationLevel::read_committed;
  params.check_crcs = config_.check_crcs;
  params.partition_max_bytes = want.partition_max_bytes;
  consumer::partition_fetch_result result = consumer::decode_partition(params, data, storage);
  const std::error_code ec = result.partition_error;
  if (!ec) {
    if (result.diverging) {
      const consumer::diverging_epoch d = *result.diverging;
      if (d.end_offset >= 0 && d.end_offset < asked.offset) {
        // KIP-320: the log was truncated below our position (an unclean leader election): go
        // back to where the logs agree, so nothing written there since is skipped.
        sub_.seek(tp, d.end_offset, d.epoch);
      } else {
        // The leader has no epoch as new as the one we sent, yet its log reaches our position:
        // that epoch did not come from a fetched record (a committed or sought offset carried
        // it). Asking again with it would get the same answer forever: go on with the leader's.
        sub_.seek(tp, asked.offset, d.epoch);
      }
      return false;
    }
    const bool had_error = static_cast<bool>(result.error);
    const auto status = sub_.on_fetched(tp, asked, std::move(result), now, config_.metadata_max_age);
    if (status != consumer::fetched_status::kept) return false;
    const consumer::partition_state* after = sub_.find(tp);
    return had_error || (after && after->has_buffered());
  }
  const std::string where = tp.topic + "-" + std::to_string(tp.partition);
  if (ec == kafka_errc::offset_out_of_range) {
    if (s->preferred_replica >= 0 && s->preferred_replica == node) {
      // A follower may lag the leader (KIP-392): ask the leader instead.
      sub_.clear_preferred_replica(tp);
      return false;
    }
    const auto policy = default_policy();
    if (policy == consumer::reset_policy::none) {
      sub_.set_error(tp, ec,
                     "fetch position " + std::to_string(asked.offset) + " is out of range for partition " + where +
                         " and auto_offset_reset is none");
      return true;
    }
    sub_.request_reset(tp, policy);
    return false;
  }
  const auto cls = protocol::classify(ec);
  if (cls.stale_leader || cls.refresh_metadata || cls.retriable) {
    // The leader moved, or the broker cannot serve the partition now: find it again.
    cluster_->metadata().invalidate(tp.topic, tp.partition, ec);
    sub_.clear_preferred_replica(tp);
    return false;
  }
  // Not retriable (authorization, a record too large for an old broker, ...): raised to the
  // application at this partition until it seeks.
  sub_.set_error(tp, ec, "fetch of partition " + where + " at offset " + std::to_string(asked.offset) + ": " +
                             ec.message());
  return true;
}

}  // namespace asiokafka::detail
