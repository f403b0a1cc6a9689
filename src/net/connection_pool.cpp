#include "net/connection_pool.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"
#include "net/sansio/address.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::net {

namespace asio = boost::asio;

connection_key make_connection_key(std::int32_t node, ConnectionPurpose purpose) noexcept {
  return static_cast<connection_key>(node) * 4 + static_cast<connection_key>(purpose);
}

namespace {

const char* purpose_name(ConnectionPurpose p) noexcept {
  switch (p) {
    case ConnectionPurpose::produce: return "produce";
    case ConnectionPurpose::fetch: return "fetch";
    case ConnectionPurpose::group: return "group";
    case ConnectionPurpose::other: return "other";
  }
  return "?";
}

std::string node_label(std::int32_t node) {
  return node < 0 ? "bootstrap address " + std::to_string(-node) : "broker " + std::to_string(node);
}

}  // namespace

/// A request waiting for its slot's connection. The connect task hands it to the connection
/// (in queue order) or fails it; the waiter then awaits `submitted`.
struct connection_pool::queued {
  queued(request_base& r, request_options o, time_point d) : request(r), options(o), deadline(d) {}
  request_base& request;
  request_options options;
  time_point deadline;
  std::optional<asio::awaitable<failure>> submitted;
  std::optional<failure> failed;
};

connection_pool::connection_pool(asio::any_io_executor executor, const ClientConfig& config,
                                 address_lookup address_of)
    : executor_(std::move(executor)),
      options_(connection_options::from(config)),
      address_of_(std::move(address_of)),
      backoff_(backoff_config{.reconnect_backoff = config.reconnect_backoff,
                              .reconnect_backoff_max = config.reconnect_backoff_max}),
      idle_(config.connections_max_idle),
      tasks_(executor_),
      reaper_wakeup_(executor_, time_point::max()) {}

connection_pool::~connection_pool() { shutdown(); }

void connection_pool::start(std::weak_ptr<void> owner) {
  owner_ = std::move(owner);
  tasks_.spawn(reaper(), owner_.lock());
}

connection_pool::slot& connection_pool::slot_for(std::int32_t node, ConnectionPurpose purpose) {
  const auto [it, inserted] = slots_.try_emplace(make_connection_key(node, purpose));
  if (inserted) {
    it->second.node = node;
    it->second.purpose = purpose;
  }
  return it->second;
}

asio::awaitable<failure> connection_pool::immediate(failure f) { co_return f; }

asio::awaitable<failure> connection_pool::send(std::int32_t node, ConnectionPurpose purpose, request_base& request,
                                               request_options options) {
  if (closed_) return immediate(failure(client_errc::client_closed, "the client is closed"));
  slot& s = slot_for(node, purpose);
  const auto key = make_connection_key(node, purpose);
  const auto now = clock::now();
  if (s.conn && !s.conn->is_open()) report_failure(s, s.conn->close_reason());  // found broken while idle
  idle_.touch(key, now);
  if (s.conn && s.queue.empty()) {
    ++s.in_flight;
    idle_.set_busy(key, true);
    request.connection_generation = s.generation;
    auto sent = s.conn->send(request, options);  // queued now: call order is write order
    return track(s, request, std::move(sent));
  }
  const auto deadline = now + options.timeout.value_or(options_.request_timeout);
  if (!s.connecting && backoff_.ready_at(node) >= deadline) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(backoff_.ready_at(node) - now);
    return immediate(failure(client_errc::connection_failed,
                             node_label(node) + " is in reconnect backoff for another " +
                                 std::to_string(wait.count()) + " ms, past the request's deadline"));
  }
  auto q = std::make_shared<queued>(request, options, deadline);
  s.queue.push_back(q);
  ++s.in_flight;
  idle_.set_busy(key, true);
  if (!s.connecting) {
    s.connecting = true;
    tasks_.spawn(connect_task(s), owner_.lock());
  }
  return wait_queued(s, std::move(q));
}

asio::awaitable<failure> connection_pool::track(slot& s, request_base& request, asio::awaitable<failure> sent) {
  const std::uint64_t generation = s.generation;
  failure f = co_await std::move(sent);
  request.node_id = s.node;
  request.connection_generation = generation;
  // The connection this request used broke (lost, timed out, undecodable answer): the one
  // failure path. A cancelled request leaves the connection as it was.
  if (f && s.generation == generation && s.conn && !s.conn->is_open()) report_failure(s, s.conn->close_reason());
  request_done(s);
  co_return f;
}

asio::awaitable<failure> connection_pool::wait_queued(slot& s, std::shared_ptr<queued> q) {
  // Woken when the connect attempt settles; bounded by the request's deadline.
  while (!q->submitted && !q->failed) {
    const wait_status w = co_await s.settled.wait_until(q->deadline);
    if (q->submitted || q->failed) break;
    if (w == wait_status::notified) continue;
    std::erase(s.queue, q);
    request_done(s);
    const std::string what = node_label(s.node) + " (" + purpose_name(s.purpose) + " connection)";
    if (w == wait_status::cancelled) {
      co_return failure(std::make_error_code(std::errc::operation_canceled),
                        what + ": cancelled while waiting for the connection");
    }
    co_return failure(client_errc::timeout, what + ": no connection before the request's deadline");
  }
  if (q->failed) {
    request_done(s);
    co_return std::move(*q->failed);
  }
  auto sent = std::move(*q->submitted);
  q->submitted.reset();
  co_return co_await track(s, q->request, std::move(sent));  // track() ends the count
}

asio::awaitable<void> connection_pool::connect_task(slot& s) {
  // Reconnect backoff first: the broker failed a moment ago.
  if (const auto ready = backoff_.ready_at(s.node); ready > clock::now()) (void)co_await sleep_until(ready);
  outcome<connection> result = failure(client_errc::client_closed, "the client is closed");
  if (!closed_) {
    if (const auto address = address_of_(s.node)) {
      result = co_await connect(executor_, address->host, address->port, options_);
    } else {
      result = failure(client_errc::no_broker_available, node_label(s.node) + " is not in the cluster metadata");
    }
  }
  s.connecting = false;
  if (closed_) {
    result = failure(client_errc::client_closed, "the client is closed");
  } else if (!result) {
    report_failure(s, result.error());
  } else {
    backoff_.on_success(s.node);
    s.conn = std::move(result).value();
    s.generation = next_generation_++;
  }
  // Hand the waiting requests over in queue order, synchronously: none can overtake another.
  std::deque<std::shared_ptr<queued>> waiting;
  waiting.swap(s.queue);
  for (auto& q : waiting) {
    if (result) {
      q->request.connection_generation = s.generation;
      q->submitted = s.conn->send(q->request, q->options);
    } else {
      q->failed = result.error();
    }
  }
  s.settled.notify_all();
}

void connection_pool::request_done(slot& s) {
  if (s.in_flight > 0) --s.in_flight;
  if (s.in_flight != 0) return;
  const auto key = make_connection_key(s.node, s.purpose);
  idle_.set_busy(key, false);
  idle_.touch(key, clock::now());
  if (const auto next = idle_.next_expiry(); next && *next < reaper_wakeup_.expiry()) reaper_wakeup_.cancel();
}

void connection_pool::report_failure(slot& s, const failure& why) {
  s.conn.reset();
  idle_.remove(make_connection_key(s.node, s.purpose));
  if (closed_ || why.code == client_errc::connection_closed) return;  // we closed it ourselves
  backoff_.on_failure(s.node, clock::now());
  failures_.emit(broker_failure{s.node, why});
}

asio::awaitable<void> connection_pool::reaper() {
  while (!closed_) {
    for (const connection_key key : idle_.reap(clock::now())) {
      const auto it = slots_.find(key);
      if (it != slots_.end() && it->second.in_flight == 0) it->second.conn.reset();
    }
    const auto next = idle_.next_expiry();
    reaper_wakeup_.expires_at(next ? *next : time_point::max());
    boost::system::error_code ec;
    try {
      co_await reaper_wakeup_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    } catch (const boost::system::system_error&) {
      break;  // the task was cancelled: closing
    }
  }
}

node_load connection_pool::load(std::int32_t node) const {
  node_load l;
  for (const auto p : {ConnectionPurpose::produce, ConnectionPurpose::fetch, ConnectionPurpose::group,
                       ConnectionPurpose::other}) {
    const auto it = slots_.find(make_connection_key(node, p));
    if (it == slots_.end()) continue;
    l.in_flight += it->second.in_flight;
    if (it->second.conn && it->second.conn->is_open()) l.connected = true;
  }
  l.usable = l.connected || backoff_.can_connect(node, clock::now());
  return l;
}

std::uint64_t connection_pool::generation(std::int32_t node, ConnectionPurpose purpose) const {
  const auto it = slots_.find(make_connection_key(node, purpose));
  return it != slots_.end() && it->second.conn ? it->second.generation : 0;
}

std::int16_t connection_pool::version_for(std::int32_t node, ConnectionPurpose purpose, std::int16_t api_key,
                                          std::int16_t min_version, std::int16_t max_version) const {
  const auto it = slots_.find(make_connection_key(node, purpose));
  if (it == slots_.end() || !it->second.conn || !it->second.conn->is_open()) return -1;
  return it->second.conn->version_for(api_key, min_version, max_version);
}

std::vector<ConnectionInfo> connection_pool::connections() const {
  std::vector<ConnectionInfo> out;
  for (const auto& [key, s] : slots_) {
    if (!s.conn || !s.conn->is_open()) continue;
    out.push_back(ConnectionInfo{.node_id = s.node, .purpose = s.purpose, .address = s.conn->address(),
                                 .in_flight = s.in_flight, .generation = s.generation});
  }
  return out;
}

void connection_pool::close_bootstrap_connections() {
  for (auto& [key, s] : slots_) {
    if (s.node < 0 && s.conn && s.in_flight == 0) {
      s.conn.reset();
      idle_.remove(key);
    }
  }
}

void connection_pool::shutdown() {
  if (closed_) return;
  closed_ = true;
  tasks_.cancel_all();
  reaper_wakeup_.cancel();
  for (auto& [key, s] : slots_) {
    for (auto& q : s.queue) q->failed = failure(client_errc::client_closed, "the client is closed");
    s.queue.clear();
    s.conn.reset();
    s.settled.notify_all();
  }
}

asio::awaitable<void> connection_pool::close() {
  std::vector<connection> open;
  for (auto& [key, s] : slots_) {
    if (s.conn) open.push_back(std::move(*s.conn));
    s.conn.reset();
  }
  shutdown();
  for (auto& c : open) co_await c.close();
  // Cancelled tasks end on their next turn; the deadline is only a backstop (a task that
  // outlives it keeps the cluster alive, so nothing is freed under it).
  (void)co_await tasks_.join(clock::now() + options_.connect_timeout + options_.request_timeout);
}

}  // namespace asiokafka::net
