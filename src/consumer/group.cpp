// The consumer's group membership: subscribe / unsubscribe, and the task that drives the
// sans-I/O classic_member (classic_member.hpp) over the coordinator connection.
//
// Connections: JoinGroup, SyncGroup and Heartbeat go on the coordinator's `group` connection
// (the coordinator holds a JoinGroup until the rebalance completes; the member sends nothing
// else meanwhile); LeaveGroup and the offset commits and lookups go on `other`, so they never
// wait behind a held JoinGroup (whose long timeout they do not have).
//
// Partitions being revoked, and new ones until on_partitions_assigned returns, are held in the
// subscription (not fetched, not returned; positions kept for the revoke listener's commit).
#include <algorithm>
#include <exception>
#include <random>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "consumer/consumer_impl.hpp"
#include "consumer/sansio/classic_member_requests.hpp"
#include "consumer/sansio/consumer_member_requests.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::detail {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using net::clock;
using net::time_point;

// One member of either protocol: classic (JoinGroup...) or consumer (KIP-848). The calls both
// share are forwarded; the loops use their own member directly.
struct consumer_impl::member_slot {
  explicit member_slot(consumer::classic_member_config cfg) { classic.emplace(std::move(cfg)); }
  explicit member_slot(consumer::consumer_member_config cfg) { modern.emplace(std::move(cfg)); }
  std::optional<consumer::classic_member> classic;
  std::optional<consumer::consumer_member> modern;
  std::vector<std::string> topics;  ///< the subscription it last joined with (classic)
  bool done = false;                ///< its loop ended

  consumer::member_state state() const { return classic ? classic->state() : modern->state(); }
  consumer::classic_member_status status() const { return classic ? classic->status() : modern->status(); }
  std::int32_t generation() const { return classic ? classic->generation() : modern->generation(); }
  const std::string& member_id() const { return classic ? classic->member_id() : modern->member_id(); }
  bool is_leader() const { return classic && classic->is_leader(); }
  void polled(time_point now) { classic ? classic->polled(now) : modern->polled(now); }
  void leave(time_point now) { classic ? classic->leave(now) : modern->leave(now); }
  void revocation_done(time_point now) { classic ? classic->revocation_done(now) : modern->revocation_done(now); }
  void assignment_done(time_point now) { classic ? classic->assignment_done(now) : modern->assignment_done(now); }
};

namespace {

const char* assignor_name(PartitionAssignor a) {
  switch (a) {
    case PartitionAssignor::range: return "range";
    case PartitionAssignor::roundrobin: return "roundrobin";
    case PartitionAssignor::sticky: return "sticky";
    case PartitionAssignor::cooperative_sticky: return "cooperative-sticky";
  }
  return "?";
}

GroupState public_state(consumer::member_state s) {
  using ms = consumer::member_state;
  switch (s) {
    case ms::unjoined: return GroupState::unjoined;
    case ms::joining: return GroupState::joining;
    case ms::leader_assigning: return GroupState::leader_assigning;
    case ms::syncing: return GroupState::syncing;
    case ms::stable: return GroupState::stable;
    case ms::revoking: return GroupState::revoking;
    case ms::assigning: return GroupState::assigning;
    case ms::left_poll_timeout: return GroupState::left_poll_timeout;
    case ms::stopping: return GroupState::stopping;
    case ms::stopped: return GroupState::none;
    case ms::fatal: return GroupState::failed;
  }
  return GroupState::none;
}

bool contains(const std::vector<std::string>& sorted, const std::string& s) {
  return std::binary_search(sorted.begin(), sorted.end(), s);
}

}  // namespace

// ---- subscribe / unsubscribe (synchronous) ----

void consumer_impl::subscribe(std::vector<std::string> topics, std::optional<std::regex> pattern,
                              std::shared_ptr<ConsumerRebalanceListener> listener,
                              std::optional<std::string> server_regex) {
  if (state_ == state::stopped || state_ == state::stopping) {
    throw error(make_error_code(client_errc::consumer_stopped), "subscribe() after stop()");
  }
  if (mode_ == sub_mode::manual) {
    throw error(make_error_code(client_errc::illegal_state),
                "subscribe(): partitions were assigned by hand; subscribing and assigning are exclusive "
                "(call unsubscribe() or assign({}) first)");
  }
  for (const auto& t : topics) {
    if (t.empty()) throw error(make_error_code(client_errc::invalid_argument), "subscribe(): empty topic name");
  }
  if (server_regex) {
    if (server_regex->empty()) {
      throw error(make_error_code(client_errc::invalid_argument), "subscribe(SubscriptionPattern): empty pattern");
    }
    if (!config_.group_id) {
      throw error(make_error_code(client_errc::invalid_argument),
                  "subscribe(SubscriptionPattern): the group coordinator matches the pattern, so it needs a "
                  "group_id (without one, subscribe with a std::regex)");
    }
    if (config_.group_protocol != GroupProtocol::consumer) {
      throw error(make_error_code(client_errc::unsupported_version),
                  "subscribe(SubscriptionPattern): a broker-side pattern needs group_protocol consumer (KIP-848); "
                  "with the classic protocol subscribe with a std::regex");
    }
  }
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  const std::vector<std::string> before = matched_;
  mode_ = server_regex ? sub_mode::server_pattern : pattern ? sub_mode::pattern : sub_mode::topics;
  sub_topics_ = mode_ == sub_mode::topics ? std::move(topics) : std::vector<std::string>();
  pattern_ = std::move(pattern);
  server_regex_ = server_regex.value_or(std::string());
  listener_ = std::move(listener);
  // Patterns need every topic's metadata: to match (client side), or to name the topic ids
  // of a broker-side pattern's assignment.
  cluster_->metadata().set_all_topics(mode_ != sub_mode::topics);
  matched_ = wanted_topics();
  track_topics(before, matched_);
  if (state_ == state::running) cluster_->metadata().mark_urgent();
  if (!config_.group_id) {
    if (state_ == state::running) assign_all_wanted();
    return;
  }
  if (member_ && !member_->done && member_->state() != consumer::member_state::stopping &&
      member_->state() != consumer::member_state::stopped) {
    member_subscription_changed(clock::now());
  } else if (state_ == state::running) {
    start_member();
  }
}

void consumer_impl::unsubscribe() {
  if (!subscribed()) {
    if (mode_ == sub_mode::manual) assign({});
    mode_ = sub_mode::none;
    return;
  }
  cluster_->metadata().set_all_topics(false);
  const std::vector<std::string> before = matched_;
  mode_ = sub_mode::none;
  sub_topics_.clear();
  pattern_.reset();
  server_regex_.clear();
  matched_.clear();
  if (config_.group_id && member_) {
    // The member's leave revokes (runs the listener, commits) in the background; meanwhile
    // nothing of its partitions is returned.
    for (const auto& tp : sub_.assignment()) sub_.hold(tp);
    leave_member();
  } else {
    sub_.assign({});
  }
  // The listener stays: the leave's revoke runs it (a later subscribe() replaces it).
  track_topics(before, matched_);
  records_ready_.notify_all();
  wake_fetcher();
}

std::set<std::string> consumer_impl::subscription() const {
  if (mode_ != sub_mode::server_pattern) return {matched_.begin(), matched_.end()};
  // The broker's matches are known by what it assigns (as the Java consumer reports them).
  std::set<std::string> out;
  for (const auto& tp : sub_.assignment()) out.insert(tp.topic);
  return out;
}

GroupStatus consumer_impl::group_status() const {
  GroupStatus out;
  const auto held = sub_.unheld();
  out.assignment.insert(held.begin(), held.end());
  out.coordinator = coordinator_node_;
  out.protocol = config_.group_protocol;
  if (!member_) return out;
  const consumer::classic_member_status st = member_->status();
  out.state = public_state(st.state);
  out.generation = st.generation;
  out.member_id = st.member_id;
  out.leader = st.leader;
  if (st.last_heartbeat) {
    out.last_heartbeat = std::chrono::system_clock::now() -
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(clock::now() - *st.last_heartbeat);
  }
  out.last_error = st.last_error;
  if (group_error_) {
    out.last_error = group_error_->code;
    out.last_error_message = group_error_->message;
  } else if (!last_group_error_.empty()) {
    out.last_error_message = last_group_error_;
  } else if (st.last_error) {
    out.last_error_message = st.last_error.message();
  }
  return out;
}

std::vector<std::string> consumer_impl::wanted_topics() const {
  if (mode_ == sub_mode::topics) return sub_topics_;
  if (mode_ != sub_mode::pattern) return {};
  std::vector<std::string> out;
  const auto& cache = cluster_->metadata().cache();
  for (const auto& name : cache.topic_names()) {
    const TopicMetadata* t = cache.topic(name);
    if (!t || (config_.exclude_internal_topics && t->is_internal)) continue;
    if (std::regex_match(name, *pattern_)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void consumer_impl::track_topics(const std::vector<std::string>& before, const std::vector<std::string>& after) {
  for (const auto& t : after) {
    if (!contains(before, t)) cluster_->metadata().track(t);
  }
  for (const auto& t : before) {
    if (contains(after, t)) continue;
    bool assigned = false;
    for (const auto& tp : sub_.assignment()) assigned = assigned || tp.topic == t;
    if (!assigned) cluster_->metadata().untrack(t);
  }
}

void consumer_impl::on_metadata_change(const net::metadata_change& change) {
  wake_fetcher();
  if (mode_ != sub_mode::topics && mode_ != sub_mode::pattern) return;
  const auto now = clock::now();
  if (mode_ == sub_mode::pattern) {
    std::vector<std::string> now_matched = wanted_topics();
    if (now_matched != matched_) {
      const std::vector<std::string> before = matched_;
      matched_ = std::move(now_matched);
      track_topics(before, matched_);
      if (config_.group_id && member_) member_subscription_changed(now);
    }
  }
  if (!config_.group_id) {
    if (state_ == state::running) assign_all_wanted();
    return;
  }
  if (!member_ || !member_->is_leader()) return;
  // The leader rejoins when a topic of the group changed its partitions (Java's leader does).
  const auto& watched = member_->classic->group_topics();
  bool relevant = false;
  for (const auto* list : {&change.partition_count_changed, &change.recreated_topics, &change.added_topics,
                           &change.removed_topics}) {
    for (const auto& t : *list) relevant = relevant || contains(watched, t);
  }
  if (relevant) {
    member_->classic->group_metadata_changed(now);
    group_wake_.notify_all();
  }
}

void consumer_impl::assign_all_wanted() {
  std::vector<TopicPartition> all;
  const auto& cache = cluster_->metadata().cache();
  for (const auto& name : matched_) {
    const TopicMetadata* t = cache.topic(name);
    if (!t || t->error) continue;
    for (const auto& p : t->partitions) all.emplace_back(name, p.partition);
  }
  std::sort(all.begin(), all.end());
  const auto now_assigned = sub_.assignment();
  if (all == now_assigned) return;
  std::vector<TopicPartition> added;
  std::set_difference(all.begin(), all.end(), now_assigned.begin(), now_assigned.end(), std::back_inserter(added));
  std::vector<TopicPartition> removed;
  std::set_difference(now_assigned.begin(), now_assigned.end(), all.begin(), all.end(), std::back_inserter(removed));
  sub_.assign(all);
  records_ready_.notify_all();
  wake_fetcher();
  if (!listener_) return;
  // The listener hears of the change; the new partitions wait for it.
  for (const auto& tp : added) sub_.hold(tp);
  spawn(
      [](std::shared_ptr<consumer_impl> c, std::shared_ptr<ConsumerRebalanceListener> l,
         std::vector<TopicPartition> gone, std::vector<TopicPartition> got) -> asio::awaitable<void> {
        if (!gone.empty()) co_await c->call_listener(l, 0, gone);
        if (!got.empty()) co_await c->call_listener(l, 1, got);
        for (const auto& tp : got) c->sub_.release(tp);
        c->records_ready_.notify_all();
        c->wake_fetcher();
      }(shared_from_this(), listener_, std::move(removed), std::move(added)),
      "rebalance listener");
}

void consumer_impl::polled() noexcept {
  if (!member_) return;
  const bool rejoin = member_->state() == consumer::member_state::left_poll_timeout;
  member_->polled(clock::now());
  if (rejoin) group_wake_.notify_all();
}

bool consumer_impl::in_group() const noexcept { return member_ && !member_->done; }

std::pair<std::int32_t, std::string> consumer_impl::commit_identity() const {
  if (!member_ || member_->done) return {-1, std::string()};
  return {member_->generation(), member_->member_id()};
}

// ---- the member ----

void consumer_impl::member_subscription_changed(time_point now) {
  if (member_->classic) {
    member_->classic->subscription_changed(now);
  } else {
    // A pattern is matched here and sent as names (as the Java consumer does for a
    // java.util.regex.Pattern; the broker's RE2/J regex is another syntax than std::regex).
    member_->modern->subscription_changed(modern_subscription(), now);
  }
  group_wake_.notify_all();
}

consumer::group_subscription consumer_impl::modern_subscription() const {
  consumer::group_subscription sub;
  if (mode_ == sub_mode::server_pattern) {
    sub.regex = server_regex_;
  } else {
    sub.topics = matched_;
  }
  return sub;
}

void consumer_impl::start_member() {
  if (config_.group_protocol == GroupProtocol::consumer) {
    start_modern_member();
    return;
  }
  if (assignors_.empty()) {
    for (const auto a : config_.partition_assignment_strategy) assignors_.push_back(consumer::make_assignor(assignor_name(a)));
  }
  consumer::classic_member_config mc;
  mc.group_id = *config_.group_id;
  mc.group_instance_id = config_.group_instance_id;
  mc.session_timeout = config_.session_timeout;
  mc.rebalance_timeout = config_.rebalance_timeout.value_or(config_.session_timeout);
  mc.heartbeat_interval = config_.heartbeat_interval;
  mc.max_poll_interval = config_.max_poll_interval;
  mc.retry_backoff = config_.retry_backoff;
  mc.retry_backoff_max = std::max(config_.retry_backoff_max, config_.retry_backoff);  // Java: constant then
  bool cooperative = true;
  for (const auto& a : assignors_) cooperative = cooperative && a->protocol() == consumer::rebalance_protocol::cooperative;
  mc.protocol = cooperative ? consumer::rebalance_protocol::cooperative : consumer::rebalance_protocol::eager;
  member_ = std::make_shared<member_slot>(std::move(mc));
  group_error_.reset();
  member_->classic->start(clock::now());
  ++group_loops_;
  spawn(group_loop(member_), "group");
}

void consumer_impl::start_modern_member() {
  if (kip1082_member_id_.empty()) {
    // KIP-1082: the member id is made once per consumer, from random bytes.
    std::random_device rd;
    protocol::uuid bytes{};
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rd());
    kip1082_member_id_ = consumer::make_member_id(bytes);
  }
  consumer::consumer_member_config mc;
  mc.group_id = *config_.group_id;
  mc.member_id = kip1082_member_id_;
  mc.group_instance_id = config_.group_instance_id;
  if (!config_.client_rack.empty()) mc.rack_id = config_.client_rack;
  mc.server_assignor = config_.group_remote_assignor;
  mc.rebalance_timeout = config_.rebalance_timeout.value_or(config_.session_timeout);
  mc.heartbeat_interval = config_.heartbeat_interval;
  mc.session_timeout = config_.session_timeout;
  mc.max_poll_interval = config_.max_poll_interval;
  mc.retry_backoff = config_.retry_backoff;
  mc.retry_backoff_max = std::max(config_.retry_backoff_max, config_.retry_backoff);
  member_ = std::make_shared<member_slot>(std::move(mc));
  group_error_.reset();
  member_->modern->start(modern_subscription(), clock::now());
  ++group_loops_;
  spawn(modern_loop(member_), "group");
}

void consumer_impl::leave_member() {
  if (!member_) return;
  member_->leave(clock::now());
  group_wake_.notify_all();
}

namespace {

// Ends a member's loop: marks the member done and lets close() and unsubscribe() see it.
struct loop_guard {
  bool& done;
  std::size_t& loops;
  net::notifier& loop_ended;
  ~loop_guard() {
    done = true;
    --loops;
    loop_ended.notify_all();
  }
};

}  // namespace

asio::awaitable<consumer_impl::loop_step> consumer_impl::shared_step(const std::shared_ptr<member_slot>& m,
                                                                     const consumer::wait_until* wait, bool idle,
                                                                     const consumer::failed* failure) {
  if (wait != nullptr) {
    co_return co_await group_wake_.wait_until(wait->when) == net::wait_status::cancelled ? loop_step::end
                                                                                          : loop_step::next;
  }
  if (idle && m->state() == consumer::member_state::stopped) co_return loop_step::end;
  if (!idle && failure == nullptr) co_return loop_step::dispatch;
  if (failure != nullptr && m == member_ && !group_error_) {
    std::string why = "the consumer group membership failed: " + failure->error.message();
    if (m->modern && (failure->error == make_error_code(client_errc::unsupported_version) ||
                      failure->error == make_error_code(kafka_errc::unsupported_version))) {
      why += " (group_protocol consumer needs KIP-848 on the broker: the ConsumerGroupHeartbeat API and "
             "group.version 1, Kafka 4.0 and later; use GroupProtocol::classic with this cluster)";
    }
    group_error_ = op_error{failure->error, std::move(why)};
    records_ready_.notify_all();
  }
  co_return co_await group_wake_.wait_until(time_point::max()) == net::wait_status::cancelled ? loop_step::end
                                                                                               : loop_step::next;
}

asio::awaitable<void> consumer_impl::group_loop(std::shared_ptr<member_slot> m) {
  const loop_guard guard{m->done, group_loops_, group_done_};
  for (;;) {
    consumer::member_action act = m->classic->next(clock::now());
    const loop_step step = co_await shared_step(m, std::get_if<consumer::wait_until>(&act),
                                                std::holds_alternative<consumer::idle>(act),
                                                std::get_if<consumer::failed>(&act));
    if (step == loop_step::end) co_return;
    if (step == loop_step::next) continue;
    if (auto* j = std::get_if<consumer::send_join>(&act)) {
      m->topics = m == member_ ? matched_ : m->topics;
      spawn(join_task(m, std::move(*j)), "group join");
    } else if (auto* a = std::get_if<consumer::run_assignment>(&act)) {
      spawn(assignment_task(m, std::move(*a)), "group assignment");
    } else if (auto* s = std::get_if<consumer::send_sync>(&act)) {
      spawn(sync_task(m, std::move(*s)), "group sync");
    } else if (auto* h = std::get_if<consumer::send_heartbeat>(&act)) {
      spawn(heartbeat_task(m, std::move(*h)), "heartbeat");
    } else if (auto* l = std::get_if<consumer::send_leave>(&act)) {
      spawn(leave_task(m, std::move(*l)), "group leave");
    } else if (auto* r = std::get_if<consumer::revoke>(&act)) {
      spawn(revoke_task(m, std::move(*r)), "rebalance listener");
    } else if (auto* g = std::get_if<consumer::assign>(&act)) {
      spawn(assign_task(m, std::move(*g)), "rebalance listener");
    }
  }
}

asio::awaitable<void> consumer_impl::modern_loop(std::shared_ptr<member_slot> m) {
  const loop_guard guard{m->done, group_loops_, group_done_};
  for (;;) {
    consumer::consumer_member_action act = m->modern->next(clock::now());
    const loop_step step = co_await shared_step(m, std::get_if<consumer::wait_until>(&act),
                                                std::holds_alternative<consumer::idle>(act),
                                                std::get_if<consumer::failed>(&act));
    if (step == loop_step::end) co_return;
    if (step == loop_step::next) continue;
    if (auto* h = std::get_if<consumer::send_consumer_heartbeat>(&act)) {
      spawn(consumer_heartbeat_task(m, std::move(*h)), "heartbeat");
    } else if (auto* r = std::get_if<consumer::resolve_topics>(&act)) {
      spawn(resolve_task(m, std::move(r->ids)), "topic ids");
    } else if (auto* v = std::get_if<consumer::revoke>(&act)) {
      spawn(revoke_task(m, std::move(*v)), "rebalance listener");
    } else if (auto* g = std::get_if<consumer::assign>(&act)) {
      spawn(assign_task(m, std::move(*g)), "rebalance listener");
    }
  }
}

asio::awaitable<void> consumer_impl::consumer_heartbeat_task(std::shared_ptr<member_slot> m,
                                                             consumer::send_consumer_heartbeat a) {
  typed_request<msg::ConsumerGroupHeartbeatRequest> request(msg::ConsumerGroupHeartbeatRequest{});
  request.set_version_hook(
      [a](std::int16_t v, msg::ConsumerGroupHeartbeatRequest& r) { return consumer::make_request(a, v, r); });
  // A leave goes on `other` (never behind anything); the others on the group connection.
  const bool leaving = a.member_epoch < 0;
  const net::failure f = co_await to_coordinator(request, leaving ? ConnectionPurpose::other : ConnectionPurpose::group,
                                                 config_.request_timeout);
  if (f) {
    m->modern->on_request_failed(f.code, clock::now());
  } else {
    const auto taken = request.take();
    m->modern->on_heartbeat_response(taken.message, clock::now());
  }
  group_wake_.notify_all();
}

asio::awaitable<void> consumer_impl::resolve_task(std::shared_ptr<member_slot> m, std::vector<protocol::uuid> ids) {
  auto known = [&] {
    std::map<protocol::uuid, std::string> names;
    const auto& cache = cluster_->metadata().cache();
    for (const auto& name : cache.topic_names()) {
      const TopicMetadata* t = cache.topic(name);
      if (t && std::find(ids.begin(), ids.end(), t->topic_id) != ids.end()) names.emplace(t->topic_id, name);
    }
    return names;
  };
  std::map<protocol::uuid, std::string> names = known();
  if (names.size() < ids.size()) {
    // The assignment names only subscribed topics, which are tracked: a refresh brings them.
    std::vector<std::string> topics = matched_;
    (void)co_await cluster_->metadata().refresh(std::move(topics), false, clock::now() + config_.request_timeout);
    names = known();
  }
  m->modern->topics_resolved(names, clock::now());
  group_wake_.notify_all();
}

asio::awaitable<net::failure> consumer_impl::to_coordinator(request_base& request, ConnectionPurpose purpose,
                                                            std::chrono::milliseconds timeout) {
  const std::string& group = *config_.group_id;
  const time_point deadline = clock::now() + timeout;
  net::outcome<BrokerMetadata> c = co_await cluster_->coordinators().find(CoordinatorType::group, group, deadline);
  if (!c) {
    coordinator_node_ = -1;
    co_return std::move(c.error());
  }
  coordinator_node_ = c->node_id;
  net::request_options options;
  options.timeout = std::max(std::chrono::milliseconds(1),
                             std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
  net::failure f = co_await cluster_->send_to_node(c->node_id, purpose, request, options);
  if (!f) {
    const std::error_code ec = make_kafka_error(request.top_level_error());
    if (ec) (void)cluster_->coordinators().on_error(CoordinatorType::group, group, ec);  // forgets a moved one
  } else if (protocol::classify(f.code).transport || f.code == client_errc::timeout) {
    cluster_->coordinators().invalidate(CoordinatorType::group, group);
  }
  co_return f;
}

asio::awaitable<void> consumer_impl::join_task(std::shared_ptr<member_slot> m, consumer::send_join a) {
  std::vector<msg::JoinGroupRequest::JoinGroupRequestProtocol> protocols;
  std::optional<std::string> rack;
  if (!config_.client_rack.empty()) rack = config_.client_rack;
  if (auto ec = consumer::encode_join_protocols(a, assignors_, m->topics, rack, protocols)) {
    m->classic->on_request_failed(consumer::group_request::join, ec, clock::now());
    group_wake_.notify_all();
    co_return;
  }
  typed_request<msg::JoinGroupRequest> request(msg::JoinGroupRequest{});
  const std::string group = *config_.group_id;
  request.set_version_hook([a, group, protocols](std::int16_t v, msg::JoinGroupRequest& r) {
    return consumer::make_request(a, group, protocols, v, r);
  });
  // The coordinator holds a JoinGroup up to the rebalance timeout (Java adds 5 s).
  const auto timeout = std::max(config_.request_timeout, std::chrono::milliseconds(a.rebalance_timeout_ms) +
                                                             std::chrono::milliseconds(5'000));
  const net::failure f = co_await to_coordinator(request, ConnectionPurpose::group, timeout);
  if (f) {
    m->classic->on_request_failed(consumer::group_request::join, f.code, clock::now());
  } else {
    const auto taken = request.take();
    m->classic->on_join_response(taken.message, clock::now());
  }
  group_wake_.notify_all();
}

asio::awaitable<void> consumer_impl::assignment_task(std::shared_ptr<member_slot> m, consumer::run_assignment a) {
  // Partition counts of every member's topics, fresh (Java's leader refreshes too).
  std::vector<std::string> topics;
  for (const auto& member : a.members) topics.insert(topics.end(), member.topics.begin(), member.topics.end());
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  for (const auto& t : topics) cluster_->metadata().track(t);
  const time_point deadline = clock::now() + config_.request_timeout;
  (void)co_await cluster_->metadata().refresh(topics, false, deadline);  // what is known is used
  consumer::partition_counts counts;
  const auto& cache = cluster_->metadata().cache();
  for (const auto& t : topics) {
    const TopicMetadata* md = cache.topic(t);
    if (md && !md->error && !md->partitions.empty()) counts[t] = static_cast<std::int32_t>(md->partitions.size());
  }
  const consumer::assignor* chosen = nullptr;
  for (const auto& x : assignors_) {
    if (x->name() == a.protocol_name) chosen = x.get();
  }
  std::map<std::string, consumer::member_assignment> out;
  if (chosen) {
    consumer::group_assignment ga = chosen->assign(counts, a.members);
    for (auto& entry : ga) out[entry.first].partitions = std::move(entry.second);
  } else {
    last_group_error_ = "the group chose the assignor '" + a.protocol_name + "', which this member does not have";
    for (const auto& member : a.members) out[member.member_id];
  }
  // Topics the leader watched before but no member wants now are no longer tracked for it.
  for (const auto& t : m->classic->group_topics()) {
    if (!contains(topics, t) && !contains(matched_, t)) cluster_->metadata().untrack(t);
  }
  m->classic->on_assignment_computed(out, clock::now());
  group_wake_.notify_all();
}

asio::awaitable<void> consumer_impl::sync_task(std::shared_ptr<member_slot> m, consumer::send_sync a) {
  typed_request<msg::SyncGroupRequest> request(msg::SyncGroupRequest{});
  const std::string group = *config_.group_id;
  request.set_version_hook(
      [a, group](std::int16_t v, msg::SyncGroupRequest& r) { return consumer::make_request(a, group, v, r); });
  // The coordinator answers followers once the leader's SyncGroup arrives.
  const auto timeout = std::max(config_.request_timeout, config_.rebalance_timeout.value_or(config_.session_timeout));
  const net::failure f = co_await to_coordinator(request, ConnectionPurpose::group, timeout);
  if (f) {
    m->classic->on_request_failed(consumer::group_request::sync, f.code, clock::now());
  } else {
    const auto taken = request.take();
    m->classic->on_sync_response(taken.message, clock::now());
  }
  group_wake_.notify_all();
}

asio::awaitable<void> consumer_impl::heartbeat_task(std::shared_ptr<member_slot> m, consumer::send_heartbeat a) {
  typed_request<msg::HeartbeatRequest> request(msg::HeartbeatRequest{});
  const std::string group = *config_.group_id;
  request.set_version_hook(
      [a, group](std::int16_t v, msg::HeartbeatRequest& r) { return consumer::make_request(a, group, v, r); });
  const net::failure f = co_await to_coordinator(request, ConnectionPurpose::group, config_.request_timeout);
  if (f) {
    m->classic->on_request_failed(consumer::group_request::heartbeat, f.code, clock::now());
  } else {
    const auto taken = request.take();
    m->classic->on_heartbeat_response(taken.message, clock::now());
  }
  group_wake_.notify_all();
}

asio::awaitable<void> consumer_impl::leave_task(std::shared_ptr<member_slot> m, consumer::send_leave a) {
  typed_request<msg::LeaveGroupRequest> request(msg::LeaveGroupRequest{});
  const std::string group = *config_.group_id;
  request.set_version_hook(
      [a, group](std::int16_t v, msg::LeaveGroupRequest& r) { return consumer::make_request(a, group, v, r); });
  const net::failure f = co_await to_coordinator(request, ConnectionPurpose::other, config_.request_timeout);
  if (f) {
    m->classic->on_request_failed(consumer::group_request::leave, f.code, clock::now());
  } else {
    const auto taken = request.take();
    m->classic->on_leave_response(taken.message, clock::now());
  }
  group_wake_.notify_all();
}

asio::awaitable<void> consumer_impl::call_listener(std::shared_ptr<ConsumerRebalanceListener> l, int which,
                                                   std::vector<TopicPartition> parts) {
  if (!l) co_return;
  std::string failure;
  try {
    if (which == 0) {
      co_await l->on_partitions_revoked(std::move(parts));
    } else if (which == 1) {
      co_await l->on_partitions_assigned(std::move(parts));
    } else {
      co_await l->on_partitions_lost(std::move(parts));
    }
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "an exception of unknown type";
  }
  if (!failure.empty()) {
    static const char* const names[] = {"on_partitions_revoked", "on_partitions_assigned", "on_partitions_lost"};
    last_group_error_ = std::string("the rebalance listener's ") + names[which] + " threw: " + failure;
  }
}

asio::awaitable<void> consumer_impl::revoke_task(std::shared_ptr<member_slot> m, consumer::revoke a) {
  const bool current = m == member_;
  if (current) {
    for (const auto& tp : a.partitions) sub_.hold(tp);
    records_ready_.notify_all();
    // A getmany() that took records of these partitions just before the hold completes through
    // a posted handler that may be queued behind this task. Let it reach the application
    // first (handlers run in order), so no record of a partition arrives after its
    // on_partitions_revoked() started (the auto-commit below counts it as consumed). Two hops:
    // co_spawn's completion post and the handler's dispatch.
    const auto ex = co_await asio::this_coro::executor;
    for (int hop = 0; hop < 2; ++hop) co_await asio::post(ex, asio::use_awaitable);
  }
  if (!a.lost && config_.enable_auto_commit && usable()) {
    // Commit what the application consumed of them before they go (a failure is the
    // listener's to see in committed(); the rebalance goes on, as in the Java client).
    std::function<std::map<TopicPartition, OffsetAndMetadata>()> make = [this, parts = a.partitions] {
      std::map<TopicPartition, OffsetAndMetadata> offsets;
      const auto consumed = consumed_offsets(true);
      for (const auto& tp : parts) {
        if (const auto it = consumed.find(tp); it != consumed.end()) offsets.insert(*it);
      }
      return offsets;
    };
    const op_error e = co_await commit_in_turn(std::move(make), clock::now() + config_.request_timeout);
    if (e.code) last_group_error_ = "commit before revoking: " + e.message;
  }
  // Named: a temporary in a co_await expression is destroyed twice by GCC 12 (docs/design.md).
  std::shared_ptr<ConsumerRebalanceListener> l;
  if (current || m->state() == consumer::member_state::stopping) l = listener_;
  co_await call_listener(l, a.lost ? 2 : 0, a.partitions);
  if (m == member_) {
    // Still held (not given back by a newer assignment meanwhile): gone now.
    std::vector<TopicPartition> keep;
    for (const auto& tp : sub_.assignment()) {
      const consumer::partition_state* s = sub_.find(tp);
      const bool revoked = std::find(a.partitions.begin(), a.partitions.end(), tp) != a.partitions.end();
      if (!(revoked && s && s->held)) keep.push_back(tp);
    }
    sub_.assign(keep);
    records_ready_.notify_all();
    wake_fetcher();
  }
  m->revocation_done(clock::now());
  group_wake_.notify_all();
}

asio::awaitable<void> consumer_impl::assign_task(std::shared_ptr<member_slot> m, consumer::assign a) {
  if (m == member_ && usable()) {
    sub_.assign(a.assignment);
    for (const auto& tp : a.assignment) {
      cluster_->metadata().track(tp.topic);
      if (std::find(a.added.begin(), a.added.end(), tp) != a.added.end()) {
        sub_.hold(tp);  // until the listener has run (it may seek)
      } else {
        sub_.release(tp);
      }
    }
    wake_fetcher();  // positions of the new partitions are looked up meanwhile
    std::shared_ptr<ConsumerRebalanceListener> l = listener_;
    co_await call_listener(l, 1, a.added);
    if (m == member_) {
      for (const auto& tp : a.added) sub_.release(tp);
      records_ready_.notify_all();
      wake_fetcher();
    }
  }
  m->assignment_done(clock::now());
  group_wake_.notify_all();
}

}  // namespace asiokafka::detail
