// The Consumer's state and its application-facing operations: start/stop, assignment,
// get*(), positions, pause. Fetching is in fetcher.cpp, offsets and commits in offsets.cpp.
#include "consumer/consumer_impl.hpp"

#include <algorithm>
#include <exception>
#include <limits>
#include <string>
#include <utility>

#include <boost/asio/post.hpp>

#include "asiokafka/kafka_error.hpp"

namespace asiokafka::detail {

namespace asio = boost::asio;
using net::clock;
using net::time_point;

namespace {

consumer::fetch_limits limits_of(const ConsumerConfig& c) {
  consumer::fetch_limits l;
  l.fetch_max_bytes = c.fetch_max_bytes;
  l.max_partition_fetch_bytes = c.max_partition_fetch_bytes;
  l.fetch_buffer_memory = c.fetch_buffer_memory;
  return l;
}

std::string name_of(const TopicPartition& tp) { return tp.topic + "-" + std::to_string(tp.partition); }

op_error illegal(std::string message) { return {make_error_code(client_errc::illegal_state), std::move(message)}; }

}  // namespace

consumer_impl::consumer_impl(asio::any_io_executor ex, ConsumerConfig config)
    : executor_(std::move(ex)),
      config_(std::move(config)),
      cluster_(net::cluster::create(executor_, client_config_of(config_))),
      planner_(limits_of(config_)),
      tasks_(executor_) {
  on_metadata_ = cluster_->metadata().changes().subscribe([this](const net::metadata_change& c) { on_metadata_change(c); });
}

consumer_impl::~consumer_impl() = default;

consumer::reset_policy consumer_impl::default_policy() const noexcept {
  switch (config_.auto_offset_reset) {
    case AutoOffsetReset::earliest: return consumer::reset_policy::earliest;
    case AutoOffsetReset::latest: return consumer::reset_policy::latest;
    case AutoOffsetReset::none: break;
  }
  return consumer::reset_policy::none;
}

void consumer_impl::spawn(asio::awaitable<void> task, const char* what) {
  tasks_.spawn(guarded(std::move(task), what), shared_from_this());
}

asio::awaitable<void> consumer_impl::guarded(asio::awaitable<void> task, const char* what) {
  std::string failure;
  try {
    co_await std::move(task);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "an exception of unknown type";
  }
  // Cancellation at stop() may surface as an exception from an Asio wait: not a failure.
  if (failure.empty() || state_ != state::running || broken_) co_return;
  broken_ = illegal(std::string("internal error: the consumer's ") + what + " task failed (" + failure +
                    "); stop the consumer and create a new one");
  records_ready_.notify_all();
}

void consumer_impl::wake_fetcher() noexcept {
  fetch_dirty_ = true;
  fetch_wake_.notify_all();
}

std::shared_ptr<const std::string> consumer_impl::topic_name(const std::string& topic) {
  auto& slot = topic_names_[topic];
  if (!slot) slot = std::make_shared<const std::string>(topic);
  return slot;
}

// ---- start / stop ----

asio::awaitable<op_error> consumer_impl::start() {
  if (state_ != state::created) co_return illegal("start() was already called");
  if (auto f = co_await cluster_->start(); f.code) {
    state_ = state::stopped;
    co_await cluster_->close();
    co_return op_error{f.code, std::move(f.message)};
  }
  state_ = state::running;
  for (const auto& tp : sub_.assignment()) cluster_->metadata().track(tp.topic);
  spawn(fetch_loop(), "fetch loop");
  if (config_.group_id && config_.enable_auto_commit) spawn(auto_commit_loop(), "auto-commit");
  if (subscribed()) {
    if (mode_ == sub_mode::pattern) matched_ = wanted_topics();  // the bootstrap metadata is in
    cluster_->metadata().mark_urgent();  // the subscribed topics' partitions, soon
    if (config_.group_id) {
      start_member();
    } else {
      assign_all_wanted();
    }
  }
  co_return op_error{};
}

asio::awaitable<op_error> consumer_impl::stop() {
  if (state_ == state::stopped) co_return op_error{};
  const bool was_running = state_ == state::running;
  if (state_ == state::stopping) {
    // Another stop() is committing and leaving: wait for it.
    while (state_ != state::stopped) {
      if (co_await group_done_.wait_until(time_point::max()) == net::wait_status::cancelled) break;
    }
    co_return op_error{};
  }
  state_ = was_running ? state::stopping : state::stopped;
  records_ready_.notify_all();  // pending get*() end with consumer_stopped
  positions_done_.notify_all();
  op_error result;
  if (was_running && config_.group_id && config_.enable_auto_commit) {
    std::function<std::map<TopicPartition, OffsetAndMetadata>()> make = [this] { return consumed_offsets(true); };
    result = co_await commit_in_turn(std::move(make), clock::now() + config_.request_timeout);
  }
  if (was_running && member_) {
    // Leave the group: the listener's on_partitions_revoked runs, then LeaveGroup (dynamic
    // members). Bounded: the listener's time (rebalance_timeout) and one request.
    leave_member();
    const time_point deadline = clock::now() + config_.rebalance_timeout.value_or(config_.session_timeout) +
                                config_.request_timeout;
    while (group_loops_ > 0) {
      if (co_await group_done_.wait_until(deadline) != net::wait_status::notified) break;
    }
  }
  state_ = state::stopped;
  group_done_.notify_all();
  tasks_.cancel_all();
  (void)co_await tasks_.join(clock::now() + config_.request_timeout);
  // Closing the fetch sessions is a courtesy (the broker forgets an idle session by itself);
  // the connections close right after, so it is not done.
  co_await cluster_->close();
  if (result.code) result.message = "commit on stop: " + result.message;
  co_return result;
}

void consumer_impl::abandon() noexcept {
  state_ = state::stopped;
  records_ready_.notify_all();
  positions_done_.notify_all();
  tasks_.cancel_all();
  cluster_->shutdown_now();
}

// ---- assignment, seek, pause ----

void consumer_impl::assign(std::vector<TopicPartition> partitions) {
  if (state_ == state::stopped || state_ == state::stopping) {
    throw error(make_error_code(client_errc::consumer_stopped), "assign() after stop()");
  }
  if (subscribed()) {
    throw error(make_error_code(client_errc::illegal_state),
                "assign(): the consumer is subscribed; subscribing and assigning are exclusive (call unsubscribe() "
                "first)");
  }
  mode_ = partitions.empty() ? sub_mode::none : sub_mode::manual;
  for (const auto& tp : partitions) {
    if (tp.topic.empty() || tp.partition < 0) {
      throw error(make_error_code(client_errc::invalid_argument), "assign(): invalid partition '" + name_of(tp) + "'");
    }
  }
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  std::set<std::string> old_topics;
  for (const auto& tp : sub_.assignment()) old_topics.insert(tp.topic);
  sub_.assign(partitions);
  std::set<std::string> new_topics;
  for (const auto& tp : partitions) new_topics.insert(tp.topic);
  for (const auto& t : old_topics) {
    if (!new_topics.contains(t)) cluster_->metadata().untrack(t);
  }
  for (const auto& t : new_topics) cluster_->metadata().track(t);
  records_ready_.notify_all();  // getters of revoked partitions look again
  wake_fetcher();
}

std::set<TopicPartition> consumer_impl::assignment() const {
  const auto a = sub_.unheld();
  return {a.begin(), a.end()};
}

void consumer_impl::seek(const TopicPartition& tp, std::int64_t offset) {
  if (offset < 0) throw error(make_error_code(client_errc::invalid_argument), "seek(): negative offset for " + name_of(tp));
  if (!sub_.seek(tp, offset)) {
    throw error(make_error_code(client_errc::illegal_state), "seek(): partition " + name_of(tp) + " is not assigned");
  }
  wake_fetcher();
}

void consumer_impl::set_paused(std::span<const TopicPartition> tps, bool pause) {
  for (const auto& tp : tps) {
    if (!sub_.assigned(tp)) {
      throw error(make_error_code(client_errc::illegal_state),
                  std::string(pause ? "pause" : "resume") + "(): partition " + name_of(tp) + " is not assigned");
    }
  }
  for (const auto& tp : tps) {
    if (pause) {
      sub_.pause(tp);
    } else {
      sub_.resume(tp);
    }
  }
  if (!pause) records_ready_.notify_all();  // buffered records of a resumed partition
  wake_fetcher();
}

std::set<TopicPartition> consumer_impl::paused() const {
  const auto p = sub_.paused();
  return {p.begin(), p.end()};
}

std::optional<std::int64_t> consumer_impl::partition_field(const TopicPartition& tp, int field) const {
  const consumer::partition_state* s = sub_.find(tp);
  if (!s) throw error(make_error_code(client_errc::illegal_state), "partition " + name_of(tp) + " is not assigned");
  switch (field) {
    case 0:
      if (s->high_watermark >= 0) return s->high_watermark;
      return std::nullopt;
    case 1:
      if (s->last_stable_offset >= 0) return s->last_stable_offset;
      return std::nullopt;
    default:
      if (!s->last_fetch_time) return std::nullopt;
      {
        const auto age = clock::now() - *s->last_fetch_time;
        const auto wall = std::chrono::system_clock::now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(age);
        return std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
      }
  }
}

// ---- get*() ----

op_error consumer_impl::check_get(const std::vector<TopicPartition>& only) const {
  if (state_ == state::created) return illegal("the consumer is not started: call start() first");
  if (state_ == state::stopped || state_ == state::stopping) {
    return {make_error_code(client_errc::consumer_stopped), "the consumer stopped"};
  }
  if (broken_) return *broken_;
  if (group_error_) return *group_error_;
  for (const auto& tp : only) {
    if (!sub_.assigned(tp)) return illegal("no current assignment for partition " + name_of(tp));
  }
  return {};
}

asio::awaitable<op_error> consumer_impl::getmany(std::vector<TopicPartition> only, std::chrono::milliseconds timeout,
                                                 std::size_t max_records, RecordBatches& out) {
  std::size_t limit = max_records;
  if (limit == 0) limit = config_.max_poll_records.value_or(std::numeric_limits<std::size_t>::max());
  const time_point deadline = clock::now() + timeout;
  polled();
  for (;;) {
    if (auto e = check_get(only); e.code) co_return e;
    consumer::take_result taken = sub_.take(only, limit);
    if (taken.count > 0) {
      for (auto& b : taken.batches) out.emplace(std::move(b.partition), std::move(b.records));
      wake_fetcher();  // drained partitions are fetched again at once
      co_return op_error{};
    }
    if (taken.error) co_return op_error{taken.error->error, std::move(taken.error->message)};
    if (clock::now() >= deadline) co_return op_error{};
    if (co_await records_ready_.wait_until(deadline) == net::wait_status::cancelled) {
      co_return op_error{std::make_error_code(std::errc::operation_canceled), "getmany() cancelled"};
    }
  }
}

asio::awaitable<op_error> consumer_impl::getone(std::vector<TopicPartition> only, ConsumerRecord& out) {
  polled();
  for (;;) {
    if (auto e = check_get(only); e.code) co_return e;
    consumer::take_result taken = sub_.take(only, 1);
    if (taken.count > 0) {
      out = std::move(taken.batches.front().records.front());
      wake_fetcher();
      co_return op_error{};
    }
    if (taken.error) co_return op_error{taken.error->error, std::move(taken.error->message)};
    if (co_await records_ready_.wait_until(time_point::max()) == net::wait_status::cancelled) {
      co_return op_error{std::make_error_code(std::errc::operation_canceled), "getone() cancelled"};
    }
  }
}

asio::awaitable<op_error> consumer_impl::next(std::optional<ConsumerRecord>& out) {
  ConsumerRecord rec;
  std::vector<TopicPartition> all;  // named: no braced list inside co_await (GCC 12)
  op_error e = co_await getone(std::move(all), rec);
  if (e.code == client_errc::consumer_stopped) co_return op_error{};  // the loop ends: nullopt
  if (!e.code) out = std::move(rec);
  co_return e;
}

// ---- positions ----

asio::awaitable<op_error> consumer_impl::position(TopicPartition tp, std::int64_t& out) {
  const time_point deadline = clock::now() + config_.request_timeout;
  for (;;) {
    const consumer::partition_state* s = sub_.find(tp);
    if (!s) co_return illegal("position(): partition " + name_of(tp) + " is not assigned");
    if (s->position) {
      out = s->position->offset;
      co_return op_error{};
    }
    if (s->error) co_return op_error{s->error->error, s->error->message};
    if (state_ != state::running) {
      co_return state_ == state::created ? illegal("position(): the position of " + name_of(tp) +
                                                   " is unknown and the consumer is not started")
                                         : op_error{make_error_code(client_errc::consumer_stopped), "the consumer stopped"};
    }
    if (clock::now() >= deadline) {
      co_return op_error{make_error_code(client_errc::timeout),
                         "position(): no position for " + name_of(tp) + " within request_timeout"};
    }
    wake_fetcher();  // starts the positions task if it is not running
    if (co_await positions_done_.wait_until(deadline) == net::wait_status::cancelled) {
      co_return op_error{std::make_error_code(std::errc::operation_canceled), "position() cancelled"};
    }
  }
}

asio::awaitable<op_error> consumer_impl::seek_to(std::vector<TopicPartition> tps, int policy) {
  if (state_ != state::running) {
    co_return state_ == state::created ? illegal("seek_to_*() needs a started consumer")
                                       : op_error{make_error_code(client_errc::consumer_stopped), "the consumer stopped"};
  }
  if (tps.empty()) tps = sub_.assignment();
  for (const auto& tp : tps) {
    if (!sub_.assigned(tp)) co_return illegal("seek: partition " + name_of(tp) + " is not assigned");
  }
  const time_point deadline = clock::now() + config_.request_timeout;
  if (policy == 2) {
    if (!config_.group_id) co_return illegal("seek_to_committed() needs a group_id");
    std::map<TopicPartition, OffsetAndMetadata> found;
    if (auto e = co_await fetch_committed(tps, deadline, found); e.code) co_return e;
    for (const auto& tp : tps) {
      const auto it = found.find(tp);
      if (it != found.end()) {
        sub_.seek(tp, it->second.offset, it->second.leader_epoch);
      } else if (default_policy() == consumer::reset_policy::none) {
        sub_.set_error(tp, make_error_code(kafka_errc::offset_out_of_range),
                       "no committed offset for " + name_of(tp) + " and auto_offset_reset is none");
      } else {
        sub_.request_reset(tp, default_policy());
      }
    }
    wake_fetcher();
    co_return op_error{};
  }
  std::map<TopicPartition, std::int64_t> times;
  for (const auto& tp : tps) times.emplace(tp, policy == 0 ? -2 : -1);
  std::map<TopicPartition, std::optional<OffsetAndTimestamp>> found;
  if (auto e = co_await list_offsets_until(std::move(times), deadline, found); e.code) co_return e;
  for (const auto& entry : found) {
    if (entry.second && sub_.assigned(entry.first)) {
      sub_.seek(entry.first, entry.second->offset, entry.second->leader_epoch);
    }
  }
  wake_fetcher();
  co_return op_error{};
}

// ---- metadata ----

asio::awaitable<op_error> consumer_impl::topics(std::set<std::string>& out) {
  if (state_ != state::running) co_return illegal("topics() needs a started consumer");
  const time_point deadline = clock::now() + config_.request_timeout;
  // All topics for one refresh, then back to the tracked ones.
  cluster_->metadata().set_all_topics(true);
  auto f = co_await cluster_->metadata().refresh(std::vector<std::string>(), false, deadline);
  cluster_->metadata().set_all_topics(false);
  if (f.code) co_return op_error{f.code, "topics(): " + f.message};
  const auto& cache = cluster_->metadata().cache();
  for (const auto& name : cache.topic_names()) {
    const TopicMetadata* t = cache.topic(name);
    if (t && t->is_internal && config_.exclude_internal_topics) continue;
    out.insert(name);
  }
  co_return op_error{};
}

asio::awaitable<op_error> consumer_impl::partitions_for(std::string topic, std::set<std::int32_t>& out) {
  if (state_ != state::running) co_return illegal("partitions_for_topic() needs a started consumer");
  const time_point deadline = clock::now() + config_.request_timeout;
  std::vector<std::string> topics{topic};
  // Until the partitions have leaders: a topic being auto-created has none for a moment.
  auto f = co_await cluster_->metadata().refresh(std::move(topics), true, deadline);
  if (f.code) co_return op_error{f.code, "partitions_for_topic('" + topic + "'): " + f.message};
  const TopicMetadata* t = cluster_->metadata().cache().topic(topic);
  if (!t) co_return op_error{make_error_code(kafka_errc::unknown_topic_or_partition), "topic '" + topic + "' does not exist"};
  if (t->error) co_return op_error{t->error, "topic '" + topic + "': " + t->error.message()};
  for (const auto& p : t->partitions) out.insert(p.partition);
  co_return op_error{};
}

// ---- the facade's entry points ----

std::shared_ptr<consumer_impl> make_consumer(asio::any_io_executor ex, ConsumerConfig config) {
  validate(config);
  return std::make_shared<consumer_impl>(std::move(ex), std::move(config));
}

void consumer_destroyed(consumer_impl& c) noexcept {
  asio::post(c.executor(), [self = c.shared_from_this()] { self->abandon(); });
}

asio::awaitable<op_error> consumer_start(std::shared_ptr<consumer_impl> c) { co_return co_await c->start(); }
asio::awaitable<op_error> consumer_stop(std::shared_ptr<consumer_impl> c) { co_return co_await c->stop(); }

asio::awaitable<op_error> consumer_getmany(std::shared_ptr<consumer_impl> c, std::vector<TopicPartition> only,
                                           std::chrono::milliseconds timeout, std::size_t max_records,
                                           RecordBatches& out) {
  co_return co_await c->getmany(std::move(only), timeout, max_records, out);
}

asio::awaitable<op_error> consumer_getone(std::shared_ptr<consumer_impl> c, std::vector<TopicPartition> only,
                                          ConsumerRecord& out) {
  co_return co_await c->getone(std::move(only), out);
}

asio::awaitable<op_error> consumer_next(std::shared_ptr<consumer_impl> c, std::optional<ConsumerRecord>& out) {
  co_return co_await c->next(out);
}

asio::awaitable<op_error> consumer_position(std::shared_ptr<consumer_impl> c, TopicPartition tp, std::int64_t& out) {
  co_return co_await c->position(std::move(tp), out);
}

asio::awaitable<op_error> consumer_committed(std::shared_ptr<consumer_impl> c, TopicPartition tp,
                                             std::optional<OffsetAndMetadata>& out) {
  std::vector<TopicPartition> tps{tp};
  std::map<TopicPartition, OffsetAndMetadata> found;
  op_error e = co_await c->committed(std::move(tps), found);
  if (e.code) co_return e;
  if (const auto it = found.find(tp); it != found.end()) out = std::move(it->second);
  co_return op_error{};
}

asio::awaitable<op_error> consumer_commit(std::shared_ptr<consumer_impl> c,
                                          std::optional<std::map<TopicPartition, OffsetAndMetadata>> offsets) {
  co_return co_await c->commit(std::move(offsets));
}

asio::awaitable<op_error> consumer_seek_to(std::shared_ptr<consumer_impl> c, std::vector<TopicPartition> tps,
                                           int policy) {
  co_return co_await c->seek_to(std::move(tps), policy);
}

asio::awaitable<op_error> consumer_list_offsets(std::shared_ptr<consumer_impl> c,
                                                std::map<TopicPartition, std::int64_t> times,
                                                std::map<TopicPartition, std::optional<OffsetAndTimestamp>>& out) {
  co_return co_await c->list_offsets(std::move(times), out);
}

asio::awaitable<op_error> consumer_topics(std::shared_ptr<consumer_impl> c, std::set<std::string>& out) {
  co_return co_await c->topics(out);
}

asio::awaitable<op_error> consumer_partitions_for(std::shared_ptr<consumer_impl> c, std::string topic,
                                                  std::set<std::int32_t>& out) {
  co_return co_await c->partitions_for(std::move(topic), out);
}

void consumer_assign(consumer_impl& c, std::vector<TopicPartition> partitions) { c.assign(std::move(partitions)); }
void consumer_subscribe(consumer_impl& c, std::vector<std::string> topics, std::optional<std::regex> pattern,
                        std::shared_ptr<ConsumerRebalanceListener> listener) {
  c.subscribe(std::move(topics), std::move(pattern), std::move(listener));
}
void consumer_subscribe_pattern(consumer_impl& c, std::string regex, std::shared_ptr<ConsumerRebalanceListener> listener) {
  c.subscribe({}, std::nullopt, std::move(listener), std::move(regex));
}
void consumer_unsubscribe(consumer_impl& c) { c.unsubscribe(); }
std::set<std::string> consumer_subscription(const consumer_impl& c) { return c.subscription(); }
GroupStatus consumer_group_status(const consumer_impl& c) { return c.group_status(); }
std::set<TopicPartition> consumer_assignment(const consumer_impl& c) { return c.assignment(); }
void consumer_seek(consumer_impl& c, const TopicPartition& tp, std::int64_t offset) { c.seek(tp, offset); }
void consumer_pause(consumer_impl& c, std::span<const TopicPartition> tps, bool pause) { c.set_paused(tps, pause); }
std::set<TopicPartition> consumer_paused(const consumer_impl& c) { return c.paused(); }
std::size_t consumer_buffered_bytes(const consumer_impl& c) { return c.buffered_bytes(); }
std::vector<ConnectionInfo> consumer_connections(const consumer_impl& c) { return c.connections(); }
std::optional<std::int64_t> consumer_partition_field(const consumer_impl& c, const TopicPartition& tp, int field) {
  return c.partition_field(tp, field);
}

std::map<TopicPartition, std::int64_t> offsets_only(std::map<TopicPartition, std::optional<OffsetAndTimestamp>> all) {
  std::map<TopicPartition, std::int64_t> out;
  for (auto& entry : all) {
    if (entry.second) out.emplace(entry.first, entry.second->offset);
  }
  return out;
}

}  // namespace asiokafka::detail
