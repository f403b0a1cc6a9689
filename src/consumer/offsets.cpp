// The consumer's offsets: positions for partitions without one (committed offset, else
// auto_offset_reset through ListOffsets), ListOffsets for the offset queries, OffsetFetch and
// OffsetCommit with the group's coordinator, and the auto-commit loop.
//
// A subscribed member commits with its generation and member id (and instance id); without
// membership (assign()) commits go with generation -1 and no member id, which brokers accept
// for a group with no members (aiokafka's and Java's "simple" consumer).
#include <algorithm>
#include <utility>

#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "consumer/consumer_impl.hpp"
#include "net/sansio/coordinator_cache.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::detail {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using net::clock;
using net::time_point;

namespace {

std::string name_of(const TopicPartition& tp) { return tp.topic + "-" + std::to_string(tp.partition); }

op_error failed(const net::failure& f, const std::string& context) {
  return {f.code, f.message.empty() ? context : context + ": " + f.message};
}

bool stopped_or_cancelled(const std::error_code& ec) {
  return ec == std::errc::operation_canceled || ec == client_errc::client_closed;
}

// Whether a failed lookup is worth repeating in the background (else it is raised to the
// application at the partitions concerned, as the Java client's poll raises it).
bool worth_retrying(const std::error_code& ec) {
  const auto cls = protocol::classify(ec);
  return cls.retriable || cls.transport || cls.stale_leader || cls.refresh_metadata || cls.coordinator_moved ||
         cls.coordinator_loading || ec == client_errc::timeout || ec == client_errc::connection_failed ||
         ec == client_errc::connection_lost || ec == client_errc::no_broker_available;
}

// The topics of an OffsetFetch request, in either form (v8+ groups, or v1-7's single group:
// the element types differ by name only).
template <class Topic>
std::vector<Topic> offset_fetch_topics(const std::vector<TopicPartition>& tps) {
  std::map<std::string, std::vector<std::int32_t>> by_topic;
  for (const auto& tp : tps) by_topic[tp.topic].push_back(tp.partition);
  std::vector<Topic> topics;
  for (auto& entry : by_topic) {
    Topic t;
    t.name = entry.first;
    t.partition_indexes = std::move(entry.second);
    topics.push_back(std::move(t));
  }
  return topics;
}

// Files the committed offsets of an OffsetFetch answer's topics (either form) into `out`;
// returns the last partition error.
template <class Topics>
std::error_code take_committed(const Topics& topics, std::map<TopicPartition, OffsetAndMetadata>& out) {
  std::error_code last;
  for (const auto& t : topics) {
    for (const auto& p : t.partitions) {
      if (p.error_code != 0) {
        last = make_kafka_error(p.error_code);
      } else if (p.committed_offset >= 0) {
        out[TopicPartition(t.name, p.partition_index)] =
            OffsetAndMetadata(p.committed_offset, p.metadata.value_or(""), p.committed_leader_epoch);
      }
    }
  }
  return last;
}

}  // namespace

// ---- positions ----

asio::awaitable<void> consumer_impl::positions_task() {
  // However the task ends, the fetch loop may start another one and is told to look again.
  struct running_guard {
    consumer_impl& self;
    ~running_guard() {
      self.positions_running_ = false;
      self.positions_done_.notify_all();
      self.wake_fetcher();
    }
  } running{*this};
  // Rounds until every assigned partition has a position or an error (or the consumer stops).
  while (state_ == state::running) {
    std::vector<TopicPartition> unknown;
    for (const auto& entry : sub_.partitions()) {
      const consumer::partition_state& s = entry.second;
      if (!s.position && !s.pending_reset && !s.error) unknown.push_back(entry.first);
    }
    bool ok = true;
    if (!unknown.empty()) {
      std::map<TopicPartition, OffsetAndMetadata> committed;
      if (config_.group_id) {
        const op_error e = co_await fetch_committed(unknown, clock::now() + config_.request_timeout, committed);
        if (state_ != state::running) break;
        ok = !e.code;
        if (e.code && !worth_retrying(e.code)) {
          for (const auto& tp : unknown) sub_.set_error(tp, e.code, "no position for " + name_of(tp) + ": " + e.message);
          records_ready_.notify_all();
        }
      }
      if (ok) {
        for (const auto& tp : unknown) {
          const consumer::partition_state* s = sub_.find(tp);
          if (!s || s->position || s->pending_reset || s->error) continue;  // changed meanwhile
          if (const auto it = committed.find(tp); it != committed.end()) {
            sub_.seek(tp, it->second.offset, it->second.leader_epoch);
          } else if (default_policy() == consumer::reset_policy::none) {
            sub_.set_error(tp, make_error_code(kafka_errc::offset_out_of_range),
                           "no committed offset for partition " + name_of(tp) + " and auto_offset_reset is none");
            records_ready_.notify_all();
          } else {
            sub_.request_reset(tp, default_policy());
          }
        }
      }
    }
    const auto resets = sub_.awaiting_reset();
    if (ok && !resets.empty()) {
      std::map<TopicPartition, std::int64_t> times;
      for (const auto& r : resets) {
        times.emplace(r.first, r.second == consumer::reset_policy::earliest ? -2 : -1);
      }
      std::map<TopicPartition, std::optional<OffsetAndTimestamp>> found;
      const op_error e = co_await list_offsets_until(times, clock::now() + config_.request_timeout, found);
      if (state_ != state::running) break;
      ok = !e.code;
      if (e.code && !worth_retrying(e.code)) {
        for (const auto& r : resets) {
          const consumer::partition_state* s = sub_.find(r.first);
          if (s && !s->position && !found.contains(r.first)) {
            sub_.set_error(r.first, e.code, "offset reset of " + name_of(r.first) + ": " + e.message);
          }
        }
        records_ready_.notify_all();
      }
      for (const auto& r : resets) {
        const auto it = found.find(r.first);
        if (it == found.end() || !it->second) continue;
        const consumer::partition_state* s = sub_.find(r.first);
        // Only if the same reset is still asked for (no seek or new assignment meanwhile).
        if (s && s->pending_reset == r.second) sub_.seek(r.first, it->second->offset, it->second->leader_epoch);
      }
    }
    wake_fetcher();
    positions_done_.notify_all();
    bool more = false;
    for (const auto& entry : sub_.partitions()) {
      if (!entry.second.position && !entry.second.error) more = true;
    }
    if (!more) break;
    // Something failed (or changed meanwhile): try again after the backoff.
    if (!co_await net::sleep_until(clock::now() + config_.retry_backoff)) break;
  }
}

asio::awaitable<op_error> consumer_impl::list_offsets(std::map<TopicPartition, std::int64_t> times,
                                                      std::map<TopicPartition, std::optional<OffsetAndTimestamp>>& out) {
  if (!usable()) {
    co_return op_error{make_error_code(state_ == state::created ? client_errc::illegal_state : client_errc::consumer_stopped),
                       "offset lookups need a started consumer"};
  }
  for (const auto& entry : times) {
    if (entry.second < -2) {
      co_return op_error{make_error_code(client_errc::invalid_argument),
                         "offsets_for_times(): negative time stamp for " + name_of(entry.first)};
    }
  }
  co_return co_await list_offsets_until(std::move(times), clock::now() + config_.request_timeout, out);
}

asio::awaitable<op_error> consumer_impl::list_offsets_until(
    std::map<TopicPartition, std::int64_t> times, time_point deadline,
    std::map<TopicPartition, std::optional<OffsetAndTimestamp>>& out) {
  std::map<TopicPartition, std::int64_t> left = std::move(times);
  op_error last;
  while (!left.empty()) {
    // Group by leader; topics without one are looked up first.
    std::map<std::int32_t, std::vector<TopicPartition>> by_leader;
    std::vector<std::string> unknown_topics;
    for (const auto& entry : left) {
      const net::leader_lookup lk = cluster_->metadata().cache().leader_for(entry.first.topic, entry.first.partition);
      if (lk.status == net::leader_status::ok) {
        by_leader[lk.broker->node_id].push_back(entry.first);
      } else if (lk.status == net::leader_status::topic_error) {
        co_return op_error{lk.ec, "offset lookup of " + name_of(entry.first) + ": " + lk.ec.message()};
      } else {
        unknown_topics.push_back(entry.first.topic);
      }
    }
    if (!unknown_topics.empty()) {
      std::sort(unknown_topics.begin(), unknown_topics.end());
      unknown_topics.erase(std::unique(unknown_topics.begin(), unknown_topics.end()), unknown_topics.end());
      const net::failure f = co_await cluster_->metadata().refresh(unknown_topics, true, deadline);
      if (f.code) {
        // A partition the topic does not have, or a topic that does not exist, is final.
        co_return failed(f, "offset lookup");
      }
      bool missing = false;
      for (const auto& entry : left) {
        const auto lk = cluster_->metadata().cache().leader_for(entry.first.topic, entry.first.partition);
        if (lk.status == net::leader_status::unknown_partition || lk.status == net::leader_status::unknown_topic) {
          missing = true;
          last = {make_error_code(kafka_errc::unknown_topic_or_partition),
                  "offset lookup: partition " + name_of(entry.first) + " does not exist"};
        }
      }
      if (missing) co_return last;
      continue;
    }
    bool retry = false;
    for (const auto& group : by_leader) {
      const std::int32_t node = group.first;
      msg::ListOffsetsRequest req;
      req.replica_id = -1;
      req.isolation_level = static_cast<std::int8_t>(config_.isolation_level);
      for (const auto& tp : group.second) {
        auto t = std::find_if(req.topics.begin(), req.topics.end(),
                              [&](const msg::ListOffsetsRequest::ListOffsetsTopic& x) { return x.name == tp.topic; });
        if (t == req.topics.end()) {
          req.topics.emplace_back();
          t = std::prev(req.topics.end());
          t->name = tp.topic;
        }
        msg::ListOffsetsRequest::ListOffsetsPartition p;
        p.partition_index = tp.partition;
        p.timestamp = left.at(tp);
        p.current_leader_epoch = cluster_->metadata().cache().leader_for(tp.topic, tp.partition).leader_epoch;
        t->partitions.push_back(std::move(p));
      }
      typed_request<msg::ListOffsetsRequest> request(std::move(req), 2, msg::ListOffsetsRequest::max_version);
      const net::failure f = co_await cluster_->send_to_node(node, ConnectionPurpose::other, request);
      if (f.code) {
        if (stopped_or_cancelled(f.code)) co_return failed(f, "offset lookup");
        last = failed(f, "offset lookup at broker " + std::to_string(node));
        cluster_->metadata().mark_urgent();
        retry = true;
        continue;
      }
      const auto taken = request.take();
      for (const auto& t : taken.message.topics) {
        for (const auto& p : t.partitions) {
          const TopicPartition tp(t.name, p.partition_index);
          if (!left.contains(tp)) continue;
          const std::error_code ec = make_kafka_error(p.error_code);
          if (!ec) {
            if (p.offset >= 0) {
              out[tp] = OffsetAndTimestamp{p.offset, p.timestamp, p.leader_epoch};
            } else {
              out[tp] = std::nullopt;  // no record at or after the time
            }
            left.erase(tp);
            continue;
          }
          const auto cls = protocol::classify(ec);
          if (cls.retriable || cls.stale_leader || cls.refresh_metadata) {
            cluster_->metadata().invalidate(tp.topic, tp.partition, ec);
            last = {ec, "offset lookup of " + name_of(tp) + ": " + ec.message()};
            retry = true;
            continue;
          }
          co_return op_error{ec, "offset lookup of " + name_of(tp) + ": " + ec.message()};
        }
      }
    }
    if (left.empty()) break;
    if (!retry) {
      // The broker answered without the partitions asked for.
      co_return op_error{make_error_code(client_errc::malformed), "offset lookup: the broker left out partitions"};
    }
    const time_point next = clock::now() + config_.retry_backoff;
    if (next >= deadline) {
      last.message = "offset lookup did not complete within request_timeout; last: " + last.message;
      if (!protocol::classify(last.code).retriable) last.code = make_error_code(client_errc::timeout);
      co_return last;
    }
    if (!co_await net::sleep_until(next)) {
      co_return op_error{std::make_error_code(std::errc::operation_canceled), "offset lookup cancelled"};
    }
  }
  co_return op_error{};
}

// ---- committed offsets ----

asio::awaitable<op_error> consumer_impl::committed(std::vector<TopicPartition> tps,
                                                   std::map<TopicPartition, OffsetAndMetadata>& out) {
  if (!config_.group_id) co_return op_error{make_error_code(client_errc::illegal_state), "committed() needs a group_id"};
  if (!usable()) {
    co_return op_error{make_error_code(state_ == state::created ? client_errc::illegal_state : client_errc::consumer_stopped),
                       "committed() needs a started consumer"};
  }
  co_return co_await fetch_committed(std::move(tps), clock::now() + config_.request_timeout, out);
}

asio::awaitable<op_error> consumer_impl::fetch_committed(std::vector<TopicPartition> tps, time_point deadline,
                                                         std::map<TopicPartition, OffsetAndMetadata>& out) {
  const std::string& group = *config_.group_id;
  // v8+ (Kafka 3.0) carries groups; older brokers get the single-group form.
  bool grouped = true;
  for (;;) {
    msg::OffsetFetchRequest req;
    req.require_stable = config_.isolation_level == IsolationLevel::read_committed;
    if (grouped) {
      msg::OffsetFetchRequest::OffsetFetchRequestGroup g;
      g.group_id = group;
      g.member_id = std::nullopt;
      g.member_epoch = -1;
      g.topics = offset_fetch_topics<msg::OffsetFetchRequest::OffsetFetchRequestTopics>(tps);
      req.groups.push_back(std::move(g));
    } else {
      req.group_id = group;
      req.topics = offset_fetch_topics<msg::OffsetFetchRequest::OffsetFetchRequestTopic>(tps);
      req.require_stable = false;  // not before v7; brokers this old predate KIP-447 anyway
    }
    const std::int16_t min = grouped ? 8 : 1;
    const std::int16_t max = grouped ? msg::OffsetFetchRequest::max_version : 7;
    typed_request<msg::OffsetFetchRequest> request(std::move(req), min, max);
    route where;
    where.target = route::kind::coordinator;
    where.coordinator = CoordinatorType::group;
    where.name = group;
    where.purpose = ConnectionPurpose::other;
    net::request_options options;
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (options.timeout->count() <= 0) co_return op_error{make_error_code(client_errc::timeout), "committed offsets: timed out"};
    const net::failure f = co_await cluster_->call(std::move(where), request, options);
    if (f.code == client_errc::unsupported_version && grouped) {
      grouped = false;
      continue;
    }
    if (f.code) co_return failed(f, "committed offsets of group '" + group + "'");
    const auto taken = request.take();
    const auto& r = taken.message;
    std::error_code top = make_kafka_error(r.error_code);
    std::error_code part;
    if (grouped) {
      for (const auto& g : r.groups) {
        if (g.error_code != 0) top = make_kafka_error(g.error_code);
        if (auto ec = take_committed(g.topics, out)) part = ec;
      }
    } else {
      part = take_committed(r.topics, out);
    }
    const std::error_code ec = top ? top : part;
    if (!ec) co_return op_error{};
    const auto action = cluster_->coordinators().on_error(CoordinatorType::group, group, ec);
    // Loading, moved, or unstable offsets (a transaction commits them): ask again.
    const bool again = action == net::coordinator_action::retry || action == net::coordinator_action::rediscover ||
                       ec == kafka_errc::unstable_offset_commit;
    const time_point next = clock::now() + config_.retry_backoff;
    if (!again || next >= deadline) {
      co_return op_error{ec, "committed offsets of group '" + group + "': " + ec.message()};
    }
    out.clear();
    if (!co_await net::sleep_until(next)) {
      co_return op_error{std::make_error_code(std::errc::operation_canceled), "committed offsets: cancelled"};
    }
  }
}

// ---- commits ----

std::map<TopicPartition, OffsetAndMetadata> consumer_impl::consumed_offsets(bool only_changed) const {
  std::map<TopicPartition, OffsetAndMetadata> out;
  for (const auto& entry : sub_.partitions()) {
    const auto& pos = entry.second.position;
    if (!pos) continue;
    if (only_changed) {
      const auto it = last_committed_.find(entry.first);
      if (it != last_committed_.end() && it->second == pos->offset) continue;
    }
    out.emplace(entry.first, OffsetAndMetadata(pos->offset, "", pos->leader_epoch));
  }
  return out;
}

asio::awaitable<op_error> consumer_impl::commit(std::optional<std::map<TopicPartition, OffsetAndMetadata>> offsets) {
  if (!config_.group_id) co_return op_error{make_error_code(client_errc::illegal_state), "commit() needs a group_id"};
  if (!usable()) {
    co_return op_error{make_error_code(state_ == state::created ? client_errc::illegal_state : client_errc::consumer_stopped),
                       "commit() needs a started consumer"};
  }
  if (offsets) {
    for (const auto& entry : *offsets) {
      if (entry.second.offset < 0) {
        co_return op_error{make_error_code(client_errc::invalid_argument),
                           "commit(): negative offset for " + name_of(entry.first)};
      }
    }
  }
  std::function<std::map<TopicPartition, OffsetAndMetadata>()> make;
  if (offsets) {
    make = [o = std::move(*offsets)]() mutable { return std::move(o); };
  } else {
    make = [this] { return consumed_offsets(false); };
  }
  co_return co_await commit_in_turn(std::move(make), clock::now() + config_.request_timeout);
}

asio::awaitable<op_error> consumer_impl::commit_in_turn(std::function<std::map<TopicPartition, OffsetAndMetadata>()> make,
                                                        time_point deadline) {
  while (committing_) {
    const net::wait_status w = co_await commit_turn_.wait_until(deadline);
    if (w == net::wait_status::cancelled) {
      co_return op_error{std::make_error_code(std::errc::operation_canceled), "commit cancelled"};
    }
    if (w == net::wait_status::timed_out && committing_) {
      co_return op_error{make_error_code(client_errc::timeout), "commit: an earlier commit still runs"};
    }
  }
  committing_ = true;
  struct turn_guard {
    consumer_impl& self;
    ~turn_guard() {
      self.committing_ = false;
      self.commit_turn_.notify_all();
    }
  } turn{*this};
  std::map<TopicPartition, OffsetAndMetadata> offsets = make();
  if (offsets.empty()) co_return op_error{};
  co_return co_await commit_offsets(std::move(offsets), deadline);
}

asio::awaitable<op_error> consumer_impl::commit_offsets(std::map<TopicPartition, OffsetAndMetadata> offsets,
                                                        time_point deadline) {
  const std::string& group = *config_.group_id;
  for (;;) {
    msg::OffsetCommitRequest req;
    req.group_id = group;
    const auto identity = commit_identity();
    req.generation_id_or_member_epoch = identity.first;
    req.member_id = identity.second;
    const bool member = in_group();
    // A classic member is in a generation from 0 on; a KIP-848 member from epoch 1 (0 joins).
    const bool modern = config_.group_protocol == GroupProtocol::consumer;
    if (member && identity.first < (modern ? 1 : 0)) {
      co_return op_error{make_error_code(kafka_errc::rebalance_in_progress),
                         "commit to group '" + group +
                             "': this consumer is not a member of a group generation now (joining or rebalancing); "
                             "the offsets were not committed"};
    }
    if (member) req.group_instance_id = config_.group_instance_id;
    for (const auto& entry : offsets) {
      auto t = std::find_if(req.topics.begin(), req.topics.end(),
                            [&](const msg::OffsetCommitRequest::OffsetCommitRequestTopic& x) {
                              return x.name == entry.first.topic;
                            });
      if (t == req.topics.end()) {
        req.topics.emplace_back();
        t = std::prev(req.topics.end());
        t->name = entry.first.topic;
      }
      msg::OffsetCommitRequest::OffsetCommitRequestPartition p;
      p.partition_index = entry.first.partition;
      p.committed_offset = entry.second.offset;
      p.committed_leader_epoch = entry.second.leader_epoch;
      p.committed_metadata = entry.second.metadata;
      t->partitions.push_back(std::move(p));
    }
    // A static member's instance id needs v7 (Kafka 2.3, as static membership itself).
    // KIP-848 members commit with their epoch from v9 on.
    const std::int16_t min_version = member && modern ? 9 : req.group_instance_id ? 7 : 2;
    typed_request<msg::OffsetCommitRequest> request(std::move(req), min_version, msg::OffsetCommitRequest::max_version);
    route where;
    where.target = route::kind::coordinator;
    where.coordinator = CoordinatorType::group;
    where.name = group;
    where.purpose = ConnectionPurpose::other;  // never behind a JoinGroup (group.cpp)
    net::request_options options;
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (options.timeout->count() <= 0) co_return op_error{make_error_code(client_errc::timeout), "commit: timed out"};
    const net::failure f = co_await cluster_->call(std::move(where), request, options);
    if (f.code) co_return failed(f, "commit to group '" + group + "'");
    const auto taken = request.take();
    std::error_code ec;
    std::string which;
    for (const auto& t : taken.message.topics) {
      for (const auto& p : t.partitions) {
        if (p.error_code != 0 && !ec) {
          ec = make_kafka_error(p.error_code);
          which = t.name + "-" + std::to_string(p.partition_index);
        }
      }
    }
    if (!ec) {
      for (const auto& entry : offsets) last_committed_[entry.first] = entry.second.offset;
      co_return op_error{};
    }
    if (member && (ec == kafka_errc::illegal_generation || ec == kafka_errc::unknown_member_id ||
                   ec == kafka_errc::fenced_instance_id || ec == kafka_errc::stale_member_epoch)) {
      co_return op_error{make_error_code(client_errc::commit_failed),
                         "commit to group '" + group + "' failed: the group has moved on (" + ec.message() +
                             "); the partitions may belong to another member now; the offsets were not committed"};
    }
    const auto action = cluster_->coordinators().on_error(CoordinatorType::group, group, ec);
    const bool again = action == net::coordinator_action::retry || action == net::coordinator_action::rediscover;
    const time_point next = clock::now() + config_.retry_backoff;
    if (!again || next >= deadline) {
      co_return op_error{ec, "commit to group '" + group + "' refused for " + which + ": " + ec.message()};
    }
    if (!co_await net::sleep_until(next)) co_return op_error{std::make_error_code(std::errc::operation_canceled), "commit cancelled"};
  }
}

asio::awaitable<void> consumer_impl::auto_commit_loop() {
  while (state_ == state::running) {
    if (!co_await net::sleep_until(clock::now() + config_.auto_commit_interval)) break;
    if (state_ != state::running) break;
    // A failed auto-commit is retried at the next interval (as aiokafka, which logs it).
    std::function<std::map<TopicPartition, OffsetAndMetadata>()> make = [this] { return consumed_offsets(true); };
    (void)co_await commit_in_turn(std::move(make), clock::now() + config_.request_timeout);
  }
}

}  // namespace asiokafka::detail
