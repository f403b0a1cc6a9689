#include "net/cluster.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/kafka_error.hpp"
#include "asiokafka/tls.hpp"

namespace asiokafka::net {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using asio::use_awaitable;
using clock_type = std::chrono::steady_clock;

namespace {

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
  }
  return "unknown error";
}

/// Failures of the transport (the request may not have reached the broker, or its answer was
/// lost), as opposed to answers, authentication and TLS verification.
bool is_transport_error(std::error_code ec) {
  return ec == client_errc::connection_failed || ec == client_errc::connection_lost ||
         ec == client_errc::connection_closed || ec == client_errc::timeout ||
         ec == client_errc::no_broker_available;
}

coordinator_type to_net(CoordinatorType t) { return static_cast<coordinator_type>(static_cast<std::int8_t>(t)); }

std::string coordinator_label(coordinator_type t) {
  switch (t) {
    case coordinator_type::group: return "group";
    case coordinator_type::transaction: return "transaction";
    case coordinator_type::share: return "share";
  }
  return "coordinator";
}

/// FindCoordinator, whose request shape depends on the version (one key before v4, a list
/// from v4), so it is built only once the connection's version is known.
class find_coordinator_call final : public asiokafka::detail::request_base {
 public:
  find_coordinator_call(coordinator_type type, std::string key)
      : request_base(msg::FindCoordinatorRequest::api_key, msg::FindCoordinatorRequest::max_version, true),
        type_(type),
        keys_{std::move(key)} {}

  std::error_code encode(std::int16_t version, std::vector<std::uint8_t>& out) const override {
    // key_type exists from v1; before that only group coordinators can be found.
    if (type_ != coordinator_type::group && version < 1) return client_errc::unsupported_version;
    const auto request = coordinator_cache::make_request(type_, keys_, version);
    return request.encode(out, version);
  }
  std::error_code decode(frame body, std::int16_t version, std::int32_t) override {
    storage_ = std::move(body);
    version_ = version;
    return response.decode(storage_.bytes(), version);
  }
  std::int16_t top_level_error() const noexcept override { return 0; }  // per key, see apply()
  std::int32_t throttle_time_ms() const noexcept override { return response.throttle_time_ms; }

  const std::vector<std::string>& keys() const noexcept { return keys_; }
  std::int16_t version() const noexcept { return version_; }

  msg::FindCoordinatorResponse response;

 private:
  coordinator_type type_;
  std::vector<std::string> keys_;
  frame storage_;
  std::int16_t version_ = 0;
};

}  // namespace

// --- notifier -------------------------------------------------------------------------------

struct notifier::entry {
  entry(const asio::any_io_executor& ex, time_point deadline) : timer(ex, deadline) {}
  asio::steady_timer timer;
  bool fired = false;
};

asio::awaitable<bool> notifier::wait_until(time_point deadline) {
  const auto ex = co_await asio::this_coro::executor;
  entry e(ex, deadline);
  const auto it = waiters_.insert(waiters_.end(), &e);
  bool aborted = false;
  try {
    boost::system::error_code ec;
    co_await e.timer.async_wait(asio::redirect_error(use_awaitable, ec));
  } catch (const boost::system::system_error&) {
    aborted = true;  // Asio throws when the awaiting operation was cancelled
  }
  waiters_.erase(it);
  if (e.fired) co_return true;
  const auto cs = co_await asio::this_coro::cancellation_state;
  if (aborted || cs.cancelled() != asio::cancellation_type::none) {
    throw std::system_error(std::make_error_code(std::errc::operation_canceled), "operation cancelled");
  }
  co_return false;
}

void notifier::notify_all() {
  for (entry* e : waiters_) {
    e->fired = true;
    e->timer.cancel();
  }
}

// --- Cluster --------------------------------------------------------------------------------

Cluster::Cluster(asio::any_io_executor executor, ClientConfig config)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      bootstrap_(parse_bootstrap_servers(config_.bootstrap_servers)),
      cache_(metadata_cache_config{.metadata_max_age = config_.metadata_max_age}),
      scheduler_(refresh_config{.retry_backoff = config_.retry_backoff}),
      backoff_(backoff_config{.reconnect_backoff = config_.reconnect_backoff,
                              .reconnect_backoff_max = config_.reconnect_backoff_max}),
      idle_(config_.connections_max_idle),
      wakeup_(executor_, time_point::max()) {
  if ((config_.security_protocol == SecurityProtocol::ssl || config_.security_protocol == SecurityProtocol::sasl_ssl) &&
      !config_.ssl_context) {
    config_.ssl_context = create_ssl_context(TlsOptions{});
  }
}

Cluster::~Cluster() = default;

void Cluster::check_open() const {
  if (closed_) throw std::system_error(client_errc::client_closed, "the client is closed");
}

ConnectionOptions Cluster::connection_options() const {
  ConnectionOptions o;
  o.client_id = config_.client_id;
  o.request_timeout = config_.request_timeout;
  o.connect_timeout = config_.connect_timeout;
  if (config_.security_protocol == SecurityProtocol::ssl || config_.security_protocol == SecurityProtocol::sasl_ssl) {
    o.tls = ConnectionTls{.context = config_.ssl_context, .verify_hostname = config_.ssl_check_hostname};
  }
  if (config_.security_protocol == SecurityProtocol::sasl_plaintext ||
      config_.security_protocol == SecurityProtocol::sasl_ssl) {
    o.sasl = config_.sasl;
  }
  o.max_in_flight_requests = config_.max_in_flight_requests_per_connection;
  o.max_response_bytes = config_.max_response_bytes;
  return o;
}

void Cluster::spawn(asio::awaitable<void> task) {
  const auto it = signals_.emplace(signals_.end());
  ++running_tasks_;
  auto self = shared_from_this();
  asio::co_spawn(executor_, std::move(task),
                 asio::bind_cancellation_slot(it->slot(), [self, it](const std::exception_ptr&) {
                   // A signal may not be destroyed from inside its own slot's handler.
                   asio::post(self->executor_, [self, it] {
                     self->signals_.erase(it);
                     if (--self->running_tasks_ == 0) self->tasks_done_.notify_all();
                   });
                 }));
}

asio::awaitable<void> Cluster::sleep_until(time_point t) {
  asio::steady_timer timer(executor_, t);
  co_await timer.async_wait(use_awaitable);
}

std::optional<Cluster::address> Cluster::address_of(std::int32_t node) const {
  if (node < 0) {
    const auto index = static_cast<std::size_t>(-(node + 1));
    if (index >= bootstrap_.size()) return std::nullopt;
    return address{bootstrap_[index].host, bootstrap_[index].port};
  }
  if (const broker_info* b = cache_.broker(node)) {
    if (b->port > 0 && b->port <= 65535) return address{b->host, static_cast<std::uint16_t>(b->port)};
    return std::nullopt;
  }
  const auto it = coordinator_addresses_.find(node);
  if (it != coordinator_addresses_.end()) return it->second;
  return std::nullopt;
}

std::optional<std::int32_t> Cluster::pick_any_node() {
  const auto now = clock_type::now();
  auto load = [&](std::int32_t id) {
    node_load l;
    for (const auto p : {ConnectionPurpose::produce, ConnectionPurpose::fetch, ConnectionPurpose::group,
                         ConnectionPurpose::other}) {
      const auto it = slots_.find(make_connection_key(id, p));
      if (it == slots_.end()) continue;
      l.in_flight += it->second.in_flight;
      if (it->second.conn && it->second.conn->is_open()) l.connected = true;
    }
    l.usable = l.connected || backoff_.can_connect(id, now);
    return l;
  };
  if (const broker_info* b = cache_.any_broker(load, rotation_++)) return b->id;
  if (bootstrap_.empty()) return std::nullopt;
  // No known broker is usable: fall back to the bootstrap addresses (as KIP-899's
  // rebootstrap), the one whose backoff ends first.
  std::optional<std::int32_t> best;
  time_point best_at = time_point::max();
  for (std::size_t i = 0; i < bootstrap_.size(); ++i) {
    const auto id = static_cast<std::int32_t>(-1 - static_cast<std::int64_t>((i + rotation_) % bootstrap_.size()));
    const time_point at = backoff_.ready_at(id);
    if (!best || at < best_at) {
      best = id;
      best_at = at;
    }
  }
  return best;
}

void Cluster::drop(slot& s) {
  if (!s.conn) return;
  s.conn.reset();  // the handle's destructor fails what is pending and closes the socket
  idle_.remove(make_connection_key(s.node, s.purpose));
  if (closed_) return;
  backoff_.on_failure(s.node, clock_type::now());
  if (s.node >= 0) coordinators_.invalidate_node(s.node);
  cache_.mark_urgent();  // a broker went away: the cluster may have changed
  poke();
}

asio::awaitable<Cluster::slot*> Cluster::get_connection(std::int32_t node, ConnectionPurpose purpose,
                                                        time_point deadline) {
  const connection_key key = make_connection_key(node, purpose);
  // Each round either returns, throws, or waits for an attempt or a backoff to end, so a
  // few rounds always suffice; the bound only guards against a logic error.
  for (int round = 0; round < 64; ++round) {
    check_open();
    const auto addr = address_of(node);
    if (!addr) {
      throw std::system_error(client_errc::no_broker_available,
                              "broker " + std::to_string(node) + " is not in the cluster metadata");
    }
    slot& s = slots_[key];
    s.node = node;
    s.purpose = purpose;
    if (s.conn && !s.conn->is_open()) drop(s);
    if (s.conn && (s.host != addr->host || s.port != addr->port) && s.in_flight == 0) {
      // The broker moved (a new advertised listener): reconnect to the new address.
      s.conn.reset();
      idle_.remove(key);
    }
    if (s.conn) co_return &s;
    if (!s.connecting) {
      const auto now = clock_type::now();
      const time_point ready = backoff_.ready_at(node);
      if (ready > now) {
        if (ready > deadline) {
          const std::string last = s.last_error ? ": last attempt: " + what_of(s.last_error) : std::string();
          throw std::system_error(
              client_errc::connection_failed,
              addr->host + ":" + std::to_string(addr->port) + " (broker " + std::to_string(node) +
                  ") is in reconnect backoff beyond the request deadline" + last);
        }
        co_await sleep_until(ready);
        continue;
      }
      s.host = addr->host;
      s.port = addr->port;
      s.connecting = true;
      s.last_error = nullptr;
      spawn(connect_task(key));
    }
    const bool woke = co_await s.done.wait_until(deadline);
    check_open();
    if (s.conn) co_return &s;
    if (!woke) {
      throw std::system_error(client_errc::timeout, s.host + ":" + std::to_string(s.port) +
                                                        ": no connection within the request timeout");
    }
    if (s.last_error) std::rethrow_exception(s.last_error);
  }
  throw std::system_error(client_errc::connection_failed, "no connection to broker " + std::to_string(node));
}

asio::awaitable<void> Cluster::connect_task(connection_key key) {
  slot& s = slots_.at(key);
  const std::string host = s.host;
  const std::uint16_t port = s.port;
  const ConnectionOptions options = connection_options();
  std::exception_ptr failure;
  try {
    Connection c = co_await connect(executor_, host, port, options);
    if (closed_) {
      co_await c.close();
      throw std::system_error(client_errc::client_closed, "the client is closed");
    }
    s.conn.emplace(std::move(c));
    backoff_.on_success(s.node);
    idle_.touch(key, clock_type::now());
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    s.last_error = failure;
    if (!closed_) {
      backoff_.on_failure(s.node, clock_type::now());
      if (s.node >= 0) coordinators_.invalidate_node(s.node);
    }
  }
  s.connecting = false;
  s.done.notify_all();
  poke();  // the idle timer may need re-arming
}

asio::awaitable<void> Cluster::call_node(std::int32_t node, ConnectionPurpose purpose,
                                         asiokafka::detail::request_base& request) {
  const time_point deadline = clock_type::now() + config_.request_timeout;
  slot* s = co_await get_connection(node, purpose, deadline);
  const connection_key key = make_connection_key(node, purpose);
  // Built only on the error paths: nothing is formatted per request.
  const auto where = [s, node] { return s->host + ":" + std::to_string(s->port) + " (broker " + std::to_string(node) + ")"; };
  const std::int16_t version = s->conn->version_for(request.api_key, request.max_version);
  if (version < 0) {
    throw std::system_error(client_errc::unsupported_version,
                            where() + ": no version of " + api_name(request.api_key) + " supported by both sides");
  }
  std::vector<std::uint8_t> body;
  if (const auto ec = request.encode(version, body)) {
    throw std::system_error(ec, where() + ": encoding " + api_name(request.api_key) + " v" + std::to_string(version));
  }
  ++s->in_flight;
  idle_.touch(key, clock_type::now());
  idle_.set_busy(key, true);
  frame answer;
  std::exception_ptr failure;
  {
    auto op = s->conn->send_raw(request.api_key, version, std::move(body), request.expects_response);
    try {
      answer = co_await std::move(op);
    } catch (...) {
      failure = std::current_exception();
    }
  }
  --s->in_flight;
  const auto done_at = clock_type::now();
  idle_.touch(key, done_at);
  idle_.set_busy(key, s->in_flight > 0);
  // Idle from now: make sure the reaper's timer covers this connection.
  if (s->in_flight == 0 && done_at + config_.connections_max_idle < wakeup_.expiry()) poke();
  if (failure) {
    if (s->conn && !s->conn->is_open()) drop(*s);
    std::rethrow_exception(failure);
  }
  if (const auto ec = request.decode(std::move(answer), version, node)) {
    if (s->conn) s->conn->report_malformed(request.api_key, version, ec);
    drop(*s);
    throw std::system_error(ec, where() + ": " + api_name(request.api_key) + " v" + std::to_string(version) +
                                    " response does not decode; the connection was closed");
  }
  if (const auto t = request.throttle_time_ms(); t > 0 && s->conn) s->conn->apply_throttle(t);
}

asio::awaitable<void> Cluster::call(const asiokafka::detail::route& where, asiokafka::detail::request_base& request) {
  using kind = asiokafka::detail::route::kind;
  check_open();
  if (!started_) throw std::system_error(client_errc::client_closed, "the client is not started");
  try {
    switch (where.target) {
      case kind::any: {
        const auto node = pick_any_node();
        if (!node) throw std::system_error(client_errc::no_broker_available, "no broker is known");
        co_await call_node(*node, purpose_of(request.api_key), request);
        break;
      }
      case kind::node: {
        if (!address_of(where.node_id)) {
          const std::vector<std::string> none;
          co_await refresh(none, false);
        }
        co_await call_node(where.node_id, purpose_of(request.api_key), request);
        break;
      }
      case kind::leader: co_await call_leader(where, request); break;
      case kind::coordinator: co_await call_coordinator(where, request); break;
      case kind::controller: co_await call_controller(request); break;
    }
  } catch (const std::system_error& e) {
    if (closed_ && e.code() != client_errc::client_closed) throw std::system_error(client_errc::client_closed, e.what());
    throw;
  }
}

asio::awaitable<void> Cluster::call_leader(const asiokafka::detail::route& where,
                                           asiokafka::detail::request_base& request) {
  const std::vector<std::string> topics{where.name};
  const std::string label = "'" + where.name + "' partition " + std::to_string(where.partition);
  std::int32_t node = -1;
  for (int attempt = 0;; ++attempt) {
    const leader_lookup lk = cache_.leader_for(where.name, where.partition);
    if (lk.status == leader_status::ok) {
      node = lk.broker->id;
      break;
    }
    if (lk.status == leader_status::topic_error) throw std::system_error(lk.ec, "topic " + label);
    if (attempt > 0 && lk.status == leader_status::unknown_partition) {
      throw std::system_error(kafka_errc::unknown_topic_or_partition, "topic " + label + " does not exist");
    }
    if (attempt >= 3) {
      throw std::system_error(lk.ec ? lk.ec : std::error_code(kafka_errc::leader_not_available),
                              "topic " + label + ": no leader");
    }
    co_await refresh(topics, true);  // bounded by request_timeout
  }
  try {
    co_await call_node(node, purpose_of(request.api_key), request);
  } catch (const std::system_error& e) {
    // The leader may be gone: refresh early. Answers carry their own errors for the caller.
    if (is_transport_error(e.code())) invalidate_leader(where.name, where.partition, e.code());
    throw;
  }
}

asio::awaitable<void> Cluster::call_coordinator(const asiokafka::detail::route& where,
                                                asiokafka::detail::request_base& request) {
  const coordinator_type type = to_net(where.coordinator);
  const time_point deadline = clock_type::now() + config_.request_timeout;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const coordinator_info info = co_await coordinator(type, where.name);
    std::exception_ptr failure;
    std::error_code ec;
    try {
      co_await call_node(info.node_id, purpose_of(request.api_key), request);
    } catch (const std::system_error& e) {
      failure = std::current_exception();
      ec = e.code();
    }
    if (!failure) ec = make_kafka_error(request.top_level_error());
    if (!ec) co_return;
    const coordinator_action action = coordinators_.on_error(type, where.name, ec);
    // Resend only what the coordinator surely did not act on: an answer that rejects the
    // request as a whole, or a connection that never reached it.
    const bool resend = action != coordinator_action::fail && action != coordinator_action::none &&
                        (!failure || ec == client_errc::connection_failed);
    const auto next = clock_type::now() + config_.retry_backoff;
    if (!resend || next >= deadline) {
      if (failure) std::rethrow_exception(failure);
      co_return;  // the answer, with its error, is the caller's
    }
    co_await sleep_until(next);
  }
}

asio::awaitable<void> Cluster::call_controller(asiokafka::detail::request_base& request) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (cache_.controller_id() < 0 || cache_.broker(cache_.controller_id()) == nullptr) {
      const std::vector<std::string> none;
      co_await refresh(none, false);
    }
    const std::int32_t id = cache_.controller_id();
    if (id < 0) throw std::system_error(client_errc::no_broker_available, "the cluster metadata names no controller");
    co_await call_node(id, purpose_of(request.api_key), request);
    if (request.top_level_error() != static_cast<std::int16_t>(kafka_errc::not_controller)) co_return;
    cache_.mark_urgent();  // the controller moved: learn where, then resend once
    const std::vector<std::string> none;
    co_await refresh(none, false);
  }
}

asio::awaitable<void> Cluster::refresh(const std::vector<std::string>& topics, bool wait_for_leaders) {
  check_open();
  if (!started_) throw std::system_error(client_errc::client_closed, "the client is not started");
  refresh_ask ask;
  ask.topics = topics;
  ask.wait_for_leaders = wait_for_leaders;
  ask.deadline = clock_type::now() + config_.request_timeout;
  const waiter_id id = scheduler_.ask(std::move(ask));
  refresh_waiter w;
  refresh_waiters_.emplace(id, &w);
  poke();
  bool cancelled = false;
  try {
    for (int round = 0; !w.result && !closed_ && round < 1000; ++round) {
      (void)co_await w.done.wait_until(time_point::max());
    }
  } catch (const std::system_error&) {
    cancelled = true;
  }
  refresh_waiters_.erase(id);
  if (cancelled) {
    scheduler_.cancel(id);
    throw std::system_error(std::make_error_code(std::errc::operation_canceled), "metadata refresh cancelled");
  }
  check_open();
  if (!w.result) throw std::system_error(client_errc::timeout, "metadata refresh did not complete");
  if (*w.result) {
    std::string names;
    for (const auto& t : topics) names += (names.empty() ? "" : ", ") + t;
    throw std::system_error(*w.result, "metadata refresh" + (names.empty() ? std::string() : " for " + names));
  }
}

asio::awaitable<void> Cluster::refresh_loop() {
  while (!closed_) {
    const auto now = clock_type::now();
    scheduler_.expire(now);
    if (!scheduler_.in_flight()) {
      if (auto plan = scheduler_.poll(now, cache_)) spawn(refresh_task(std::move(*plan)));
    }
    while (auto done = scheduler_.next_completion()) {
      const auto it = refresh_waiters_.find(done->id);
      if (it == refresh_waiters_.end()) continue;
      it->second->result = done->ec;
      it->second->done.notify_all();
    }
    for (const connection_key key : idle_.reap(now)) {
      const auto it = slots_.find(key);
      if (it != slots_.end() && it->second.in_flight == 0) it->second.conn.reset();
    }
    std::optional<time_point> next = scheduler_.next_wakeup(cache_);
    if (const auto idle_at = idle_.next_expiry(); idle_at && (!next || *idle_at < *next)) next = idle_at;
    wakeup_.expires_at(next ? std::max(*next, now) : time_point::max());
    try {
      boost::system::error_code ignored;
      co_await wakeup_.async_wait(asio::redirect_error(use_awaitable, ignored));
    } catch (const boost::system::system_error&) {
      break;  // the task was cancelled: the client is closing
    }
  }
}

asio::awaitable<void> Cluster::refresh_task(refresh_plan plan) {
  std::error_code failure;
  const auto node = pick_any_node();
  if (!node) {
    failure = client_errc::no_broker_available;
  } else {
    asiokafka::detail::typed_request<msg::MetadataRequest> request(
        make_metadata_request(plan.scope, config_.allow_auto_create_topics), msg::MetadataRequest::max_version);
    try {
      co_await call_node(*node, ConnectionPurpose::other, request);
      (void)scheduler_.on_response(plan.generation, request.result.message, cache_, clock_type::now());
    } catch (const std::system_error& e) {
      failure = e.code();
    } catch (const boost::system::system_error& e) {
      failure = e.code();
    }
  }
  if (failure) scheduler_.on_failure(plan.generation, failure, clock_type::now());
  poke();
}

asio::awaitable<coordinator_info> Cluster::coordinator(coordinator_type type, const std::string& key) {
  check_open();
  const time_point deadline = clock_type::now() + config_.request_timeout;
  const auto lookup_key = std::make_pair(type, key);
  // A found coordinator can be invalidated again before this waiter resumes (a lost
  // connection): then look it up once more, within the same deadline.
  for (int round = 0; round < 16; ++round) {
    if (const coordinator_info* c = coordinators_.find(type, key)) co_return *c;
    std::shared_ptr<lookup> l;
    if (const auto it = lookups_.find(lookup_key); it != lookups_.end()) {
      l = it->second;  // a lookup for this key is running: share it
    } else {
      l = std::make_shared<lookup>();
      lookups_.emplace(lookup_key, l);
      spawn(lookup_task(type, key));
    }
    const bool woke = co_await l->done.wait_until(deadline);
    check_open();
    if (const coordinator_info* c = coordinators_.find(type, key)) co_return *c;
    if (!woke || !l->result) break;
    if (*l->result) throw std::system_error(*l->result, l->message);
  }
  throw std::system_error(client_errc::timeout, coordinator_label(type) + " coordinator for '" + key +
                                                    "' not found within the request timeout");
}

asio::awaitable<void> Cluster::lookup_task(coordinator_type type, std::string key) {
  const auto lookup_key = std::make_pair(type, key);
  const time_point deadline = clock_type::now() + config_.request_timeout;
  const std::string label = coordinator_label(type) + " coordinator for '" + key + "'";
  std::error_code result = client_errc::timeout;
  std::string message = label + ": not found within the request timeout";
  for (int attempt = 0; attempt < 1000 && !closed_; ++attempt) {
    std::error_code ec;
    std::string why;
    const auto node = pick_any_node();
    if (!node) {
      ec = client_errc::no_broker_available;
      why = "no broker to ask";
    } else {
      find_coordinator_call call(type, key);
      try {
        co_await call_node(*node, ConnectionPurpose::other, call);
        const auto results = coordinators_.apply(type, call.keys(), call.response, call.version());
        if (!results.empty() && !results.front().ec && results.front().coordinator) {
          const auto& c = *results.front().coordinator;
          if (c.port > 0 && c.port <= 65535) {
            coordinator_addresses_[c.node_id] = address{c.host, static_cast<std::uint16_t>(c.port)};
          }
          result = {};
          message.clear();
          break;
        }
        ec = results.empty() ? std::error_code(kafka_errc::coordinator_not_available) : results.front().ec;
        why = ec.message();
      } catch (const std::system_error& e) {
        ec = e.code();
        why = e.what();
      } catch (const boost::system::system_error& e) {
        ec = e.code();
        why = e.what();
      }
    }
    result = ec;
    message = label + ": " + why;
    // A malformed answer closed its connection; asking again (on a new one) is safe.
    const bool resend = is_transport_error(ec) || ec == client_errc::malformed || ec == client_errc::truncated;
    const coordinator_action action = resend ? coordinator_action::retry : classify_coordinator_error(ec);
    const auto next = clock_type::now() + config_.retry_backoff;
    if (action == coordinator_action::fail || next >= deadline || closed_) break;
    try {
      co_await sleep_until(next);
    } catch (const boost::system::system_error&) {
      break;  // cancelled: closing
    }
  }
  const auto it = lookups_.find(lookup_key);
  if (it != lookups_.end()) {
    const auto l = it->second;
    lookups_.erase(it);
    l->result = result;
    l->message = message;
    l->done.notify_all();
  }
}

void Cluster::invalidate_leader(std::string_view topic, std::int32_t partition, std::error_code reason) {
  cache_.invalidate(topic, partition, reason);
  poke();
}

void Cluster::invalidate_coordinator(coordinator_type type, std::string_view key) {
  coordinators_.invalidate(type, key);
}

std::vector<ConnectionInfo> Cluster::connections() const {
  std::vector<ConnectionInfo> out;
  for (const auto& [key, s] : slots_) {
    if (!s.conn || !s.conn->is_open()) continue;
    out.push_back(ConnectionInfo{.node_id = s.node, .purpose = s.purpose, .address = s.conn->address(),
                                 .in_flight = s.in_flight});
  }
  return out;
}

asio::awaitable<void> Cluster::start() {
  check_open();
  if (started_) co_return;
  std::string failures;
  for (std::size_t i = 0; i < bootstrap_.size() && !started_; ++i) {
    const auto node = static_cast<std::int32_t>(-1 - static_cast<std::int64_t>(i));
    const metadata_scope scope;
    asiokafka::detail::typed_request<msg::MetadataRequest> request(
        make_metadata_request(scope, config_.allow_auto_create_topics), msg::MetadataRequest::max_version);
    std::exception_ptr failure;
    std::string why;
    try {
      co_await call_node(node, ConnectionPurpose::other, request);
    } catch (const std::system_error& e) {
      // Authentication and TLS verification failures are the answer: the other addresses
      // belong to the same cluster with the same credentials.
      if (!is_transport_error(e.code())) throw;
      failure = std::current_exception();
      why = e.what();
    }
    check_open();
    if (failure) {
      failures += (failures.empty() ? "" : "; ") + why;
      continue;
    }
    cache_.apply(request.result.message, clock_type::now(), scope);
    started_ = true;
  }
  if (!started_) {
    std::string list;
    for (const auto& a : bootstrap_) list += (list.empty() ? "" : ", ") + a.host + ":" + std::to_string(a.port);
    throw std::system_error(client_errc::connection_failed,
                            "could not bootstrap from " + list + " (" + failures + ")");
  }
  // The bootstrap connections served their purpose; brokers are reached by node id from now.
  for (auto& entry : slots_) {
    slot& s = entry.second;
    if (s.node < 0 && s.conn && s.in_flight == 0) {
      s.conn.reset();
      idle_.remove(entry.first);
    }
  }
  spawn(refresh_loop());
}

void Cluster::shutdown_now() {
  if (closed_) return;
  closed_ = true;
  for (auto& signal : signals_) signal.emit(asio::cancellation_type::terminal);
  wakeup_.cancel();
  for (auto& [key, s] : slots_) {
    s.conn.reset();
    s.done.notify_all();
  }
  for (auto& [id, w] : refresh_waiters_) w->done.notify_all();
  for (auto& [k, l] : lookups_) l->done.notify_all();
}

asio::awaitable<void> Cluster::close() {
  std::vector<Connection> open;
  if (!closed_) {
    for (auto& entry : slots_) {
      slot& s = entry.second;
      if (s.conn) open.push_back(std::move(*s.conn));
      s.conn.reset();
    }
  }
  shutdown_now();
  for (auto& c : open) co_await c.close();
  for (int round = 0; running_tasks_ > 0 && round < 10'000; ++round) {
    (void)co_await tasks_done_.wait_until(time_point::max());
  }
}

}  // namespace asiokafka::net
