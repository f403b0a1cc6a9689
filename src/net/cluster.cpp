#include "net/cluster.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::net {

namespace asio = boost::asio;
namespace msg = protocol::messages;

namespace {

failure cancelled(const std::string& what) {
  return failure(std::make_error_code(std::errc::operation_canceled), what + ": cancelled");
}

}  // namespace

std::shared_ptr<cluster> cluster::create(asio::any_io_executor executor, ClientConfig config) {
  std::shared_ptr<cluster> c(new cluster(std::move(executor), std::move(config)));
  // A connection that broke: its broker may be gone, so route with fresh metadata and find
  // the coordinators it hosted again. The pool has already counted the reconnect backoff.
  c->on_broker_failure_ = c->pool_.failures().subscribe([raw = c.get()](const broker_failure& f) {
    raw->metadata_.mark_urgent();
    if (f.node >= 0) raw->coordinators_.invalidate_node(f.node);
  });
  // Their tasks keep the cluster alive until they end (shutdown cancels them).
  c->pool_.start(c);
  c->coordinators_.start(c);
  return c;
}

cluster::cluster(asio::any_io_executor executor, ClientConfig config)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      bootstrap_(parse_bootstrap_servers(config_.bootstrap_servers)),
      pool_(executor_, config_, [this](std::int32_t node) { return address_of(node); }),
      metadata_(executor_, config_, [this](request_base& r) { return send_any(r, {}); }),
      coordinators_(executor_, config_, [this](request_base& r) { return send_any(r, {}); }) {}

cluster::~cluster() { shutdown_now(); }

failure cluster::closed_failure(std::string what) const {
  return failure(client_errc::client_closed, std::move(what) + ": the client is " + (closed_ ? "closed" : "not started"));
}

std::optional<BrokerAddress> cluster::address_of(std::int32_t node) const {
  if (node < 0) {
    const auto index = static_cast<std::size_t>(-(static_cast<std::int64_t>(node) + 1));
    if (index >= bootstrap_.size()) return std::nullopt;
    return bootstrap_[index];
  }
  if (const BrokerMetadata* b = metadata_.cache().broker(node)) {
    if (b->port > 0 && b->port <= 65535) return BrokerAddress{b->host, static_cast<std::uint16_t>(b->port)};
    return std::nullopt;
  }
  return coordinators_.address_of(node);
}

std::optional<std::int32_t> cluster::pick_any_node() {
  const auto load = [this](std::int32_t id) { return pool_.load(id); };
  if (const BrokerMetadata* b = metadata_.cache().any_broker(load, rotation_++)) return b->node_id;
  if (bootstrap_.empty()) return std::nullopt;
  // No known broker is usable: fall back to the bootstrap addresses (as KIP-899's
  // rebootstrap), the one whose backoff ends first.
  std::int32_t best = -1;
  time_point best_at = time_point::max();
  for (std::size_t i = 0; i < bootstrap_.size(); ++i) {
    const auto node = static_cast<std::int32_t>(-1 - static_cast<std::int64_t>(i));
    const time_point at = pool_.ready_at(node);
    if (at < best_at) {
      best_at = at;
      best = node;
    }
  }
  return best;
}

asio::awaitable<failure> cluster::send_any(request_base& request, request_options options) {
  const auto node = pick_any_node();
  if (!node) co_return failure(client_errc::no_broker_available, "no broker is known");
  co_return co_await pool_.send(*node, purpose_of(request.api_key), request, options);
}

asio::awaitable<failure> cluster::send_to_node(std::int32_t node, ConnectionPurpose purpose, request_base& request,
                                               request_options options) {
  return pool_.send(node, purpose, request, options);
}

asio::awaitable<failure> cluster::call(route where, request_base& request, request_options options) {
  using kind = route::kind;
  if (closed_ || !started_) co_return closed_failure(api_name(request.api_key));
  failure f;
  switch (where.target) {
    case kind::any: f = co_await send_any(request, options); break;
    case kind::node:
      if (!address_of(where.node_id)) {
        const auto deadline = clock::now() + options.timeout.value_or(config_.request_timeout);
        f = co_await metadata_.refresh(std::vector<std::string>(), false, deadline);
        if (f) break;
      }
      f = co_await pool_.send(where.node_id, purpose_of(request.api_key), request, options);
      break;
    case kind::leader: f = co_await call_leader(where, request, options); break;
    case kind::coordinator: f = co_await call_coordinator(where, request, options); break;
    case kind::controller: f = co_await call_controller(request, options); break;
  }
  if (f && closed_ && f.code != client_errc::client_closed) {
    f.code = client_errc::client_closed;
    f.message += " (the client was closed)";
  }
  co_return f;
}

asio::awaitable<failure> cluster::call_leader(const route& where, request_base& request, request_options options) {
  const std::string label = "topic '" + where.name + "' partition " + std::to_string(where.partition);
  const auto deadline = clock::now() + options.timeout.value_or(config_.request_timeout);
  bool refreshed = false;
  std::int32_t node = -1;
  // Until the cache names a leader, or a final answer, or the deadline (each refresh waits
  // for leaders within it).
  for (;;) {
    const leader_lookup lk = metadata_.cache().leader_for(where.name, where.partition);
    if (lk.status == leader_status::ok) {
      node = lk.broker->node_id;
      break;
    }
    if (lk.status == leader_status::topic_error) co_return failure(lk.ec, label);
    if (refreshed && lk.status == leader_status::unknown_partition) {
      co_return failure(kafka_errc::unknown_topic_or_partition, label + " does not exist");
    }
    if (clock::now() >= deadline) co_return failure(lk.ec ? lk.ec : make_error_code(kafka_errc::leader_not_available),
                                                     label + ": no leader before the deadline");
    std::vector<std::string> topics{where.name};  // named: no braced list inside co_await (GCC 12)
    if (failure f = co_await metadata_.refresh(std::move(topics), true, deadline)) co_return f.prefix(label);
    refreshed = true;
  }
  failure f = co_await pool_.send(node, purpose_of(request.api_key), request, options);
  // The leader may be gone: refresh early. Errors inside an answer are the caller's (only it
  // knows whether resending is safe).
  if (f && protocol::classify(f.code).transport) metadata_.invalidate(where.name, where.partition, f.code);
  co_return f;
}

asio::awaitable<failure> cluster::call_coordinator(const route& where, request_base& request,
                                                   request_options options) {
  const auto deadline = clock::now() + options.timeout.value_or(config_.request_timeout);
  for (;;) {
    outcome<BrokerMetadata> c = co_await coordinators_.find(where.coordinator, where.name, deadline);
    if (!c) co_return std::move(c.error());
    failure f = co_await pool_.send(c->node_id, where.purpose.value_or(purpose_of(request.api_key)), request, options);
    const std::error_code ec = f ? f.code : make_kafka_error(request.top_level_error());
    if (!ec) co_return failure{};
    const coordinator_action action = coordinators_.on_error(where.coordinator, where.name, ec);
    // Resend only what the coordinator surely did not act on: an answer rejecting the request
    // as a whole (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS),
    // or a request that never reached it (a connection that could not be made).
    const bool retriable = action == coordinator_action::rediscover || action == coordinator_action::retry;
    const bool resend = retriable && (!f || !f.maybe_sent());
    const auto next = clock::now() + config_.retry_backoff;
    if (!resend || next >= deadline || closed_) co_return f;  // an answer with its error is the caller's
    if (!co_await sleep_until(next)) co_return cancelled(api_name(request.api_key));
  }
}

asio::awaitable<failure> cluster::call_controller(request_base& request, request_options options) {
  const auto deadline = clock::now() + options.timeout.value_or(config_.request_timeout);
  // Sent at most twice: once more after NOT_CONTROLLER and a refresh.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto& cache = metadata_.cache();
    if (cache.controller_id() < 0 || cache.broker(cache.controller_id()) == nullptr) {
      if (failure f = co_await metadata_.refresh(std::vector<std::string>(), false, deadline)) co_return f;
    }
    const std::int32_t id = metadata_.cache().controller_id();
    if (id < 0) co_return failure(client_errc::no_broker_available, "the cluster metadata names no controller");
    if (failure f = co_await pool_.send(id, purpose_of(request.api_key), request, options)) co_return f;
    if (!request.has_error(static_cast<std::int16_t>(kafka_errc::not_controller)) || attempt == 1) break;
    metadata_.mark_urgent();  // the controller moved: learn where, then resend once
    if (failure f = co_await metadata_.refresh(std::vector<std::string>(), false, deadline)) co_return f;
  }
  co_return failure{};
}

asio::awaitable<failure> cluster::start() {
  if (closed_) co_return closed_failure("start");
  if (started_) co_return failure{};
  std::string failures;
  for (std::size_t i = 0; i < bootstrap_.size() && !started_; ++i) {
    const auto node = static_cast<std::int32_t>(-1 - static_cast<std::int64_t>(i));
    const metadata_scope scope;
    auto request = metadata_service::make_request(scope, config_.allow_auto_create_topics);
    failure f = co_await pool_.send(node, ConnectionPurpose::other, request);
    if (closed_) co_return closed_failure("start");
    if (f) {
      // Authentication and TLS verification failures are the answer: the other addresses
      // belong to the same cluster with the same credentials.
      if (!protocol::classify(f.code).transport) co_return f;
      failures += (failures.empty() ? "" : "; ") + f.message;
      continue;
    }
    metadata_.apply(request.message(), scope);
    started_ = true;
  }
  if (!started_) {
    std::string list;
    for (const auto& a : bootstrap_) list += (list.empty() ? "" : ", ") + a.host + ":" + std::to_string(a.port);
    co_return failure(client_errc::connection_failed, "could not bootstrap from " + list + " (" + failures + ")");
  }
  // The bootstrap connections served their purpose; brokers are reached by node id from now.
  pool_.close_bootstrap_connections();
  metadata_.start(weak_from_this());
  co_return failure{};
}

void cluster::shutdown_now() {
  if (closed_) return;
  closed_ = true;
  metadata_.shutdown();
  coordinators_.shutdown();
  pool_.shutdown();
}

asio::awaitable<void> cluster::close() {
  const auto keep = shared_from_this();
  closed_ = true;
  metadata_.shutdown();
  coordinators_.shutdown();
  co_await pool_.close();
  const auto deadline = clock::now() + config_.request_timeout;
  co_await metadata_.join(deadline);
  co_await coordinators_.join(deadline);
}

}  // namespace asiokafka::net
